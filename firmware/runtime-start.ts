// A running pstore's start (runtime.ts): the store's boot scan and the boot event, once per boot. On the device it
// is in the service module, which start() loads for it (firmware/boot-init.ts).

import type { ResetReasonKind } from "../boards/types";
import type { ResetReasonHal } from "../hal/types";
import type { BootInfo } from "../pstore/event";
import { bootEvent } from "../pstore/event-boot";
import { startStore } from "../pstore/core-start";
import { reasonName } from "../pstore/format";
import type { Runtime } from "./runtime";

/** `reset` and `kind`: the reset register and its chip family, which the boot event reads. */
export function startRuntime(r: Runtime, reset: ResetReasonHal, kind: ResetReasonKind): BootInfo | undefined {
  try {
    startStore(r.core);
    r.bootInfo = bootEvent(r.core, r.events_, r.hal, reset, kind);
    if (r.settings_.debug) r.hal.log("pstore: boot " + r.core.boot + ", reset: " + reasonName(r.bootInfo.reason));
  } catch (e) {
    r.hal.log("pstore: start: " + e);
  }
  return r.bootInfo;
}
