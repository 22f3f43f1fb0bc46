// The store's start: opens every backend (the boot scan; a failing one does not stop the others), sets the boot
// counter, commits the previous run's retained RAM. Once per boot, so on the device it is in the service module.

import type { Pstore } from "./core";

export function startStore(core: Pstore): void {
  const regs = core.pending_;
  const ram = core.ram;
  let last = 0;
  for (let i = 0; i < regs.length; i++) {
    const b = regs[i];
    try {
      b.open();
      core.backends_.push(b);
      if (b.lastBoot() > last) last = b.lastBoot();
    } catch (e) {
      core.failed_.push({ name: b.name, state: "failed", error: String(e) });
      core.say_("backend " + b.name + " failed: " + e);
      if (b === ram) core.ram = undefined;
    }
  }
  const boot = (core.boot = last + 1);
  for (let i = 0; i < core.backends_.length; i++) if (core.backends_[i] !== ram) core.backends_[i].setBoot(boot);
  if (core.ram) {
    // Commit before the area is cleared, so a failed commit leaves the ring for the next boot.
    const name = (core.committed = core.ram.commitTo(core));
    if (name) core.say_("retained RAM committed as " + name);
    core.ram.setBoot(boot);
  }
  core.say_("boot " + boot);
}
