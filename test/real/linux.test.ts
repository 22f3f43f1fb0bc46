// The real-interpreter tier on Espruino's Linux build: every scenario through the real `pstore` command over the
// interpreter's telnet console, checked after every step (test/real/harness.ts, DeviceUnderTest.assertHealthy).

import test, { type ExecutionContext } from "ava";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { decodeImage } from "../../hal/sim/image";
import { DeviceUnderTest, ROOT, tierInterpreter } from "./harness";

const bin = tierInterpreter(test);
// One interpreter at a time: each scenario is many commands, and the tier must not depend on how busy the machine is.

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
  return (JSON.parse(list.out).records as Array<{ name: string }>).map((r) => r.name);
}

if (bin) {
  test.serial("a fresh install writes a pmsg; a restart and pull archive it, decoded, and erase it on the device", async (t) => {
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

  test.serial("every record type is stored on the real interpreter and pulled decoded after a restart", async (t) => {
    t.timeout(300_000);
    const device = await installed(t);
    // The boot event is kept only with max_reason "reset"; the ring large enough for a 4 KB burst and its prompt.
    await device.evaluate(`require("Storage").writeJSON("pstore.json",{maxReason:"reset",consoleBytes:6144})`);
    await device.restart();
    await device.assertHealthy(t);

    const pmsg = await device.evaluate<string>(`require("pstore").pmsg("sensor calibrated: 42")`);
    await device.assertHealthy(t);

    // Traced calls, then an uncaught exception in a timer: a dmesg record, the trace and the console with it.
    t.is(await device.evaluate(`(function(){var p=require("pstore");global.add=p.trace(function(a,b){return a+b},"add");return add(1,2)+add(3,4)})()`), 10);
    await device.type(`setTimeout(function(){add(5,6);throw new Error("boom in timer")},10)`, 1000);
    const uncaught = [/^Uncaught Error: boom in timer$/];
    await device.assertHealthy(t, uncaught);

    const panic = await device.evaluate<string>(`require("pstore").panic("state machine lost")`);
    await device.assertHealthy(t);

    // A single print of 4096 characters, then the console written out.
    const burst = Array.from({ length: 4096 }, (_, i) => String.fromCharCode(65 + (i % 26))).join("");
    await device.type(`var s="";for(var i=0;i<4096;i++)s+=String.fromCharCode(65+i%26);print(s);s=undefined`, 1500);
    const flushed = await device.evaluate<string>(`require("pstore").flush()`);
    await device.assertHealthy(t);

    // quit(): E.on('kill') writes the console and a shutdown record.
    await device.quit();
    await device.assertHealthy(t);

    const list = await device.pstore(["list", "--json"]);
    t.is(list.code, 0, list.err);
    const records = JSON.parse(list.out).records as Array<{ name: string; type: string; reason: string; boot: number; codec: string; originalBytes: number; storedBytes: number }>;
    const named = (type: string, reason: string) => records.filter((r) => r.type === type && r.reason === reason).map((r) => r.name);
    t.deepEqual(named("pmsg", "user"), [pmsg]);
    // The burst repeats the alphabet: the firmware's heatshrink stores it in a fraction of its size.
    const burstRecord = records.find((r) => r.name === flushed)!;
    t.is(burstRecord.codec, "heatshrink", list.out);
    t.true(burstRecord.storedBytes < burstRecord.originalBytes / 4, list.out);
    t.is(named("dmesg", "exception").length, 1, list.out);
    t.is(named("ftrace", "exception").length, 1, list.out);
    t.deepEqual(named("dmesg", "panic"), [panic]);
    t.is(named("dmesg", "shutdown").length, 1, list.out);
    t.true(named("event", "reset").length >= 2, `a boot event for every boot since pstore.json: ${list.out}`);

    const pull = await device.pstore(["pull", "--out", "archive"]);
    t.is(pull.code, 0, `pstore pull: ${pull.out}${pull.err}`);
    const archive = join(device.dir, "archive");
    t.is(archivedRecord(archive, pmsg), "sensor calibrated: 42");
    t.regex(archivedRecord(archive, named("dmesg", "exception")[0]) ?? "", /Uncaught Error: boom in timer/);
    t.regex(archivedRecord(archive, named("ftrace", "exception")[0]) ?? "", /add/);
    t.regex(archivedRecord(archive, panic) ?? "", /state machine lost/);
    t.regex(archivedRecord(archive, named("dmesg", "shutdown")[0]) ?? "", /Shutdown/);
    t.regex(archivedRecord(archive, named("event", "reset")[0]) ?? "", /"event":"boot"/);
    t.true((archivedRecord(archive, flushed) ?? "").includes(burst), "the 4 KB burst arrives whole in the console record");
    t.deepEqual(await listNames(t, device), [], "everything pulled is erased on the device");
    await device.assertHealthy(t);
  });

  test.serial("list, cat, rm, status, dump and decode on the real interpreter", async (t) => {
    t.timeout(300_000);
    const device = await installed(t);
    const kept = await device.evaluate<string>(`require("pstore").pmsg("keep me")`);
    const removed = await device.evaluate<string>(`require("pstore").pmsg("remove me")`);
    const panic = await device.evaluate<string>(`require("pstore").panic("dumped panic")`);

    const list = await device.pstore(["list"]);
    t.is(list.code, 0, list.err);
    for (const name of [kept, removed, panic]) t.regex(list.out, new RegExp(`^${name} `, "m"));
    const cat = await device.pstore(["cat", kept]);
    t.is(cat.code, 0, cat.err);
    t.is(cat.out, "keep me");
    const rm = await device.pstore(["rm", removed]);
    t.is(rm.code, 0, rm.err);
    t.false((await listNames(t, device)).includes(removed));
    const missing = await device.pstore(["cat", removed]);
    t.is(missing.code, 5, "cat of an erased record: no such record");
    const status = await device.pstore(["status"]);
    t.is(status.code, 0, status.err);
    t.regex(status.out, /backend storage: ok/);
    await device.assertHealthy(t);

    const before = await listNames(t, device);
    const dump = await device.pstore(["dump", "--out", "device.img"]);
    t.is(dump.code, 0, `pstore dump: ${dump.out}${dump.err}`);
    const image = decodeImage(new Uint8Array(readFileSync(join(device.dir, "device.img"))));
    t.is(image.kind, "storage");
    t.true(image.spans.length > 0, "the dump holds the Storage area");
    const decode = await device.pstore(["decode", "device.img", "--out", "decoded"], { port: false });
    t.is(decode.code, 0, `pstore decode: ${decode.out}${decode.err}`);
    const decoded = join(device.dir, "decoded");
    t.is(archivedRecord(decoded, kept), "keep me");
    t.regex(archivedRecord(decoded, panic) ?? "", /dumped panic/);
    t.is(archivedRecord(decoded, removed), undefined, "an erased record is not in the dump");
    t.deepEqual(await listNames(t, device), before, "dump changes nothing on the device");
    await device.assertHealthy(t);
  });

  test.serial("reinstall and upgrade over a running pstore keep its records", async (t) => {
    t.timeout(300_000);
    const device = await installed(t);
    const before = await device.evaluate<string>(`require("pstore").pmsg("written before the reinstall")`);
    const again = await device.pstore(["install", "--board", "LINUX"]);
    t.is(again.code, 0, `reinstall: ${again.out}${again.err}`);
    await device.assertHealthy(t);
    t.true((await listNames(t, device)).includes(before));

    // An upgrade: other bundles (raw codec, no ftrace) over the running ones.
    const upgraded = join(device.dir, "upgrade");
    const build = spawnSync(process.execPath, ["--import=tsx", join(ROOT, "tools/build/build.ts"), "--board", "LINUX", "--codec", "raw", "--without", "ftrace", "--out", upgraded, "--quiet"], { cwd: ROOT, encoding: "utf8" });
    t.is(build.status, 0, build.stderr);
    const upgrade = await device.pstore(["install", "--board", "LINUX", "--dist", upgraded]);
    t.is(upgrade.code, 0, `upgrade: ${upgrade.out}${upgrade.err}`);
    const status = await device.assertHealthy(t);
    t.is(status.codec, "raw", "the upgraded bundles run");
    const after = await device.evaluate<string>(`require("pstore").pmsg("written after the upgrade")`);
    const pull = await device.pstore(["pull", "--out", "archive"]);
    t.is(pull.code, 0, `pstore pull: ${pull.out}${pull.err}`);
    t.is(archivedRecord(join(device.dir, "archive"), before), "written before the reinstall");
    t.is(archivedRecord(join(device.dir, "archive"), after), "written after the upgrade");
    await device.assertHealthy(t);
  });

  test.serial("uninstall pulls the records and leaves a bare interpreter", async (t) => {
    t.timeout(300_000);
    const device = await installed(t);
    const record = await device.evaluate<string>(`require("pstore").pmsg("pulled by uninstall")`);
    const uninstall = await device.pstore(["uninstall", "--board", "LINUX", "--out", "archive", "--purge"]);
    t.is(uninstall.code, 0, `pstore uninstall: ${uninstall.out}${uninstall.err}`);
    t.is(archivedRecord(join(device.dir, "archive"), record), "pulled by uninstall");
    const from = device.exchanges.length;
    await device.restart();
    const files = await device.evaluate<string[]>(`require("Storage").list()`);
    t.deepEqual(files.filter((f) => /pstore|^\.boot1$/.test(f)), [], `Storage after uninstall: ${files.join(", ")}`);
    t.is(await device.evaluate(`(function(){try{require("pstore");return "running"}catch(e){return "absent"}})()`), "absent");
    t.deepEqual(device.complaints(from), [], device.transcript(from));
    t.deepEqual(device.target.unexpectedExits, []);
  });

  test.serial("load() and reset() restart pstore (load() with no record of its own); host commands back to back keep the interpreter up", async (t) => {
    t.timeout(300_000);
    const device = await installed(t);
    const record = await device.evaluate<string>(`require("pstore").pmsg("before load")`);
    await device.load();
    await device.assertHealthy(t);
    t.deepEqual(await listNames(t, device), [record], "load() writes no record");
    // reset() ends the program (E.on('kill')): at most the console up to it is written, no crash or event record.
    await device.reset();
    const restarted = await device.assertHealthy(t);
    const afterReset = JSON.parse((await device.pstore(["list", "--json"])).out).records as Array<{ name: string; type: string; reason: string }>;
    t.deepEqual(afterReset.filter((r) => r.name !== record).map((r) => `${r.type} ${r.reason}`).filter((r) => r !== "console shutdown"), []);
    t.true(afterReset.some((r) => r.name === record), "the record written before is kept");
    for (let i = 0; i < 3; i++) {
      const status = await device.pstore(["status", "--json"]);
      t.is(status.code, 0, status.err);
      t.is(JSON.parse(status.out).status.boot, restarted.boot, "no reboot in between");
    }
    await device.assertHealthy(t);
  });
}
