import test from "ava";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { buildBoard, GateError, main, parseArgs } from "../tools/build/build";

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

  // Defaults: PUCKJS has neither feature and uses heatshrink; LINUX has ftrace and lz4.
  const puck = await buildBoard("PUCKJS", { dryRun: true, entries });
  t.deepEqual(loadModule(puck.code.module!).features, { retained: false, ftrace: false, codec: "heatshrink" });
  const linux = await buildBoard("LINUX", { dryRun: true, entries });
  t.deepEqual(loadModule(linux.code.module!).features, { retained: false, ftrace: true, codec: "lz4" });
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

test("Bangle.js 2 also gets the App Loader metadata", async (t) => {
  const outDir = tempOut();
  const build = await buildBoard("BANGLEJS2", { outDir, entries: { module: moduleEntry, boot: bootEntry } });
  const metadataPath = join(outDir, "BANGLEJS2/metadata.json");
  t.true(build.files.includes(metadataPath));
  const metadata = JSON.parse(readFileSync(metadataPath, "utf8"));
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  t.is(metadata.id, "pstore");
  t.is(metadata.version, pkg.version);
  t.deepEqual(metadata.supports, ["BANGLEJS2"]);
  t.deepEqual(metadata.provides_modules, ["pstore"]);
  t.deepEqual(metadata.storage, [
    { name: "pstore.boot.js", url: "pstore.boot.js" },
    { name: "pstore", url: "pstore.js" },
  ]);
  const puck = await buildBoard("PUCKJS", { outDir, entries: { boot: bootEntry } });
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
  t.is(linux.codec, "lz4");
  t.is(linux.sizes[0].file, "LINUX/pstore.js");
});
