// Bad input to the device API, run against the BUILT bundles on the simulated Espruino as a user installs them:
// wrong types, empty and huge data, names that do not exist, options and zone lists that do not fit the board.
// Every case must end in an error naming what is wrong, and must lose nothing already stored: each test lists
// (and reads) the records before and after.
//
// A case under a "Bug (…)" comment caught a device-side bug, since fixed; the comment says which.

import test, { type ExecutionContext } from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard } from "../tools/build/build";
import { installPstore, type InstalledDevice } from "./helpers/sim-install";
import { ROOT } from "./helpers/cli-run";

interface Seeded {
  d: InstalledDevice;
  /** Every record's name and content when the device was seeded. */
  before: Map<string, string>;
}

/** Content of every listed record, by name (ftrace records as latin1 text of their bytes). */
function contents(d: InstalledDevice): Map<string, string> {
  const all = new Map<string, string>();
  for (const r of d.records()) all.set(r.name, d.run(`E.toString(require('pstore').read(${JSON.stringify(r.name)}))`) as string);
  return all;
}

/** A device with pstore installed and a few records of each kind the application writes. */
async function seeded(t: ExecutionContext, board: string, options: object = {}): Promise<Seeded> {
  const d = await installPstore(t, board, options);
  d.run("require('pstore').pmsg('keep me')");
  d.run("require('pstore').panic('keep me too')");
  d.run("print('console line'); require('pstore').flush()");
  const before = contents(d);
  t.true(before.size >= 4, `seeded records: ${[...before.keys()].join(" ")}`);
  return { d, before };
}

/** Every record there before is still listed with the same content. */
function assertKept(t: ExecutionContext, s: Seeded, what: string): void {
  const now = contents(s.d);
  for (const [name, content] of s.before) {
    t.true(now.has(name), `${what}: ${name} is gone`);
    t.is(now.get(name), content, `${what}: ${name} changed`);
  }
}

/** Restarts the device with `options` in pstore.json (as the boot code reads them); returns the boot's console output. */
function rebootWith(d: InstalledDevice, options: unknown): string {
  d.dev.writeFile("pstore.json", JSON.stringify(options));
  d.output();
  d.dev.powerLoss();
  d.dev.advance(50);
  return d.output();
}

/** Restarts without the boot code, so the test calls start() itself and sees what it throws. */
function rebootWithoutStart(d: InstalledDevice): void {
  d.run("require('Storage').erase('.boot0')");
  d.dev.powerLoss();
  d.dev.advance(50);
}

/** Puts the boot code back and restarts with default options: what the user does after fixing the mistake. */
async function restoreDefaults(d: InstalledDevice, board: string): Promise<void> {
  const { bundles } = await import("./helpers/sim-install");
  d.dev.writeFile(".boot0", (await bundles(board)).boot);
  rebootWith(d, {});
}

// ---------------------------------------------------------------------------------------------------------------
// pmsg

for (const [what, arg] of [
  ["undefined", "undefined"],
  ["a number", "12"],
  ["null", "null"],
  ["an object", "{text: 'hi'}"],
  ["an array", "[104, 105]"],
] as const) {
  test(`pmsg(${what}) is refused naming the types it takes; nothing is lost`, async (t) => {
    const s = await seeded(t, "PUCKJS");
    const r = s.d.attempt(`require('pstore').pmsg(${arg})`);
    t.is(r.error, "pstore.pmsg: message must be a string or a Uint8Array");
    t.deepEqual(s.d.records().map((x) => x.name), [...s.before.keys()]);
    assertKept(t, s, what);
  });
}

test("pmsg('') stores an empty message that reads back empty; nothing is lost", async (t) => {
  const s = await seeded(t, "PUCKJS");
  for (const empty of ["''", "new Uint8Array(0)"]) {
    const name = s.d.run(`require('pstore').pmsg(${empty})`) as string;
    t.regex(name, /^pmsg-flash-\d+$/);
    t.is(s.d.read(name), "");
  }
  assertKept(t, s, "empty pmsg");
});

/** Defines `noise`: 100 KB that no codec shrinks. */
const NOISE = "var noise = new Uint8Array(102400), x = 7; for (var i = 0; i < noise.length; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; noise[i] = x >> 16; }";

test("PUCKJS: a 100 KB pmsg larger than its 12 KB ring is refused naming its size, before anything in the zone is given up", async (t) => {
  const s = await seeded(t, "PUCKJS");
  const r = s.d.attempt(NOISE + "; require('pstore').pmsg(noise)");
  t.regex(String(r.error), /^pstore\.pmsg: message of 102400 bytes not stored: .*larger than the zone holds/);
  s.d.dev.advance(30_000);
  assertKept(t, s, "100 KB of noise");
});

test("PICO: a 100 KB pmsg fills most of the 128 KB keep-first sector and reads back exactly; a second one is refused; nothing is lost", async (t) => {
  const s = await seeded(t, "PICO");
  s.d.run(NOISE);
  const name = s.d.run("require('pstore').pmsg(noise)") as string;
  t.is(s.d.run(`E.toString(require('pstore').read(${JSON.stringify(name)})) === E.toString(noise)`), true);
  const second = s.d.attempt("require('pstore').pmsg(noise)");
  t.regex(String(second.error), /^pstore\.pmsg: message of 102400 bytes not stored: /);
  s.d.dev.advance(30_000);
  assertKept(t, s, "100 KB of noise");
  t.true(s.d.records().some((r) => r.name === name));
});

test("PICO: a 100 KB text pmsg that compresses into the zone is stored and reads back exactly; nothing is lost", async (t) => {
  const s = await seeded(t, "PICO");
  const name = s.d.run("var s = ''; for (var i = 0; s.length < 102400; i++) s += 'line ' + i + ' of a long report\\n'; require('pstore').pmsg(s.substr(0, 102400))") as string;
  t.is(s.d.read(name), s.d.run("s.substr(0, 102400)"));
  assertKept(t, s, "100 KB of text");
});

// ---------------------------------------------------------------------------------------------------------------
// read, erase

for (const [arg, shown] of [
  ["'nope'", "nope"],
  ["'../x'", "../x"],
  ["'dmesg-flash-99999'", "dmesg-flash-99999"],
  ["42", "42"],
  ["", "undefined"],
] as const) {
  test(`read(${arg}) says there is no record ${shown}; nothing is lost`, async (t) => {
    const s = await seeded(t, "PUCKJS");
    t.is(s.d.attempt(`require('pstore').read(${arg})`).error, `pstore.read: no record ${shown}`);
    assertKept(t, s, `read(${arg})`);
  });
}

test("erase of a name the device does not have returns false (the host protocol's 'not on the device'); nothing is lost", async (t) => {
  const s = await seeded(t, "PUCKJS");
  for (const name of ["'nope'", "'../x'", "'dmesg-flash-99999'"]) t.is(s.d.run(`require('pstore').erase(${name})`), false, name);
  assertKept(t, s, "erase of unknown names");
});

// Bug (firmware/module.ts erase, pstore/core.ts): erase(42) and erase() return false like an unknown name, so a
// caller passing the record object or its seq instead of its name never learns why nothing was erased.
test("erase(42) is refused naming the argument, not answered 'no such record'", async (t) => {
  const s = await seeded(t, "PUCKJS");
  for (const arg of ["42", "", "{name: 'x'}"]) {
    t.regex(String(s.d.attempt(`require('pstore').erase(${arg})`).error), /^pstore\.erase: .*(name|string)/, `erase(${arg})`);
  }
  assertKept(t, s, "erase(42)");
});

// ---------------------------------------------------------------------------------------------------------------
// trace, traceObject, panic

test("PICO: trace of a string names the trace and says it is not a function; nothing is lost", async (t) => {
  const s = await seeded(t, "PICO");
  t.is(s.d.attempt("require('pstore').trace('notafunction', 'app.read')").error, "pstore.trace: app.read is not a function");
  assertKept(t, s, "trace of a string");
});

// Bug (pstore/ftrace.ts Tracer.trace): without a name the message is "pstore.trace: undefined is not a function",
// which names neither the bad argument nor the missing name.
test("PICO: trace('notafunction') with no name says what it got", async (t) => {
  const s = await seeded(t, "PICO");
  t.regex(String(s.d.attempt("require('pstore').trace('notafunction')").error), /^pstore\.trace: .*(string|notafunction)/);
});

// Bug (pstore/ftrace.ts Tracer.trace): trace(fn) with no name is accepted; the trace record's names table then
// holds an empty name for it (names.join turns undefined into ""). It should throw naming the missing name, or
// fall back to fn.name.
test("PICO: trace(fn) without a name is refused, or named after the function, never empty", async (t) => {
  const s = await seeded(t, "PICO");
  const r = s.d.attempt("var p = require('pstore'); var f = p.trace(function readSensor() { throw new Error('x'); }); setTimeout(f, 1);");
  if (r.error) {
    t.regex(r.error, /^pstore\.trace: .*name/);
    return;
  }
  s.d.dev.advance(50);
  const ftrace = s.d.records().find((x) => x.name.startsWith("ftrace-"))!;
  t.truthy(ftrace);
  // The names table ends the record, one name per line: an unnamed trace comes out as an empty name.
  const table = s.d.run(`E.toString(require('pstore').read(${JSON.stringify(ftrace.name)}))`) as string;
  t.true(table.endsWith("readSensor"), JSON.stringify(table.slice(-40)));
});

// Bug (pstore/ftrace.ts Tracer.traceObject): Object.keys(null) escapes as "Cannot convert undefined or null to
// object"; it should say pstore.traceObject and name the prefix.
test("PICO: traceObject(null) is refused naming pstore.traceObject", async (t) => {
  const s = await seeded(t, "PICO");
  for (const arg of ["null", "undefined", "42"]) {
    t.regex(String(s.d.attempt(`require('pstore').traceObject(${arg}, 'i2c.')`).error), /^pstore\.traceObject: /, arg);
  }
  assertKept(t, s, "traceObject(null)");
});

// Bug (firmware/module.ts panic): panic() and panic(42) store "Panic: undefined" / "Panic: 42" without complaint;
// a message that is not a string should be refused, or at least no "undefined" should reach the record.
test("panic() without a message does not store 'Panic: undefined'", async (t) => {
  const s = await seeded(t, "PUCKJS");
  const r = s.d.attempt("require('pstore').panic()");
  if (r.error) t.regex(r.error, /^pstore\.panic: .*message/);
  else t.false(s.d.read(r.value as string).startsWith("Panic: undefined"), s.d.read(r.value as string));
  assertKept(t, s, "panic()");
});

// ---------------------------------------------------------------------------------------------------------------
// Options (pstore.json, read by the boot code) and start()

const REFUSED_OPTIONS: Array<[object, RegExp]> = [
  [{ bogus: 1 }, /pstore option bogus is unknown/],
  [{ consolebytes: 2048 }, /pstore option consolebytes is unknown/],
  [{ consoleBytes: "big" }, /pstore option consoleBytes: "big" will not do/],
  [{ consoleBytes: 4 }, /pstore options: consoleBytes must be >= 16/],
  [{ idleSeconds: -1 }, /pstore option idleSeconds: -1 will not do/],
  [{ maxReason: "nonsense" }, /pstore option maxReason: "nonsense" will not do/],
  [{ backend: "sdcard" }, /pstore option backend: "sdcard" will not do/],
  [{ codec: "lz4" }, /pstore option codec: "lz4" will not do/],
  [{ consoleDevice: 5 }, /pstore option consoleDevice: 5 will not do/],
  [{ debug: "yes" }, /pstore option debug: "yes" will not do/],
  [{ zones: "x" }, /pstore option zones: "x" will not do/],
];

test("PUCKJS: a malformed or unknown option in pstore.json stops start() at boot naming it; nothing is lost", async (t) => {
  const s = await seeded(t, "PUCKJS");
  for (const [options, message] of REFUSED_OPTIONS) {
    const boot = rebootWith(s.d, options);
    t.regex(boot, new RegExp("Uncaught Error: " + message.source), JSON.stringify(options));
    // pstore did not start, and says so rather than answering with an empty store.
    t.regex(String(s.d.attempt("require('pstore').list()").error), /pstore is not started/);
    s.d.dev.advance(20_000);
  }
  rebootWith(s.d, {});
  assertKept(t, s, "refused options");
});

// Bug (firmware/config.ts resolveSettings): consoleDevice is not checked against the devices the board has; with
// "Nope" the console is captured into LoopbackA and forwarded nowhere, so the REPL is gone until a power cycle
// with a fixed pstore.json (which needs the REPL). It should be refused naming the option and the devices there are.
test("PUCKJS: consoleDevice naming no device is refused, and the REPL stays reachable", async (t) => {
  const s = await seeded(t, "PUCKJS");
  const boot = rebootWith(s.d, { consoleDevice: "Nope" });
  t.regex(boot, /pstore option consoleDevice: "Nope"/);
  s.d.dev.write("1+2\n");
  s.d.dev.advance(10);
  t.regex(s.d.output(), /=3/);
});

// Bug (firmware/config.ts resolveSettings): any whole number passes as maxReason; 99 is no reason at all.
test("PUCKJS: maxReason beyond the last reason is refused naming the option", async (t) => {
  const s = await seeded(t, "PUCKJS");
  t.regex(rebootWith(s.d, { maxReason: 99 }), /pstore option maxReason: 99/);
});

/** Zone lists that cannot work on PUCKJS (ten 4 KB pages), with the field the error must name. */
const BAD_ZONES: Array<[string, unknown[], RegExp]> = [
  ["more pages than the region has", [{ name: "all", types: ["dmesg", "console", "pmsg", "event"], pages: 99, policy: "ring" }], /zones.*99.*10/],
  ["zero pages", [{ name: "all", types: ["dmesg", "console", "pmsg", "event"], pages: 0, policy: "ring" }], /zones\[0\].*pages/],
  ["a ring zone of one page", [{ name: "all", types: ["dmesg", "console", "pmsg", "event"], pages: 1, policy: "ring" }], /zones\[0\].*pages/],
  ["a fraction of a page", [{ name: "all", types: ["dmesg"], pages: 2.5, policy: "ring" }], /zones\[0\].*pages/],
  ["an unknown record type", [{ name: "all", types: ["dmesg", "bogus"], pages: 2, policy: "ring" }], /zones\[0\].*types.*bogus/],
  [
    "one record type in two zones",
    [{ name: "a", types: ["dmesg"], pages: 2, policy: "ring" }, { name: "b", types: ["dmesg", "pmsg"], pages: 2, policy: "ring" }],
    /zones\[1\].*types.*dmesg/,
  ],
  ["an unknown policy", [{ name: "a", types: ["dmesg"], pages: 2, policy: "fifo" }], /zones\[0\].*policy.*fifo/],
  ["a zone without a name", [{ types: ["dmesg"], pages: 2, policy: "ring" }], /zones\[0\].*name/],
  ["a zone that is null", [null], /zones\[0\]/],
  ["no zones at all", [], /zones/],
];

test("PUCKJS: zones that do not fit the board lose nothing already stored, whatever start() makes of them", async (t) => {
  const s = await seeded(t, "PUCKJS");
  for (const [what, zones] of BAD_ZONES) {
    rebootWithoutStart(s.d);
    s.d.attempt(`require('pstore').start(${JSON.stringify({ zones })})`);
    // Idle work (erases, page preparation) gets its chance to do damage too.
    s.d.dev.advance(30_000);
    await restoreDefaults(s.d, "PUCKJS");
    assertKept(t, s, what);
  }
});

// Bug (firmware/config.ts resolveSettings, pstore/core.ts): start() checks only that zones is an array. A zone
// list that cannot work is not refused: the flash backend fails to open (the reason shows only in status(), often
// without the field: "backend flash: unknown record type 0"), pmsg() then fails with "no pmsg zone", and some
// lists (one type in two zones, 2.5 pages, no name) are used as they are. start() should throw what the build's
// boards/validate.ts says for the same list: "<BOARD>: zones[i] (name).field: problem".
for (const [what, zones, field] of BAD_ZONES) {
  test(`PUCKJS: start() with ${what} throws naming the board and the field`, async (t) => {
    const s = await seeded(t, "PUCKJS");
    rebootWithoutStart(s.d);
    const r = s.d.attempt(`require('pstore').start(${JSON.stringify({ zones })})`);
    t.regex(String(r.error), /^PUCKJS: /);
    t.regex(String(r.error), field);
  });
}

// Bug (firmware/module.ts start): a second start() returns at once without looking at its options, so a typo in
// the application's own start({...}) call (the boot code already started pstore) goes unnoticed.
test("start() on a running pstore still refuses options it would refuse at boot", async (t) => {
  const s = await seeded(t, "PUCKJS");
  t.regex(String(s.d.attempt("require('pstore').start({ bogus: 1 })").error), /pstore option bogus is unknown/);
});

// ---------------------------------------------------------------------------------------------------------------
// Build time: the build's own overrides (--codec, --features) are checked against the board like its definition.

test("the build refuses overrides that do not fit the board, naming board and field", async (t) => {
  const outDir = mkdtempSync(join(tmpdir(), "pstore-bad-build-"));
  await t.throwsAsync(buildBoard("LINUX", { outDir, dryRun: true, features: { retained: true } }), {
    message: /^LINUX: features\.retained: is on but the board has no retained area/,
  });
  await t.throwsAsync(buildBoard("PUCKJS", { outDir, dryRun: true, codec: "zip" as never }), { message: /PUCKJS: codec "zip" is not one of raw, lz4, heatshrink/ });
  await t.throwsAsync(buildBoard("NOPE", { outDir, dryRun: true }), { message: /unknown board "NOPE"; valid boards: PUCKJS/ });
});

test("npm run build -- --board NOPE is a usage error (exit 2) in one clear line, no stack trace", (t) => {
  const outDir = mkdtempSync(join(tmpdir(), "pstore-bad-build-"));
  const result = spawnSync(process.execPath, ["--import=tsx", join(ROOT, "tools/build/build.ts"), "--board", "NOPE", "--out", outDir], { cwd: ROOT, encoding: "utf8" });
  t.is(result.status, 2);
  const text = result.stdout + result.stderr;
  t.regex(text, /unknown board "NOPE"; valid boards: PUCKJS/);
  t.false(/^\s+at /m.test(text), text);
});
