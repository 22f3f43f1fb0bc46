// The real `pstore` command (node bin/pstore.js, spawned) against devices served over TCP and over a
// pseudo-terminal made by socat: hostile ones (test/helpers/hostile-device.ts) and the simulator.

import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRecord, type HostileScript, type StoredRecord } from "./helpers/hostile-device";
import { erasedOn, pstore, serveHostile, startSim, typeOn, type Served } from "./helpers/cli-run";
import { RecordType } from "../pstore/format";
import { ExitCode } from "../tools/cli/errors";
import { APP_FOLDER, APP_INFO_FILE } from "../tools/build/installed-files";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "pstore-e2e-"));
}

function walk(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: "utf8" }).sort() : [];
}

/** Every erased record must have its archive file; no temporary file anywhere; nothing beside DIR. */
function assertSafe(t: import("ava").ExecutionContext, base: string, out: string, served: Served): void {
  const files = walk(out);
  for (const name of erasedOn(served)) t.true(files.some((f) => f.endsWith(`/${name}`)), `${name} erased but not archived`);
  t.false(files.some((f) => /\.tmp-/.test(f)), `temporary file left: ${files.join(" ")}`);
  t.deepEqual(readdirSync(base).filter((f) => f !== "archive"), []);
}

function records(): StoredRecord[] {
  return [makeRecord(11, 300), makeRecord(12, 5000, RecordType.Console), makeRecord(13, 40, RecordType.Pmsg)];
}

test("pull over TCP archives every record, erases it, and prints the summary; a second pull finds nothing", async (t) => {
  const store = records();
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const base = tempDir();
  const out = join(base, "archive");
  const result = await pstore(["pull", "--port", served.url, "--out", out]);
  t.is(result.code, ExitCode.Ok, result.err);
  t.regex(result.out, /^3 records from TEST 0123abcd: /);
  t.regex(result.out, /dmesg-flash-11 +dmesg +exception/);
  t.is(store.length, 0);
  t.deepEqual(erasedOn(served), ["dmesg-flash-11", "console-flash-12", "pmsg-flash-13"]);
  const boot = join(out, "TEST_0123abcd", "3");
  // The payloads are binary: each text view (control bytes left out) has the bytes as stored beside it, as NAME.raw.
  t.deepEqual(readdirSync(boot).sort(), [
    "console-flash-12",
    "console-flash-12.raw",
    "dmesg-flash-11",
    "dmesg-flash-11.raw",
    "dmesg.txt",
    "pmsg-flash-13",
    "pmsg-flash-13.raw",
    "records.jsonl",
  ]);
  t.deepEqual(readFileSync(join(boot, "pmsg-flash-13.raw")), Buffer.from(records()[2].image.subarray(48, 48 + 40)));
  t.is(statSync(join(boot, "console-flash-12")).mode & 0o777, 0o600);
  t.is(statSync(boot).mode & 0o777, 0o700);
  assertSafe(t, base, out, served);
  const again = await pstore(["pull", "--port", served.url, "--out", out]);
  t.is(again.code, ExitCode.Ok, again.err);
  t.regex(again.out, /^0 records/);
});

test("list and --no-erase leave the device as it was; cat prints one record's content", async (t) => {
  const store = records();
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const list = await pstore(["list", "--port", served.url]);
  t.is(list.code, ExitCode.Ok, list.err);
  t.regex(list.out, /^NAME +TYPE +REASON/);
  t.regex(list.out, /console-flash-12 +console +exception +3 /);
  const json = JSON.parse((await pstore(["list", "--port", served.url, "--json"])).out);
  t.deepEqual(json.records.map((r: { name: string }) => r.name), ["dmesg-flash-11", "console-flash-12", "pmsg-flash-13"]);
  const base = tempDir();
  const kept = await pstore(["pull", "--port", served.url, "--out", join(base, "archive"), "--no-erase"]);
  t.is(kept.code, ExitCode.Ok, kept.err);
  t.is(store.length, 3);
  t.deepEqual(erasedOn(served), []);
  const cat = await pstore(["cat", "pmsg-flash-13", "--port", served.url]);
  t.is(cat.code, ExitCode.Ok, cat.err);
  t.deepEqual(cat.bytes, Buffer.from(store[2].image.subarray(48, 48 + 40)));
  const missing = await pstore(["cat", "pmsg-flash-99", "--port", served.url]);
  t.is(missing.code, ExitCode.Data);
  t.regex(missing.err, /no record "pmsg-flash-99"/);
});

const hostile: Array<[string, () => StoredRecord[], HostileScript, RegExp, number]> = [
  [
    "wrong CRC in every data frame",
    records,
    { mutateLine: (line) => (/^[A-Za-z0-9+/]{40,}/.test(line) ? line.replace(/^./, (c) => (c === "A" ? "B" : "A")) : line) },
    /no progress|no good answer|check/,
    ExitCode.Device,
  ],
  [
    "malformed frame headers",
    records,
    { mutateLine: (line) => line.replace(/^\[PS1 (\d+) D /, "[PS1 $1 D x") },
    /no progress|malformed|no answer/,
    ExitCode.Device,
  ],
  [
    "a record name that climbs out of the archive",
    () => {
      const r = records();
      r[1].meta.name = "../../x";
      return r;
    },
    // The listing is where names come from on a device without the bulk call (which names records from headers).
    { withoutCalls: ["a"] },
    /\.\.\/\.\.\/x/,
    ExitCode.Device,
  ],
  [
    "a record name with a slash and control characters",
    () => {
      const r = records();
      r[0].meta.name = "dmesg/flash-\x1b[2J11";
      return r;
    },
    // The listing is where names come from on a device without the bulk call (which names records from headers).
    { withoutCalls: ["a"] },
    /record name "dmesg\/flash-\\u001b\[2J11"/,
    ExitCode.Device,
  ],
  ["a stalled line", records, { stallAfterBytes: 1500 }, /no answer for 1000 ms|no progress/, ExitCode.Device],
  ["a disconnect mid-transfer", records, { hangUpAfterBytes: 3000 }, /closed/, ExitCode.Device],
];

for (const [what, make, script, message, code] of hostile) {
  test(`hostile device, ${what}: clear error, exit ${code}, nothing unsafe`, async (t) => {
    const store = make();
    const before = store.map((r) => r.meta.name);
    const served = await serveHostile(store, script);
    t.teardown(() => served.close());
    const base = tempDir();
    const out = join(base, "archive");
    const result = await pstore(["pull", "--port", served.url, "--out", out, "--timeout", "1"]);
    t.is(result.code, code, result.err);
    t.regex(result.err, message);
    t.false(/internal error/.test(result.err));
    assertSafe(t, base, out, served);
    t.deepEqual(store.map((r) => r.meta.name), before.filter((n) => !erasedOn(served).includes(n)));
    });
}

test("hostile device, a record whose header claims more payload than it has: archived as .corrupt, left on the device", async (t) => {
  const store = records();
  const victim = store[0];
  victim.image = victim.image.subarray(0, 100);
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const base = tempDir();
  const out = join(base, "archive");
  const result = await pstore(["pull", "--port", served.url, "--out", out]);
  t.is(result.code, ExitCode.Data, result.err);
  t.regex(result.out, /corrupt: dmesg-flash-11: part 0: header says 300 payload bytes but only 52 arrived/);
  t.true(existsSync(join(out, "TEST_0123abcd", "3", "dmesg-flash-11.corrupt")));
  t.false(erasedOn(served).includes("dmesg-flash-11"));
  t.deepEqual(store.map((r) => r.meta.name), ["dmesg-flash-11"]);
  assertSafe(t, base, out, served);
});

test("hostile device, garbage and chatter before the prompt: the pull still succeeds", async (t) => {
  const store = records();
  const served = await serveHostile(store, { greeting: "\x00\xff garbage\r\nUncaught SyntaxError: junk\r\n:half typed", chatterMs: 30, flowControlEvery: 97 });
  t.teardown(() => served.close());
  const base = tempDir();
  const out = join(base, "archive");
  const result = await pstore(["pull", "--port", served.url, "--out", out]);
  t.is(result.code, ExitCode.Ok, result.err);
  t.is(store.length, 0);
  assertSafe(t, base, out, served);
});

test("an archive folder that cannot be written stops the pull before anything is erased", async (t) => {
  const store = records();
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const base = tempDir();
  const blocker = join(base, "archive");
  writeFileSync(blocker, "a file, not a folder");
  const result = await pstore(["pull", "--port", served.url, "--out", join(blocker, "sub")]);
  t.is(result.code, ExitCode.Archive, result.err);
  t.regex(result.err, /cannot/);
  t.deepEqual(erasedOn(served), []);
  t.is(store.length, 3);
});

const socat = spawnSync("socat", ["-V"]).status === 0;

test("pull over a pseudo-terminal pair made by socat (the serial code path)", async (t) => {
  if (!socat) {
    t.log("socat is not installed: skipping the pseudo-terminal test (CI installs it)");
    t.pass();
    return;
  }
  const store = records();
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const base = tempDir();
  const link = join(base, "ttyPSTORE");
  const bridge = spawn("socat", [`pty,raw,echo=0,link=${link}`, `tcp:${served.url.slice("tcp://".length)}`]);
  for (let i = 0; i < 100 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 50));
  t.true(existsSync(link), "socat made the pty");
  const out = join(base, "archive");
  const result = await pstore(["pull", "--port", link, "--baud", "115200", "--out", out]);
  bridge.kill();
  t.is(result.code, ExitCode.Ok, result.err);
  t.is(store.length, 0);
  t.deepEqual(readdirSync(join(out, "TEST_0123abcd", "3")).filter((f) => f.endsWith("-11") || f.endsWith("-12") || f.endsWith("-13")).sort(), [
    "console-flash-12",
    "dmesg-flash-11",
    "pmsg-flash-13",
  ]);
});

test("a failed backend: status, list and pull do what they can, name it, and exit 3", async (t) => {
  const failed = { name: "storage", state: "failed", error: 'Function "subarray" not found!' };
  const served = await serveHostile(records(), { status: () => ({ board: "LINUX", serial: "1", backends: [failed, { name: "ram", state: "ok" }] }) });
  t.teardown(() => served.close());
  const named = /failed backend[^\n]*storage \(failed: Function "subarray" not found!\)/;

  const status = await pstore(["status", "--port", served.url]);
  t.is(status.code, ExitCode.Device, status.err);
  t.regex(status.out, /backend storage: failed/);
  t.regex(status.err, named);

  const list = await pstore(["list", "--port", served.url, "--json"]);
  t.is(list.code, ExitCode.Device, list.err);
  t.is(JSON.parse(list.out).records.length, records().length, "the records the device could list are listed");
  t.regex(list.err, named);

  const out = join(tempDir(), "archive");
  const pull = await pstore(["pull", "--port", served.url, "--out", out]);
  t.is(pull.code, ExitCode.Device, pull.err);
  t.regex(pull.err, named);
  t.is(readdirSync(join(out, "LINUX_1"), { recursive: true }).filter((f) => String(f).endsWith("records.jsonl")).length > 0, true, "what could be pulled is archived");
});

test("the simulator over TCP: a crash, a pull without erase, then dump and decode find the same records", async (t) => {
  const base = tempDir();
  const image = join(base, "puck.img");
  const sim = await startSim(["--listen", "tcp://127.0.0.1:0", "--image", image]);
  t.teardown(() => void sim.child.kill("SIGKILL"));
  await typeOn(sim.address, "~crash boom from the test");

  const status = await pstore(["status", "--port", sim.address]);
  t.is(status.code, ExitCode.Ok, status.err);
  t.regex(status.out, /backend flash: ok/);

  const pulled = await pstore(["pull", "--port", sim.address, "--out", join(base, "archive"), "--no-erase", "--json"]);
  t.is(pulled.code, ExitCode.Ok, pulled.err);
  const report = JSON.parse(pulled.out);
  const names = report.records.map((r: { name: string }) => r.name).sort();
  const crash = report.records.find((r: { type: string; folder: string; name: string }) =>
    r.type === "dmesg" && /boom from the test/.test(readFileSync(join(r.folder, r.name), "utf8")),
  );
  t.truthy(crash, "the crash is archived with its message");

  const dumped = await pstore(["dump", "--port", sim.address, "--board", "PUCKJS", "--out", join(base, "dump.img")]);
  t.is(dumped.code, ExitCode.Ok, dumped.err);
  const fromDump = await pstore(["decode", join(base, "dump.img"), "--out", join(base, "from-dump"), "--json"]);
  t.is(fromDump.code, ExitCode.Ok, fromDump.err);
  t.deepEqual(JSON.parse(fromDump.out).records.map((r: { name: string }) => r.name).filter((n: string) => n !== "console-ram-0").sort(), names);

  t.is(await sim.stop(), 0);
  const fromImage = await pstore(["decode", image, "--board", "PUCKJS", "--out", join(base, "from-image"), "--json"]);
  t.is(fromImage.code, ExitCode.Ok, fromImage.err);
  t.deepEqual(JSON.parse(fromImage.out).records.map((r: { name: string }) => r.name).filter((n: string) => n !== "console-ram-0").sort(), names);
});

test("a storage-backend board's dump holds its Storage area: decode finds the records a pull finds", async (t) => {
  const base = tempDir();
  const sim = await startSim(["--board", "LINUX", "--listen", "tcp://127.0.0.1:0"]);
  t.teardown(() => void sim.child.kill("SIGKILL"));
  await typeOn(sim.address, "~crash boom in Storage");
  const pulled = await pstore(["pull", "--port", sim.address, "--out", join(base, "archive"), "--no-erase", "--json"]);
  t.is(pulled.code, ExitCode.Ok, pulled.err);
  const names = JSON.parse(pulled.out).records.map((r: { name: string }) => r.name).sort();
  t.true(names.some((n: string) => n.startsWith("dmesg-storage-")), pulled.out);

  const dumped = await pstore(["dump", "--port", sim.address, "--out", join(base, "dump.img")]);
  t.is(dumped.code, ExitCode.Ok, dumped.err);
  t.regex(dumped.out, /LINUX storage image, [1-9]\d* pages? in 0x10000000\+256(\.0)? KB/);
  const fromDump = await pstore(["decode", join(base, "dump.img"), "--out", join(base, "from-dump"), "--json"]);
  t.is(fromDump.code, ExitCode.Ok, fromDump.err);
  t.deepEqual(JSON.parse(fromDump.out).records.map((r: { name: string }) => r.name).sort(), names);
  t.is(await sim.stop(), 0);
});

test("the simulator on a pseudo-terminal (--pty, socat): a watchdog reset is pulled and erased", async (t) => {
  if (!socat) {
    t.log("socat is not installed: skipping the pseudo-terminal simulator test (CI installs it)");
    t.pass();
    return;
  }
  const base = tempDir();
  const tcp = await startSim(["--listen", "tcp://127.0.0.1:0"]);
  t.teardown(() => void tcp.child.kill("SIGKILL"));
  await typeOn(tcp.address, "~hang 1", 2500);
  await tcp.stop();
  const sim = await startSim(["--pty"]);
  t.teardown(() => void sim.child.kill("SIGKILL"));
  t.regex(sim.address, /ttyPUCKJS$/);
  const list = await pstore(["list", "--port", sim.address]);
  t.is(list.code, ExitCode.Ok, list.err);
  const out = join(base, "archive");
  const pulled = await pstore(["pull", "--port", sim.address, "--out", out]);
  t.is(pulled.code, ExitCode.Ok, pulled.err);
  const after = await pstore(["list", "--port", sim.address, "--json"]);
  t.deepEqual(JSON.parse(after.out).records, []);
  t.is(await sim.stop(), 0);
});

test("install writes the bundles over TCP, checks them by CRC, restarts the device and reads its status", async (t) => {
  const sim = await startSim(["--listen", "tcp://127.0.0.1:0"]);
  t.teardown(() => void sim.child.kill("SIGKILL"));
  const before = JSON.parse((await pstore(["status", "--port", sim.address, "--json"])).out).status;
  const installed = await pstore(["install", "--board", "PUCKJS", "--port", sim.address]);
  t.is(installed.code, ExitCode.Ok, installed.err);
  t.regex(installed.out, /wrote pstore \(\d+ bytes, CRC checked on the device\)/);
  t.regex(installed.out, /wrote \.boot1 /);
  t.regex(installed.out, new RegExp(`pstore runs on .*: boot ${before.boot + 1},`));
  const unknown = await pstore(["install", "--board", "NOSUCH", "--port", sim.address]);
  t.is(unknown.code, ExitCode.Usage);
  t.regex(unknown.err, /unknown board "NOSUCH"/);
  t.is(await sim.stop(), 0);
});

/** Mounts a small tmpfs (needs root and mount rights; CI runs as root). Undefined when that is not possible here. */
function smallFileSystem(options: string): string | undefined {
  const dir = tempDir();
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", options, "tmpfs", dir]);
  return mounted.status === 0 ? dir : undefined;
}

for (const [what, options, code] of [
  ["full", "size=8k", "ENOSPC"],
  ["read-only", "ro,size=64k", "EROFS"],
] as const) {
  test.serial(`a ${what} archive file system stops the pull with ${code}, erases only what is archived, leaves no temporary file`, async (t) => {
    const dir = smallFileSystem(options);
    if (!dir) {
      t.log(`cannot mount a tmpfs here (not root?): skipping the ${what} file-system test`);
      t.pass();
      return;
    }
    t.teardown(() => void spawnSync("umount", [dir]));
    const store = [makeRecord(21, 200), makeRecord(22, 3000, RecordType.Console), makeRecord(23, 6000, RecordType.Console)];
    const served = await serveHostile(store);
    t.teardown(() => served.close());
    const result = await pstore(["pull", "--port", served.url, "--out", join(dir, "archive")]);
    t.is(result.code, ExitCode.Archive, result.err);
    t.regex(result.err, new RegExp(`\\(${code}\\)`));
    const files = walk(dir);
    for (const name of erasedOn(served)) t.true(files.some((f) => f.endsWith(`/${name}`)), `${name} erased but not archived`);
    t.true(erasedOn(served).length < 3);
    t.false(files.some((f) => /\.tmp-/.test(f)), files.join(" "));
  });
}

test("install on Bangle.js 2 also writes the App Loader's pstore.info, versioned from the app the build made", async (t) => {
  const dist = tempDir();
  const sim = await startSim(["--listen", "tcp://127.0.0.1:0", "--dist", dist], "BANGLEJS2");
  t.teardown(() => void sim.child.kill("SIGKILL"));
  t.true(existsSync(join(dist, "BANGLEJS2", APP_FOLDER, "metadata.json")));
  const installed = await pstore(["install", "--board", "BANGLEJS2", "--port", sim.address, "--dist", dist]);
  t.is(installed.code, ExitCode.Ok, installed.err);
  t.regex(installed.out, new RegExp(`wrote ${APP_INFO_FILE.replace(".", "\\.")} \\(\\d+ bytes, CRC checked on the device\\)`));
  t.regex(installed.out, /pstore runs on /);
  t.is(await sim.stop(), 0);
});
