// The real-interpreter tier on Espruino's Linux build: every scenario through the real `pstore` command over the
// interpreter's telnet console, checked after every step (test/real/harness.ts, DeviceUnderTest.assertHealthy).

import test, { type ExecutionContext } from "ava";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DeviceUnderTest, tierInterpreter } from "./harness";

const bin = tierInterpreter(test);

/** A fresh Linux build with pstore installed by `pstore install --board LINUX`, checked healthy. */
async function installed(t: ExecutionContext): Promise<DeviceUnderTest> {
  const device = await DeviceUnderTest.linux(bin!);
  t.teardown(() => device.stop());
  const install = await device.pstore(["install", "--board", "LINUX"]);
  t.is(install.code, 0, `pstore install: ${install.out}${install.err}\n${device.transcript()}`);
  t.regex(install.out, /pstore runs on LINUX/);
  await device.assertHealthy(t);
  return device;
}

/** Every file under `dir`, by path relative to it, with its text. */
function archived(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string, prefix: string) => {
    if (!existsSync(at)) return;
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path, prefix + name + "/");
      else files.set(prefix + name, readFileSync(path, "latin1"));
    }
  };
  walk(dir, "");
  return files;
}

/** The archived record file named `name` (in whichever device and boot folder it landed). */
function archivedRecord(dir: string, name: string): string | undefined {
  for (const [path, text] of archived(dir)) if (path.endsWith("/" + name)) return text;
  return undefined;
}

async function listNames(t: ExecutionContext, device: DeviceUnderTest): Promise<string[]> {
  const list = await device.pstore(["list", "--json"]);
  t.is(list.code, 0, `pstore list: ${list.err}`);
  return (JSON.parse(list.out) as Array<{ name: string }>).map((r) => r.name);
}

if (bin) {
  test("a fresh install writes a pmsg; a restart and pull archive it, decoded, and erase it on the device", async (t) => {
    t.timeout(180_000);
    const device = await installed(t);
    const name = await device.evaluate<string>(`require("pstore").pmsg("calibration done: 42")`);
    t.regex(name, /^pmsg-storage-\d+$/);
    await device.assertHealthy(t);

    await device.restart();
    const status = await device.assertHealthy(t);
    t.is(status.boot, 2, "the restart is the second boot");
    t.true((await listNames(t, device)).includes(name));

    const pull = await device.pstore(["pull", "--out", "archive"]);
    t.is(pull.code, 0, `pstore pull: ${pull.out}${pull.err}`);
    t.is(archivedRecord(join(device.dir, "archive"), name), "calibration done: 42");
    t.false((await listNames(t, device)).includes(name), "the pulled record is erased on the device");
    await device.assertHealthy(t);
  });
}
