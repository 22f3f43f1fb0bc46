import test from "ava";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { buildBoard, GateError, main, parseArgs, ROOT } from "../tools/build/build";

// Small device-style entries standing in for firmware/module.ts and firmware/boot.ts.
const fixtures = mkdtempSync(join(tmpdir(), "pstore-build-fixtures-"));

function fixture(name: string, lines: string[]): string {
  const path = join(fixtures, name);
  writeFileSync(path, lines.join("\n") + "\n");
  return path;
}

const traceEntry = fixture("trace.ts", [
  "const traceBuffer: string[] = [];",
  'export function traceCall(name: string): void { traceBuffer.push("FTRACE_MARKER " + name); }',
  "export function traceCount(): number { return traceBuffer.length; }",
]);

const moduleEntry = fixture("module.ts", [
  'import { board } from "pstore-board";',
  `import { traceCall, traceCount } from "./${traceEntry.split("/").pop()!.replace(/\.ts$/, "")}";`,
  "export enum RecordKind { Dmesg = 1, Console = 2 }",
  "export class Store {",
  "  records = 0;",
  "  constructor(public readonly deviceName: string) {}",
  "  get label(): string { return `${this.deviceName}@${PSTORE_BOARD}/${board.codec}`; }",
  "}",
  "export function open(deviceName: string): Store {",
  '  if (PSTORE_FTRACE) traceCall("open");',
  "  return new Store(deviceName);",
  "}",
  "export function traced(): number { return PSTORE_FTRACE ? traceCount() : -1; }",
  "export const features = { retained: PSTORE_RETAINED, ftrace: board.features.ftrace, codec: PSTORE_CODEC };",
  "const somethingPrivate = 42;",
  "export function secret(): number { return somethingPrivate; }",
]);

const bootEntry = fixture("boot.ts", [
  "const bootedAtVeryLongName = 1234;",
  "function reportBoot(): number { return bootedAtVeryLongName; }",
  "(globalThis as any).bootResult = reportBoot();",
]);

const badEntry = fixture("bad.ts", [
  "export function widest(values: number[]): number {",
  "  const biggest = Math.max.apply(null, values);",
  "  return Math.trunc(biggest);",
  "}",
  "export const early = beforeDeclared();",
  "function beforeDeclared(): number { return 1; }",
]);

function tempOut(): string {
  return mkdtempSync(join(tmpdir(), "pstore-build-out-"));
}

/** Loads a built module the way Espruino does: evaluated with `exports` and `module` in scope. */
function loadModule(code: string): Record<string, any> {
  const module = { exports: {} as Record<string, any> };
  runInNewContext(code, { exports: module.exports, module });
  return module.exports;
}

test("builds a board's module and boot code into the output folder, minified, with sizes", async (t) => {
  const outDir = tempOut();
  const build = await buildBoard("PUCKJS", { outDir, entries: { module: moduleEntry, boot: bootEntry } });
  t.deepEqual(build.files, [join(outDir, "PUCKJS/pstore.js"), join(outDir, "PUCKJS/pstore.boot.js")]);
  for (const size of build.sizes) {
    const path = join(outDir, size.file);
    t.true(existsSync(path), path);
    t.is(statSync(path).size, size.bytes);
    t.true(size.gzip > 0);
  }
  const boot = readFileSync(join(outDir, "PUCKJS/pstore.boot.js"), "utf8");
  t.false(boot.includes("bootedAtVeryLongName"), "identifiers are minified");
  t.false(boot.includes("\n  "), "whitespace is minified");
  const context: Record<string, unknown> = {};
  context.globalThis = context;
  runInNewContext(boot, context);
  t.is(context.bootResult, 1234);
});

test("the module is an Espruino module: its API lands on `exports` and nothing else leaks", async (t) => {
  const build = await buildBoard("PUCKJS", { dryRun: true, entries: { module: moduleEntry } });
  const api = loadModule(build.code.module!);
  t.deepEqual(Object.keys(api).sort(), ["RecordKind", "Store", "features", "open", "secret", "traced"]);
  t.is(api.open("puck").label, "puck@PUCKJS/heatshrink");
  t.is(api.RecordKind.Console, 2);
  t.is(api.secret(), 42);
});

test("Espruino's own modules are left to its require, whether imported or required", async (t) => {
  const entry = fixture("builtins.ts", [
    'import Flash from "Flash";',
    'import * as Storage from "Storage";',
    'import { compress } from "heatshrink";',
    "declare const require: (name: string) => any;",
    "export function probe(): string {",
    '  return [Flash.getFree(), Storage.list(), compress("x"), require("crypto").SHA1("y")].join(",");',
    "}",
  ]);
  const build = await buildBoard("PUCKJS", { dryRun: true, entries: { module: entry } });
  const code = build.code.module!;
  t.false(code.includes("Proxy"), "esbuild's require shim is gone");
  const builtins: Record<string, unknown> = {
    Flash: { getFree: () => "free" },
    Storage: { list: () => "list" },
    heatshrink: { compress: (text: string) => `hs(${text})` },
    crypto: { SHA1: (text: string) => `sha(${text})` },
  };
  const loaded: string[] = [];
  const module = { exports: {} as Record<string, any> };
  runInNewContext(code, {
    exports: module.exports,
    module,
    require: (name: string) => {
      loaded.push(name);
      return builtins[name];
    },
  });
  t.is(module.exports.probe(), "free,list,hs(x),sha(y)");
  t.deepEqual(loaded.sort(), ["Flash", "Storage", "crypto", "heatshrink"]);
});

test("feature flags come from the board and can be overridden; what is off is not in the bundle", async (t) => {
  const entries = { module: moduleEntry };
  const withTrace = await buildBoard("PUCKJS", { dryRun: true, entries, features: { ftrace: true } });
  const withoutTrace = await buildBoard("PUCKJS", { dryRun: true, entries, features: { ftrace: false } });
  t.true(withTrace.code.module!.includes("FTRACE_MARKER"));
  t.false(withoutTrace.code.module!.includes("FTRACE_MARKER"));
  t.true(withoutTrace.sizes[0].bytes < withTrace.sizes[0].bytes);

  const traced = loadModule(withTrace.code.module!);
  traced.open("x");
  t.is(traced.traced(), 1);
  t.is(loadModule(withoutTrace.code.module!).traced(), -1);

  // Defaults: PUCKJS has neither feature and uses heatshrink; LINUX has ftrace and heatshrink.
  const puck = await buildBoard("PUCKJS", { dryRun: true, entries });
  t.deepEqual(loadModule(puck.code.module!).features, { retained: false, ftrace: false, codec: "heatshrink" });
  const linux = await buildBoard("LINUX", { dryRun: true, entries });
  t.deepEqual(loadModule(linux.code.module!).features, { retained: false, ftrace: true, codec: "heatshrink" });
  // The bundled board definition agrees with the overrides.
  const overridden = await buildBoard("PUCKJS", { dryRun: true, entries, features: { ftrace: true }, codec: "raw" });
  t.deepEqual(loadModule(overridden.code.module!).features, { retained: false, ftrace: true, codec: "raw" });
});

test("a feature the board cannot support is refused, naming the board and the field", async (t) => {
  await t.throwsAsync(buildBoard("LINUX", { dryRun: true, entries: { module: moduleEntry }, features: { retained: true } }), {
    message: /LINUX.*features\.retained/,
  });
});

test("a forbidden construct fails the build with file:line rule message, and the bundle is not written", async (t) => {
  const outDir = tempOut();
  await buildBoard("PUCKJS", { outDir, entries: { module: moduleEntry } });
  t.true(existsSync(join(outDir, "PUCKJS/pstore.js")));
  const error = await t.throwsAsync(buildBoard("PUCKJS", { outDir, entries: { module: badEntry } }), { instanceOf: GateError });
  const lines = error!.message.split("\n");
  t.true(lines.some((line) => /bad\.ts:3 missing-static Math\.trunc/.test(line)), error!.message);
  t.true(lines.some((line) => /bad\.ts:5 hoisting beforeDeclared is used before/.test(line)), error!.message);
  t.is((error as GateError).board, "PUCKJS");
  t.false(existsSync(join(outDir, "PUCKJS/pstore.js")), "the stale bundle of the earlier build is removed");
});

test("with hoist the late declaration is moved instead of rejected, and the rest is still gated", async (t) => {
  const lateOnly = fixture("late.ts", ["export const early = beforeDeclared();", "function beforeDeclared(): number { return 7; }"]);
  const build = await buildBoard("PUCKJS", { dryRun: true, entries: { module: lateOnly }, hoist: true });
  t.is(loadModule(build.code.module!).early, 7);
  await t.throwsAsync(buildBoard("PUCKJS", { dryRun: true, entries: { module: lateOnly } }), { instanceOf: GateError });
  await t.throwsAsync(buildBoard("PUCKJS", { dryRun: true, entries: { module: badEntry }, hoist: true }), {
    message: /bad\.ts:3 missing-static/,
  });
});

test("Bangle.js 2 gets the App Loader app only with all three bundles, other boards never", async (t) => {
  const outDir = tempOut();
  const partial = await buildBoard("BANGLEJS2", { outDir, entries: { module: moduleEntry, boot: bootEntry } });
  t.false(partial.files.some((file) => file.endsWith("metadata.json")), "an app without its service module would not run");
  const full = await buildBoard("BANGLEJS2", { outDir });
  t.true(full.files.includes(join(outDir, "BANGLEJS2/app/metadata.json")));
  const puck = await buildBoard("PUCKJS", { outDir });
  t.false(puck.files.some((file) => file.endsWith("metadata.json")));
});

test("a missing entry or board is an error that names it", async (t) => {
  await t.throwsAsync(buildBoard("PUCKJS", { dryRun: true, entries: { module: join(fixtures, "nope.ts") } }), {
    message: /PUCKJS: pstore\.js: entry .*nope\.ts does not exist/,
  });
  await t.throwsAsync(buildBoard("NOSUCHBOARD", { dryRun: true, entries: { module: moduleEntry } }), { message: /NOSUCHBOARD/ });
});

test("command line: feature flags, codec, boards", (t) => {
  t.deepEqual(parseArgs(["--features", "retained"]).features, { retained: true, ftrace: false });
  t.deepEqual(parseArgs(["--features", "none"]).features, { retained: false, ftrace: false });
  t.deepEqual(parseArgs(["--with", "ftrace", "--without", "retained"]).features, { ftrace: true, retained: false });
  t.deepEqual(parseArgs(["--board", "PUCKJS", "--board", "PICO,ESP32"]).boards, ["PUCKJS", "PICO", "ESP32"]);
  const options = parseArgs(["--codec", "lz4", "--out", "x", "--quiet", "--json", "--hoist"]);
  t.is(options.codec, "lz4");
  t.is(options.outDir, "x");
  t.true(options.quiet && options.json && options.hoist);
  t.throws(() => parseArgs(["--with", "bluetooth"]), { message: /unknown feature "bluetooth"/ });
  t.throws(() => parseArgs(["--codec", "zip"]), { message: /unknown codec "zip"/ });
  t.throws(() => parseArgs(["--board"]), { message: /--board needs a value/ });
});

async function runCli(argv: string[]): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const original = { log: console.log, error: console.error };
  console.log = (...parts: unknown[]) => void out.push(parts.join(" "));
  console.error = (...parts: unknown[]) => void err.push(parts.join(" "));
  try {
    return { status: await main(argv), out, err };
  } finally {
    Object.assign(console, original);
  }
}

test.serial("command line: a bad option exits with status 2", async (t) => {
  const run = await runCli(["--frobnicate"]);
  t.is(run.status, 2);
  t.regex(run.err.join("\n"), /unknown option "--frobnicate"/);
});

test.serial("command line: --quiet prints one size line per bundle; a gate failure prints file:line rule message once", async (t) => {
  const outDir = tempOut();
  const ok = await runCli(["--board", "PUCKJS,PICO", "--module", moduleEntry, "--boot", bootEntry, "--out", outDir, "--quiet"]);
  t.is(ok.status, 0, ok.err.join("\n"));
  t.is(ok.out.length, 4);
  for (const line of ok.out) {
    const [file, bytes] = line.split(" ");
    t.is(statSync(join(outDir, file)).size, Number(bytes));
    t.regex(line, /^(PUCKJS|PICO)\/pstore(\.boot)?\.js \d+ B \(gzip \d+ B\)$/);
  }
  const bad = await runCli(["--board", "PUCKJS,PICO", "--module", badEntry, "--out", outDir, "--quiet"]);
  t.is(bad.status, 1);
  t.is(bad.err.filter((line) => /bad\.ts:3 missing-static Math\.trunc/.test(line)).length, 1);
  t.regex(bad.err[bad.err.length - 1], /build failed for PUCKJS, PICO/);
});

test.serial("command line: --json reports each board's configuration and sizes", async (t) => {
  const run = await runCli(["--board", "LINUX", "--module", moduleEntry, "--out", tempOut(), "--json", "--without", "ftrace"]);
  t.is(run.status, 0);
  const [linux] = JSON.parse(run.out.join("\n"));
  t.is(linux.board, "LINUX");
  t.deepEqual(linux.features, { retained: false, ftrace: false });
  t.is(linux.codec, "heatshrink");
  t.is(linux.sizes[0].file, "LINUX/pstore.js");
});

// ---------------------------------------------------------------------------------------------------------
// Size budget (device issue: "Without retained memory or ftrace configured, the PUCKJS module stays under 12 KB
// minified; the build output says how big each bundle is").

const MODULE_BUDGET = 12288;

test("the default PUCKJS module leaves out what its configuration does not use, and says what it is made of", async (t) => {
  const puck = await buildBoard("PUCKJS", { dryRun: true });
  const module = puck.sizes.find((size) => size.file === "PUCKJS/pstore.js")!;
  t.is(module.budget, MODULE_BUDGET);
  t.true(module.enforced, "the budget applies to PUCKJS built with its defaults");
  const files = module.sources.map((source) => source.file);
  t.true(files.includes("pstore/zone.ts") && files.includes("firmware/module.ts"));
  for (const absent of ["pstore/backends/ram.ts", "hal/device/retained.ts", "pstore/backends/storage.ts", "hal/device/storage.ts", "pstore/ftrace.ts", "pstore/lz4.ts"]) {
    t.false(files.includes(absent), `${absent} is not in the default PUCKJS module`);
  }
  t.true(module.sources.reduce((sum, source) => sum + source.bytes, 0) <= module.bytes);
  const code = puck.code.module!;
  t.false(code.includes("nRF52832") || code.includes("programWordUs"), "board facts the device never reads are left out");
  t.false(code.includes("defineProperty"), "class fields are plain assignments");

  // Turning a part on brings it, and the lean-module budget then no longer applies; a storage board carries only that backend.
  const sourcesOf = (build: { sizes: Array<{ file: string; sources: Array<{ file: string }> }> }) =>
    build.sizes.find((size) => size.file.endsWith("/pstore.js"))!.sources.map((source) => source.file);
  const retained = await buildBoard("PUCKJS", { dryRun: true, features: { retained: true } });
  t.true(sourcesOf(retained).includes("pstore/backends/ram.ts") && sourcesOf(retained).includes("hal/device/retained.ts"));
  t.is(retained.sizes[0].budget, undefined);
  t.falsy(retained.sizes[0].enforced);
  const linux = await buildBoard("LINUX", { dryRun: true });
  t.is(linux.backend, "storage");
  t.true(sourcesOf(linux).includes("pstore/backends/storage.ts") && sourcesOf(linux).includes("hal/device/storage.ts"));
  t.false(sourcesOf(linux).includes("pstore/backends/flash.ts") || sourcesOf(linux).includes("hal/device/flash.ts"));
});

test("the service module carries the host service and the read side, the resident module neither", async (t) => {
  const puck = await buildBoard("PUCKJS", { dryRun: true });
  t.deepEqual(puck.sizes.map((size) => size.file), ["PUCKJS/pstore.js", "PUCKJS/pstore.svc.js", "PUCKJS/pstore.boot.js"]);
  const main = puck.code.module!;
  const svc = puck.code.svc!;
  for (const call of ["h", "l", "g", "e", "s", "i", "d", "list", "read", "erase", "status"]) t.true(svc.includes(`exports.${call}=`), `pstoresvc exports ${call}`);
  t.true(svc.includes("[PS1 ") && !main.includes("[PS1 "), "frames are the service module's");
  t.true(svc.includes("pendingErases") && !main.includes("pendingErases"), "zone status is the service module's");
  t.true(main.includes('"pstoresvc"'), "the module loads the service module by its Storage name");
  await t.throwsAsync(buildBoard("PUCKJS", { dryRun: true, entries: { svc: join(ROOT, "firmware/svc.ts") } }), { message: /pstore\.svc\.js.*module entry/ });
});

// The acceptance criterion itself (see the size table of `npm run build`; `npm test` builds with --strict-budget).
test("the default PUCKJS module is under 12 KB minified", async (t) => {
  const puck = await buildBoard("PUCKJS", { dryRun: true });
  const module = puck.sizes.find((size) => size.file === "PUCKJS/pstore.js")!;
  t.true(module.bytes < MODULE_BUDGET, `PUCKJS/pstore.js is ${module.bytes} B`);
});

test.serial("command line: the size table shows each module against the budget; over it, PUCKJS warns, or fails with --strict-budget", async (t) => {
  const big = fixture("big.ts", [`export const filler = ${JSON.stringify("x".repeat(MODULE_BUDGET))};`]);
  const outDir = tempOut();
  const table = await runCli(["--board", "PUCKJS,PICO", "--module", big, "--out", outDir]);
  t.is(table.status, 0, table.err.join("\n"));
  table.out = table.out.join("\n").split("\n");
  t.regex(table.out[0], new RegExp(`^bundle +features +codec +backend +bytes +gzip +budget ${MODULE_BUDGET}$`));
  t.regex(table.out.find((line) => line.startsWith("PUCKJS/pstore.js"))!, /heatshrink +flash +\d+ +\d+ +OVER \+\d+$/);
  t.deepEqual(table.err.filter((line) => line.startsWith("warning:")).map((line) => line.split(":")[1].trim()), ["PUCKJS/pstore.js"]);

  const small = await runCli(["--board", "PUCKJS", "--module", moduleEntry, "--out", outDir, "--strict-budget", "--sources"]);
  t.is(small.status, 0, small.err.join("\n"));
  small.out = small.out.join("\n").split("\n");
  t.regex(small.out.find((line) => line.startsWith("PUCKJS/pstore.js "))!, / \d+%$/);
  t.true(small.out.includes("PUCKJS/pstore.js:"), "--sources lists each module's sources");

  const strict = await runCli(["--board", "PUCKJS", "--module", big, "--out", outDir, "--strict-budget"]);
  t.is(strict.status, 1);
  t.regex(strict.err.join("\n"), /error: PUCKJS\/pstore\.js: \d+ B is over the 12288 B module budget/);
  // A build that changes the board's defaults is not held to the budget.
  const other = await runCli(["--board", "PUCKJS", "--module", big, "--out", outDir, "--strict-budget", "--with", "ftrace"]);
  t.is(other.status, 0, other.err.join("\n"));
});

test("command line: --backend picks the bundled backend", (t) => {
  t.is(parseArgs(["--backend", "storage"]).backend, "storage");
  t.throws(() => parseArgs(["--backend", "tape"]), { message: /unknown backend "tape"/ });
});
