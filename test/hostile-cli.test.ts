// The real `pstore` command against devices that misbehave on purpose (test/helpers/hostile-device.ts): a wiped
// device whose counters restarted, one without a serial number, a listing naming two records alike, an `E` frame
// claiming 10^9 records, a flood of frame tags, a payload dripping in, stale frames, multi-part records, older
// firmware without the bulk call, device error text with escape sequences. Each scenario checks that no record was
// erased without its content in the archive, that the command ended within its timeout's bound with bounded memory
// (the command runs with a 128 MB heap), and that the error is clear.

import test from "ava";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRecord, partCrcs, type HostileScript, type StoredRecord } from "./helpers/hostile-device";
import { BIN, erasedOn, pstore, ROOT, serveHostile, type Result, type Served } from "./helpers/cli-run";
import { Reason, RecordType } from "../pstore/format";
import { getBoard } from "../boards/index";
import { createSimHal } from "../hal/sim/index";
import { Pstore } from "../pstore/core";
import { textToBytes } from "../pstore/codec";
import { ExitCode } from "../tools/cli/errors";
import { schemaProblem } from "../tools/json/schema";

const BOUNDED = { NODE_OPTIONS: "--max-old-space-size=128" };

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "pstore-hostile-"));
}

function walk(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: "utf8" }).sort() : [];
}

/** Every records.jsonl line under `out`, parsed. */
function indexLines(out: string): Array<{ name: string; archivedAs: string; crcs: string[]; outcome: string; files: string[] }> {
  return walk(out)
    .filter((f) => f.endsWith("records.jsonl"))
    .flatMap((f) => readFileSync(join(out, f), "utf8").trim().split("\n").map((line) => JSON.parse(line)));
}

/** The rule of the archive: every record the device was asked to erase has its very content (part CRCs) archived. */
function assertNothingLost(t: import("ava").ExecutionContext, out: string, served: Served, before: StoredRecord[]): void {
  const held = indexLines(out).filter((e) => e.outcome !== "corrupt").map((e) => e.crcs.join(","));
  for (const name of erasedOn(served)) {
    for (const record of before.filter((r) => r.meta.name === name)) {
      t.true(held.includes(partCrcs(record).join(",")), `${name} erased, but its content ${partCrcs(record).join(",")} is not archived`);
    }
  }
  t.false(walk(out).some((f) => /\.tmp-/.test(f)), "no temporary file is left");
}

async function timed(args: string[], env: NodeJS.ProcessEnv = BOUNDED): Promise<Result & { seconds: number }> {
  const started = Date.now();
  const result = await pstore(args, { env });
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

function records(): StoredRecord[] {
  return [makeRecord(11, 300), makeRecord(12, 5000, RecordType.Console), makeRecord(13, 40, RecordType.Pmsg)];
}

test("a wiped device's new records reuse old names with other content: archived beside the old ones as NAME~2, then erased", async (t) => {
  const out = join(tempDir(), "archive");
  const first = records();
  const one = await serveHostile(first);
  t.teardown(() => one.close());
  t.is((await timed(["pull", "--port", one.url, "--out", out])).code, ExitCode.Ok);
  // Wiped and reflashed: boot and sequence counters start again, the same names come back with other content.
  const second = records().map((r, i) => makeRecord(r.meta.seq, [310, 4000, 45][i], r.meta.type, { salt: 1 }));
  const before = [...second];
  const two = await serveHostile(second);
  t.teardown(() => two.close());
  const result = await timed(["pull", "--port", two.url, "--out", out, "--json"]);
  t.is(result.code, ExitCode.Ok, result.err);
  const report = JSON.parse(result.out);
  t.deepEqual(report.records.map((r: { archivedAs: string; written: boolean }) => [r.archivedAs, r.written]), [
    ["dmesg-flash-11~2", true],
    ["console-flash-12~2", true],
    ["pmsg-flash-13~2", true],
  ]);
  t.is(second.length, 0);
  assertNothingLost(t, out, two, before);
  const boot = join(out, "TEST_0123abcd", "3");
  t.deepEqual(readFileSync(join(boot, "pmsg-flash-13~2.raw")), Buffer.from(before[2].image.subarray(48, 48 + 45)));
  t.regex(readFileSync(join(boot, "dmesg.txt"), "utf8"), /--- dmesg-flash-11: [^]*--- dmesg-flash-11~2: /);
  // The same content pulled again (a pull cut off before its erase) is recognised, not archived a third time.
  const again = records().map((r, i) => makeRecord(r.meta.seq, [310, 4000, 45][i], r.meta.type, { salt: 1 }));
  const three = await serveHostile(again);
  t.teardown(() => three.close());
  const third = await timed(["pull", "--port", three.url, "--out", out, "--json"]);
  t.true(JSON.parse(third.out).records.every((r: { written: boolean; erased: boolean }) => !r.written && r.erased));
  t.is(indexLines(out).length, 6);
});

test("a device without a serial number is archived but not erased; --device names it and then it is erased", async (t) => {
  const out = join(tempDir(), "archive");
  const store = records();
  const before = [...store];
  const served = await serveHostile(store, { noSerial: true });
  t.teardown(() => served.close());
  const result = await timed(["pull", "--port", served.url, "--out", out]);
  t.is(result.code, ExitCode.Data, result.err);
  t.regex(result.out, /not erased: 3 archived records left on the device: the device reports no serial number.*--device ID/);
  t.deepEqual(erasedOn(served), []);
  const named = await timed(["pull", "--port", served.url, "--out", out, "--device", "bench-puck-2"]);
  t.is(named.code, ExitCode.Ok, named.err);
  t.is(store.length, 0);
  t.true(existsSync(join(out, "bench-puck-2", "3", "dmesg-flash-11")));
  assertNothingLost(t, out, served, before);
});

for (const [path, script] of [
  ["the bulk stream", {}],
  ["list and get (older firmware)", { withoutCalls: ["a"] }],
] as Array<[string, HostileScript]>) {
  test(`a listing that names two different records alike, over ${path}: neither is erased`, async (t) => {
    const out = join(tempDir(), "archive");
    const store = [makeRecord(11, 300), makeRecord(11, 200, RecordType.Dmesg, { salt: 2 }), makeRecord(13, 40, RecordType.Pmsg)];
    const before = [...store];
    const served = await serveHostile(store, script);
    t.teardown(() => served.close());
    const result = await timed(["pull", "--port", served.url, "--out", out]);
    t.is(result.code, ExitCode.Data, result.err);
    t.regex(result.out, /not erased: dmesg-flash-11: listed 2 times/);
    t.deepEqual(erasedOn(served), ["pmsg-flash-13"]);
    assertNothingLost(t, out, served, before);
  });
}

test("an E frame claiming 10^9 records is refused before anything is allocated; the pull falls back and completes", async (t) => {
  const out = join(tempDir(), "archive");
  const store = records();
  const before = [...store];
  const served = await serveHostile(store, {
    rewriteFrame: (frame) => {
      const value = frame.kind === "E" ? JSON.parse(frame.payload.toString("latin1")) : undefined;
      if (!Array.isArray(value) || value.length !== 4) return {};
      return { payload: Buffer.from(JSON.stringify([value[0], value[1], value[2], [["flash", 1e9]]]), "latin1") };
    },
  });
  t.teardown(() => served.close());
  const result = await timed(["pull", "--port", served.url, "--out", out, "--timeout", "2"]);
  t.is(result.code, ExitCode.Ok, result.err);
  t.is(store.length, 0);
  t.true(served.devices[0].requests.some((r) => /\.l\(/.test(r)), "listed the old way after the bulk stream was refused");
  assertNothingLost(t, out, served, before);
});

for (const [what, script, message] of [
  ["a flood of frame tags after every request", { floodTags: true }, /no pstore service|no good answer|gave up|attempts/],
  ["a payload dripping in one byte every 200 ms", { drip: { afterBytes: 2500, msPerByte: 200 } }, /no answer for 1000 ms|no progress/],
  ["only stale frames (another request's id)", { rewriteFrame: (f: { id: number }) => ({ id: f.id + 7 }) }, /no answer for 1000 ms|no pstore service/],
] as Array<[string, HostileScript, RegExp]>) {
  // Serial: the bound is on the command's own time, not on how many other commands share the machine.
  test.serial(`${what}: the command ends within its timeout's bound, memory bounded, with a clear error, nothing lost`, async (t) => {
    const out = join(tempDir(), "archive");
    const store = records();
    const before = [...store];
    const served = await serveHostile(store, script);
    t.teardown(() => served.close());
    const result = await timed(["pull", "--port", served.url, "--out", out, "--timeout", "1"]);
    t.is(result.code, ExitCode.Device, result.err);
    t.regex(result.err, message);
    t.false(/internal error|heap/i.test(result.err), result.err);
    // connect (3 × 1 s prompt wait + hello), status, bulk, list: each call at most two 1 s timeouts.
    t.true(result.seconds < 20, `took ${result.seconds} s`);
    assertNothingLost(t, out, served, before);
  });
}

test("--timeout beyond what a timer can wait is refused, not turned into 1 ms", async (t) => {
  const result = await timed(["status", "--port", "tcp://127.0.0.1:9", "--timeout", "1e12"]);
  t.is(result.code, ExitCode.Usage);
  t.regex(result.err, /--timeout wants a number from 0\.1 up to 3600, got "1e12"/);
});

test("multi-part records come through the one-stream pull: nothing is fetched twice", async (t) => {
  const out = join(tempDir(), "archive");
  const store = [makeRecord(20, 9000, RecordType.Console, { parts: 3 }), makeRecord(23, 100)];
  const before = [...store];
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const result = await timed(["pull", "--port", served.url, "--out", out]);
  t.is(result.code, ExitCode.Ok, result.err);
  const requests = served.devices[0].requests;
  t.false(requests.some((r) => /\.(l|g)\(/.test(r)), requests.join("\n"));
  t.is(store.length, 0);
  t.is(readFileSync(join(out, "TEST_0123abcd", "3", "console-flash-20.raw")).length, 9000);
  assertNothingLost(t, out, served, before);
});

test("older firmware without the bulk call: the failed call raises nothing at the device's REPL, so no crash is stored", async (t) => {
  const out = join(tempDir(), "archive");
  const store = records();
  const served = await serveHostile(store, { withoutCalls: ["a"] });
  t.teardown(() => served.close());
  const result = await timed(["pull", "--port", served.url, "--out", out]);
  t.is(result.code, ExitCode.Ok, result.err);
  t.is(served.devices[0].uncaught, 0);
  t.is(store.length, 0);
});

test("device error text reaches the terminal without its control and escape sequences", async (t) => {
  const served = await serveHostile(records(), {
    rewriteFrame: (frame) =>
      frame.kind === "E" && frame.payload.toString("latin1").includes("backends")
        ? { kind: "X", arg: 0, payload: Buffer.from(JSON.stringify("disk \x1b[2J\x1b]0;owned\x07 on fire\r"), "latin1") }
        : {},
  });
  t.teardown(() => served.close());
  const result = await timed(["status", "--port", served.url]);
  t.is(result.code, ExitCode.Device);
  t.regex(result.err, /the device refused: "disk \\u001b\[2J/);
  t.false(/[\x00-\x09\x0b-\x1f\x7f]/.test(result.err), JSON.stringify(result.err));
});

test("the headline names the newest crash of this pull, not an older one already archived", async (t) => {
  const out = join(tempDir(), "archive");
  const crash = makeRecord(11, 0, RecordType.Dmesg, { text: "Uncaught Error: old crash, archived before\n" });
  const served = await serveHostile([crash]);
  t.teardown(() => served.close());
  t.regex((await timed(["pull", "--port", served.url, "--out", out, "--no-erase"])).out, /old crash/);
  const again = await serveHostile([crash, makeRecord(12, 0, RecordType.Pmsg, { text: "calibrated" })]);
  t.teardown(() => again.close());
  const second = await timed(["pull", "--port", again.url, "--out", out]);
  t.is(second.code, ExitCode.Ok, second.err);
  t.regex(second.out, /^2 records from TEST 0123abcd: /);
  t.notRegex(second.out.split("\n")[0], /old crash/);
  const third = await serveHostile([makeRecord(13, 0, RecordType.Dmesg, { text: "Uncaught Error: the new one\n" })]);
  t.teardown(() => third.close());
  t.regex((await timed(["pull", "--port", third.url, "--out", out])).out, /^1 record from TEST 0123abcd: uncaught exception: 'Uncaught Error: the new one'/);
});

test("REPL control codes stay out of the text views; the record as stored is kept beside them", async (t) => {
  const out = join(tempDir(), "archive");
  const text = "boot\r\n>\r\x1b[Jtick from a timer\r\n>\r\x1b[JUncaught Error: boom\r\n>";
  const served = await serveHostile([makeRecord(30, 0, RecordType.Console, { text })]);
  t.teardown(() => served.close());
  t.is((await timed(["pull", "--port", served.url, "--out", out])).code, ExitCode.Ok);
  const boot = join(out, "TEST_0123abcd", "3");
  t.is(readFileSync(join(boot, "console-flash-30"), "utf8"), "boot\ntick from a timer\nUncaught Error: boom");
  t.is(readFileSync(join(boot, "console-flash-30.raw"), "latin1"), text);
  t.false(/[\r\x1b]/.test(readFileSync(join(boot, "dmesg.txt"), "utf8")));
});

test("archive hygiene: a stale temporary of a killed pull is removed, a torn last index line dropped, a symlinked index refused", async (t) => {
  const out = join(tempDir(), "archive");
  const boot = join(out, "TEST_0123abcd", "3");
  mkdirSync(boot, { recursive: true, mode: 0o700 });
  // A pull killed with -9 left its temporary (pid 2^22 + 1 cannot run: above Linux's largest pid).
  writeFileSync(join(boot, ".dmesg-flash-11.tmp-4194305-0badc0de"), "half");
  writeFileSync(join(boot, ".pmsg-flash-13.tmp-" + process.pid + "-0badc0de"), "a running writer's");
  writeFileSync(join(boot, "records.jsonl"), '{"schema":1,"kind":"rec');
  const served = await serveHostile(records());
  t.teardown(() => served.close());
  const result = await timed(["pull", "--port", served.url, "--out", out]);
  t.is(result.code, ExitCode.Ok, result.err);
  t.deepEqual(readdirSync(boot).filter((f) => f.startsWith(".")), [".pmsg-flash-13.tmp-" + process.pid + "-0badc0de"]);
  t.is(indexLines(out).length, 3);

  const linked = join(tempDir(), "archive");
  const elsewhere = join(tempDir(), "records.jsonl");
  writeFileSync(elsewhere, "");
  mkdirSync(join(linked, "TEST_0123abcd", "3"), { recursive: true });
  symlinkSync(elsewhere, join(linked, "TEST_0123abcd", "3", "records.jsonl"));
  const store = records();
  const other = await serveHostile(store);
  t.teardown(() => other.close());
  const refused = await timed(["pull", "--port", other.url, "--out", linked]);
  t.is(refused.code, ExitCode.Archive, refused.err);
  t.regex(refused.err, /records\.jsonl: it is a symbolic link, and the archive follows none \(ELOOP\)/);
  t.is(store.length, 3);
});

test("a record without its commit word is corrupt, archived as received and left on the device", async (t) => {
  const out = join(tempDir(), "archive");
  const store = records();
  store[2].image = store[2].image.slice();
  store[2].image.fill(0, store[2].image.length - 4);
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const result = await timed(["pull", "--port", served.url, "--out", out]);
  t.is(result.code, ExitCode.Data, result.err);
  t.regex(result.out, /corrupt: pmsg-flash-13: part 0: no commit word/);
  t.false(erasedOn(served).includes("pmsg-flash-13"));
});

/**
 * Runs the command with stdout a pipe nobody reads until the command exits or 8 s pass (a command that exits
 * before its output drained loses what the pipe could not hold), then read 4 KB at a time.
 */
function throughSlowPipe(args: string[]): Promise<{ code: number | null; out: Buffer }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "ignore"] });
    const chunks: Buffer[] = [];
    child.stdout!.pause();
    const read = () => {
      let chunk: Buffer | null;
      while ((chunk = child.stdout!.read(4096)) !== null) chunks.push(chunk);
    };
    let reading = false;
    const startReading = () => {
      if (reading) return;
      reading = true;
      child.stdout!.on("readable", () => setTimeout(read, 2));
      read();
    };
    const wait = setTimeout(startReading, 8000);
    child.on("exit", () => {
      clearTimeout(wait);
      startReading();
    });
    child.on("close", (code) => {
      read();
      done({ code, out: Buffer.concat(chunks) });
    });
  });
}

test("every command that prints a lot writes all of it through a pipe read slowly, in the documented JSON schema", async (t) => {
  const many = Array.from({ length: 400 }, (_, i) => makeRecord(100 + i, 60, RecordType.Pmsg));
  const served = await serveHostile(many, { statusExtra: { deep: { deeper: { deepest: { counts: new Array(5500).fill(1) } } } } });
  t.teardown(() => served.close());
  const base = tempDir();
  for (const [args, schema, bigger] of [
    [["list", "--port", served.url, "--json"], "list", 65536],
    [["status", "--port", served.url, "--json"], "status", 65536],
    [["pull", "--port", served.url, "--out", join(base, "a"), "--no-erase", "--json"], "pull", 65536],
    [["list", "--port", served.url], undefined, 20000],
  ] as const) {
    const { code, out } = await throughSlowPipe([...args]);
    t.is(code, ExitCode.Ok, args.join(" "));
    t.true(out.length > bigger, `${args[0]} printed ${out.length} bytes`);
    if (schema) t.is(schemaProblem(schema, JSON.parse(out.toString("utf8"))), undefined);
    else t.is(out.toString("utf8").trim().split("\n").length, 401);
  }
  for (const line of indexLines(join(base, "a"))) t.is(schemaProblem("indexLine", line), undefined);
});

test("decode --json of an image with many records is complete through a pipe read slowly", async (t) => {
  const board = getBoard("PUCKJS");
  const device = createSimHal(board, { wallSeconds: 1_700_000_000 });
  const store = new Pstore(device.hal, { board });
  store.start();
  for (let i = 0; i < 250; i++) {
    for (const type of [RecordType.Pmsg, RecordType.Event, RecordType.Console, RecordType.Dmesg]) store.write(type, Reason.User, textToBytes(`message ${i}`));
  }
  const dir = tempDir();
  writeFileSync(join(dir, "many.img"), device.toImage());
  const { code, out } = await throughSlowPipe(["decode", join(dir, "many.img"), "--out", join(dir, "archive"), "--json"]);
  t.is(code, ExitCode.Ok);
  t.true(out.length > 262144, `printed ${out.length} bytes`);
  const report = JSON.parse(out.toString("utf8"));
  t.is(schemaProblem("pull", report), undefined);
  t.is(report.kind, "decode");
  t.true(report.records.length >= 300, `${report.records.length} records`);
});
