// `npm run build`: bundles the device code once per board with esbuild, runs every bundle through the
// Espruino compatibility gate, and writes dist/<BOARD>/pstore.js (the module), pstore.svc.js (the service module:
// the host service and the read side, loaded on first use as Storage module "pstoresvc"), pstore.boot.js (boot
// code) and, for Bangle.js 2, the App Loader app in dist/BANGLEJS2/app/ (bangle-app.ts). A bundle that fails the
// gate is not written.
// The service module reads the main module's internal fields, so it is built after it with its mangled names.
//
// Why both bundles are built as ESM and then converted: Espruino evaluates a Storage module with `exports` and
// `module` in scope, and puts the module's top-level `var`s on `exports` too. esbuild's IIFE/CJS export glue
// (__toCommonJS) needs Object.prototype.hasOwnProperty, getters and a `let` loop capture, and its `require`
// shim for ES modules needs Proxy; none of that works on Espruino. So each bundle is built as ESM, then: imports
// of Espruino's own modules (`import Flash from "Flash"`, or `require("Flash")`) become plain `require` calls,
// the final `export{a as b}` becomes `exports.b=a`, and the whole is wrapped in an arrow IIFE so internal names
// stay private (and boot files concatenated into .boot0 do not collide). Exports are therefore copies taken
// when the module finishes loading: export functions, classes and constants, not variables reassigned later.

import * as acorn from "acorn";
import * as esbuild from "esbuild";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { boardNames, getBoard } from "../../boards/index";
import { deviceBoard, residentBoard } from "../../boards/device";
import type { BackendName, BoardDefinition, CodecName } from "../../boards/types";
import { validateBoard } from "../../boards/validate";
import { writeBangleApp } from "./bangle-app";
import { formatFinding, gate, type Finding } from "./gate";
import { hoistFunctionDeclarations } from "./hoist";
import { MODULE_FILE, SERVICE_FILE } from "./installed-files";
import { editGenerated, type Edit, type SourceMap } from "./sourcemap";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export type BundleKind = "module" | "svc" | "boot";
export type FeatureName = keyof BoardDefinition["features"];

const FEATURE_NAMES: FeatureName[] = ["retained", "ftrace"];
const CODEC_NAMES: CodecName[] = ["raw", "lz4", "heatshrink"];
const BACKEND_NAMES: BackendName[] = ["flash", "storage"];
/**
 * What a lean module bundle (neither retained RAM nor ftrace built in) should weigh at most: 12 KB, what a Puck.js
 * (2630 variables) can spare for pstore. The size table shows every lean module against it (the optional parts are
 * for boards with room to spare); for the boards in BUDGET_ENFORCED built with their own defaults, going over it is a
 * warning, or with --strict-budget a failure.
 */
export const MODULE_BUDGET = 12288;
const BUDGET_ENFORCED = new Set(["PUCKJS"]);
/** Boards whose apps are installed through the Bangle.js App Loader (tools/build/bangle-app.ts). */
const BANGLE_APP_BOARDS = new Set(["BANGLEJS2"]);

export const BUNDLE_FILES: Record<BundleKind, string> = { module: "pstore.js", svc: "pstore.svc.js", boot: "pstore.boot.js" };
/** Storage names of the two modules (the boot code's name depends on the board: installed-files.ts). */
export const MODULE_STORAGE_NAMES = { module: MODULE_FILE, svc: SERVICE_FILE } as const;
const DEFAULT_ENTRIES: Record<BundleKind, string> = {
  module: join(ROOT, "firmware/module.ts"),
  svc: join(ROOT, "firmware/svc.ts"),
  boot: join(ROOT, "firmware/boot.ts"),
};

export interface BuildOptions {
  /** Output folder; each board gets a subfolder. Default `dist` (relative to the working directory). */
  outDir?: string;
  /**
   * Entry files per bundle. When given, only the bundles listed are built (a service module only together with its
   * main module). Default: firmware/module.ts, firmware/svc.ts and firmware/boot.ts.
   */
  entries?: Partial<Record<BundleKind, string>>;
  /** Feature overrides on top of the board's `features`. */
  features?: Partial<Record<FeatureName, boolean>>;
  /** Codec override (default the board's `codec`). */
  codec?: CodecName;
  /** Backend override (default the board's `backend`): a bundle carries one backend. */
  backend?: BackendName;
  /** Move function declarations to the top of their scopes before gating (see hoist.ts). Default off. */
  hoist?: boolean;
  /** Build and gate only; write nothing. */
  dryRun?: boolean;
  /** The bench's usage probe (PSTORE_STAGES in firmware/build-flags.d.ts). Default off: no bundle pstore installs has it. */
  stages?: boolean;
}

export interface BundleSize {
  /** Path relative to the output folder, e.g. `PUCKJS/pstore.js`. */
  file: string;
  bytes: number;
  gzip: number;
  /** Bytes of the minified bundle each source file accounts for (esbuild metafile), largest first. */
  sources: Array<{ file: string; bytes: number }>;
  /** The module bundle's budget (MODULE_BUDGET); absent for boot code. */
  budget?: number;
  /** The budget is enforced for this build (a BUDGET_ENFORCED board with its own defaults): over it, the command line warns, or fails with `--strict-budget`. */
  enforced?: boolean;
}

export interface BoardBuild {
  board: string;
  features: Record<FeatureName, boolean>;
  codec: CodecName;
  backend: BackendName;
  /** Absolute paths of the files written. */
  files: string[];
  sizes: BundleSize[];
  /** The bundles' text, by kind (what was or would be written). */
  code: Partial<Record<BundleKind, string>>;
}

export interface GateFailure {
  /** `BOARD/file` of the failing bundle. */
  bundle: string;
  finding: Finding;
}

/** Thrown when a bundle fails the gate; `message` lists every finding as `file:line rule message`. */
export class GateError extends Error {
  constructor(
    readonly board: string,
    readonly failures: GateFailure[],
  ) {
    super(failures.map((failure) => formatFinding(failure.finding, failure.bundle)).join("\n"));
  }
}

/** Board definition with the build's overrides applied, validated. */
export function configureBoard(boardName: string, options: BuildOptions = {}): BoardDefinition {
  const base = getBoard(boardName);
  const features = { ...base.features, ...options.features };
  const codec = options.codec ?? base.codec;
  if (!CODEC_NAMES.includes(codec)) throw new Error(`board ${boardName}: codec "${codec}" is not one of ${CODEC_NAMES.join(", ")}`);
  const backend = options.backend ?? base.backend;
  if (!BACKEND_NAMES.includes(backend)) throw new Error(`board ${boardName}: backend "${backend}" is not one of ${BACKEND_NAMES.join(", ")}`);
  const board: BoardDefinition = { ...base, features, codec, backend };
  validateBoard(board);
  if (!existsSync(join(ROOT, "boards", `${boardName}.ts`))) {
    throw new Error(`board ${boardName}: boards/${boardName}.ts is missing (the bundle imports it as "pstore-board")`);
  }
  return board;
}

function buildDefines(board: BoardDefinition, stages: boolean): Record<string, string> {
  return {
    PSTORE_STAGES: String(stages),
    PSTORE_BOARD: JSON.stringify(board.name),
    PSTORE_RETAINED: String(board.features.retained),
    PSTORE_FTRACE: String(board.features.ftrace),
    PSTORE_CODEC: JSON.stringify(board.codec),
    PSTORE_BACKEND: JSON.stringify(board.backend),
  };
}

/**
 * Resolves `pstore-board` to the board being built: the device's subset of boards/<BOARD>.ts (boards/device.ts)
 * with the build's feature, codec and backend overrides applied, so `board.features`, `board.codec` and
 * `board.backend` always agree with the PSTORE_* constants; and `pstore-resident-board` to the part of it the
 * resident module reads after boot (residentBoard).
 */
function boardModulePlugin(board: BoardDefinition): esbuild.Plugin {
  const device = deviceBoard(board);
  return {
    name: "pstore-board",
    setup(build) {
      build.onResolve({ filter: /^pstore(-resident)?-board$/ }, (args) => ({ path: join(ROOT, "boards", `${board.name}.ts`), namespace: args.path }));
      build.onLoad({ filter: /.*/, namespace: "pstore-board" }, () => ({ contents: boardModule(device), loader: "js", resolveDir: join(ROOT, "boards") }));
      build.onLoad({ filter: /.*/, namespace: "pstore-resident-board" }, () => ({
        contents: boardModule(residentBoard(device)),
        loader: "js",
        resolveDir: join(ROOT, "boards"),
      }));
    },
  };
}

/**
 * The board as an ES module. Pages of one size back to back (every board so far) are built by a loop: ten
 * `{addr,size}` literals would cost the resident module some 200 bytes more.
 */
function boardModule(board: object & { pages?: Array<{ addr: number; size: number }> }): string {
  const pages = board.pages;
  const size = pages && pages.length > 0 ? pages[0].size : 0;
  if (!pages || !size || !pages.every((page, i) => page.size === size && page.addr === pages[0].addr + i * size)) {
    return `export const board = ${JSON.stringify(board)};\n`;
  }
  const start = pages[0].addr;
  const end = start + pages.length * size;
  return (
    `const pages = [];\nfor (let addr = ${start}; addr < ${end}; addr += ${size}) pages.push({ addr: addr, size: ${size} });\n` +
    `export const board = ${JSON.stringify({ ...board, pages: undefined }).replace(/}$/, ",pages:pages}")};\n`
  );
}

function displayPath(absolute: string): string {
  return absolute.startsWith(ROOT + sep) ? relative(ROOT, absolute) : absolute;
}

/**
 * Device code's naming convention for properties nothing outside the bundle reads: a trailing underscore. The build
 * shortens them to one or two letters (esbuild mangleProps), which is safe because no built-in and no name the host
 * or the application uses ends in "_".
 */
export const MANGLED_PROPERTIES = /_$/;

/** Espruino's built-in modules: left to Espruino's own `require` instead of being bundled. */
export const ESPRUINO_MODULES = [
  "Flash", "Storage", "heatshrink", "crypto", "fs", "neopixel", "http", "net", "dgram", "tls", "Wifi", "ESP32", "ESP8266",
  "Telnet", "NetworkJS",
];

/**
 * esbuild's stand-in for `require` in ES modules (`__require`): it probes `typeof require` and wraps it in a
 * Proxy, which Espruino lacks. Its declarator is recognised by the `typeof require` probe it starts with.
 */
function isRequireShim(node: acorn.AnyNode | null | undefined): boolean {
  if (node?.type !== "CallExpression" || node.callee.type !== "ArrowFunctionExpression") return false;
  const body = node.callee.body;
  return (
    body.type === "ConditionalExpression" &&
    body.test.type === "BinaryExpression" &&
    body.test.left.type === "UnaryExpression" &&
    body.test.left.operator === "typeof" &&
    body.test.left.argument.type === "Identifier" &&
    body.test.left.argument.name === "require"
  );
}

function specifierName(node: acorn.Identifier | acorn.Literal): string {
  return node.type === "Identifier" ? node.name : String(node.value);
}

/** `.name`, or `["name"]` when the name is not an identifier. */
function propertyAccess(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/**
 * Turns esbuild's ESM output into code Espruino runs (see the comment at the top of this file): imports of
 * Espruino's modules become `require` calls, the `export{}` list becomes assignments to `exports` (module
 * bundles only), esbuild's `__require` shim becomes plain `require`, and everything is wrapped in an arrow IIFE.
 */
function toEspruinoScript(code: string, map: SourceMap, kind: BundleKind, where: string): { code: string; map: SourceMap } {
  const program = acorn.parse(code, { ecmaVersion: "latest", sourceType: "module" });
  const edits: Edit[] = [];
  for (const statement of program.body) {
    if (statement.type === "ImportDeclaration") {
      const source = String(statement.source.value);
      const load = `require(${JSON.stringify(source)})`;
      const text = statement.specifiers.length === 0
        ? `${load};`
        : statement.specifiers
            .map((specifier) =>
              specifier.type === "ImportSpecifier"
                ? `var ${specifier.local.name}=${load}${propertyAccess(specifierName(specifier.imported))};`
                : `var ${specifier.local.name}=${load};`,
            )
            .join("");
      edits.push({ start: statement.start, end: statement.end, text });
    } else if (statement.type === "ExportNamedDeclaration" && !statement.declaration && !statement.source) {
      if (kind === "boot" && statement.specifiers.length > 0) {
        throw new Error(`${where}: the boot entry exports ${statement.specifiers.map((s) => specifierName(s.exported)).join(", ")}, but boot code has no exports`);
      }
      const text = statement.specifiers
        .map((specifier) => {
          return `exports${propertyAccess(specifierName(specifier.exported))}=${specifierName(specifier.local)};`;
        })
        .join("");
      edits.push({ start: statement.start, end: statement.end, text });
    } else if (statement.type === "ExportNamedDeclaration" || statement.type === "ExportAllDeclaration" || statement.type === "ExportDefaultDeclaration") {
      throw new Error(`${where}: unexpected ${statement.type} left in the bundle`);
    } else if (statement.type === "VariableDeclaration") {
      for (const declarator of statement.declarations) {
        if (isRequireShim(declarator.init)) edits.push({ start: declarator.init!.start, end: declarator.init!.end, text: "require" });
      }
    }
  }
  edits.push({ start: 0, end: 0, text: "(()=>{" });
  const end = code.replace(/\s*$/, "").length;
  edits.push({ start: end, end: code.length, text: "})();\n" });
  return editGenerated(code, map, edits);
}

interface BundleOutput {
  kind: BundleKind;
  file: string;
  code: string;
  findings: Finding[];
  sources: BundleSize["sources"];
  /** Mangled property names (esbuild mangleCache), for a bundle that must agree with this one. */
  mangleCache: Record<string, string | false>;
}

async function bundle(
  board: BoardDefinition,
  kind: BundleKind,
  entry: string,
  outDir: string,
  flags: { hoist: boolean; stages: boolean },
  mangleCache?: Record<string, string | false>,
): Promise<BundleOutput> {
  const file = `${board.name}/${BUNDLE_FILES[kind]}`;
  if (!existsSync(entry)) throw new Error(`board ${board.name}: ${BUNDLE_FILES[kind]}: entry ${displayPath(entry)} does not exist`);
  const outfile = join(outDir, file);
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      target: "es2015",
      minify: true,
      // Class fields as plain assignments in the constructor: the define semantics cost a helper in every bundle.
      tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
      // Internal property names end in "_" (see MANGLED_PROPERTIES); everything the host or the application reads
      // (status, record metadata, options, the service, exports) keeps its name.
      mangleProps: MANGLED_PROPERTIES,
      mangleCache: mangleCache ?? {},
      platform: "neutral",
      sourcemap: "external",
      write: false,
      outfile,
      absWorkingDir: ROOT,
      define: buildDefines(board, flags.stages),
      external: ESPRUINO_MODULES,
      plugins: [boardModulePlugin(board)],
      legalComments: "none",
      charset: "ascii",
      logLevel: "silent",
      metafile: true,
    });
  } catch (error) {
    const failure = error as esbuild.BuildFailure;
    if (!failure.errors) throw error;
    const lines = failure.errors.map((message) =>
      message.location ? `${message.location.file}:${message.location.line}:${message.location.column + 1} ${message.text}` : message.text,
    );
    throw new Error(`board ${board.name}: ${BUNDLE_FILES[kind]}: esbuild failed\n${lines.join("\n")}`);
  }
  const jsFile = result.outputFiles.find((output) => output.path.endsWith(".js"));
  const mapFile = result.outputFiles.find((output) => output.path.endsWith(".map"));
  if (!jsFile || !mapFile) throw new Error(`board ${board.name}: ${BUNDLE_FILES[kind]}: esbuild produced no output`);
  let map = JSON.parse(mapFile.text) as SourceMap;
  map.sources = map.sources.map((source) => {
    // Plugin modules are named `namespace:path` (the board module is `pstore-board:/…/boards/X.ts`).
    const namespaced = /^[a-z][\w-]+:(\/.*)$/.exec(source);
    return displayPath(namespaced ? namespaced[1] : resolve(dirname(outfile), source));
  });
  delete map.sourcesContent;
  let code = jsFile.text.replace(/\/\/# sourceMappingURL=.*\n?$/, "");
  ({ code, map } = toEspruinoScript(code, map, kind, file));
  if (flags.hoist) {
    const hoisted = hoistFunctionDeclarations(code, map);
    code = hoisted.code;
    map = hoisted.map ?? map;
  }
  const inputs = Object.values(result.metafile?.outputs ?? {}).find((output) => output.entryPoint)?.inputs ?? {};
  const sources = Object.entries(inputs)
    .map(([input, info]) => ({ file: displayPath(resolve(ROOT, input.replace(/^[a-z][\w-]+:/, ""))), bytes: info.bytesInOutput }))
    .filter((source) => source.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  return { kind, file, code, findings: gate(code, map), sources, mangleCache: result.mangleCache ?? {} };
}

/** Whether the build's overrides left the board's own features, codec and backend as they are. */
function builtWithDefaults(board: BoardDefinition): boolean {
  const base = getBoard(board.name);
  return board.codec === base.codec && board.backend === base.backend && FEATURE_NAMES.every((name) => board.features[name] === base.features[name]);
}

/** Builds (and unless `dryRun`, writes) the bundles of one board. Throws GateError when a bundle fails the gate. */
export async function buildBoard(boardName: string, options: BuildOptions = {}): Promise<BoardBuild> {
  const board = configureBoard(boardName, options);
  const outDir = resolve(options.outDir ?? "dist");
  const entries = options.entries ?? DEFAULT_ENTRIES;
  if (entries.svc !== undefined && entries.module === undefined) {
    throw new Error(`board ${board.name}: ${BUNDLE_FILES.svc} is built with the mangled names of ${BUNDLE_FILES.module}: give a module entry too`);
  }
  const flags = { hoist: options.hoist ?? false, stages: options.stages ?? false };
  const [main, boot] = await Promise.all([
    entries.module === undefined ? undefined : bundle(board, "module", resolve(entries.module), outDir, flags),
    entries.boot === undefined ? undefined : bundle(board, "boot", resolve(entries.boot), outDir, flags),
  ]);
  const svc = entries.svc === undefined ? undefined : await bundle(board, "svc", resolve(entries.svc), outDir, flags, main!.mangleCache);
  const outputs = [main, svc, boot].filter((output): output is BundleOutput => output !== undefined);
  const failures = outputs.flatMap((output) => output.findings.map((finding) => ({ bundle: output.file, finding })));
  if (failures.length > 0) {
    // A stale bundle from an earlier build must not be mistaken for this one.
    if (!options.dryRun) await Promise.all(outputs.map((output) => rm(join(outDir, output.file), { force: true })));
    throw new GateError(board.name, failures);
  }
  const build: BoardBuild = { board: board.name, features: board.features, codec: board.codec, backend: board.backend, files: [], sizes: [], code: {} };
  for (const output of outputs) {
    build.code[output.kind] = output.code;
    const size: BundleSize = { file: output.file, bytes: Buffer.byteLength(output.code), gzip: gzipSync(output.code, { level: 9 }).length, sources: output.sources };
    if (output.kind === "module" && !board.features.retained && !board.features.ftrace) {
      size.budget = MODULE_BUDGET;
      size.enforced = BUDGET_ENFORCED.has(board.name) && builtWithDefaults(board);
    }
    build.sizes.push(size);
  }
  if (options.dryRun) return build;
  await mkdir(join(outDir, board.name), { recursive: true });
  for (const output of outputs) {
    const path = join(outDir, output.file);
    await writeFile(path, output.code);
    build.files.push(path);
  }
  if (BANGLE_APP_BOARDS.has(board.name) && main && svc && boot) {
    const bundles = {
      module: { name: MODULE_STORAGE_NAMES.module, code: main.code },
      svc: { name: MODULE_STORAGE_NAMES.svc, code: svc.code },
      boot: { code: boot.code },
    };
    build.files.push(...(await writeBangleApp(ROOT, join(outDir, board.name), board.name, bundles)));
  }
  return build;
}

// ---------------------------------------------------------------------------------------------------------
// Command line

export interface CliOptions {
  boards: string[];
  outDir: string;
  quiet: boolean;
  json: boolean;
  hoist: boolean;
  features: Partial<Record<FeatureName, boolean>>;
  codec?: CodecName;
  backend?: BackendName;
  /** Also print what each module bundle is made of (bytes per source file). */
  sources: boolean;
  /** Fail (exit 1) when a bundle whose budget is enforced is over it; without it the build only warns. */
  strictBudget: boolean;
  /** Entry overrides; when any is given, only the bundles given are built. */
  entries?: Partial<Record<BundleKind, string>>;
}

const USAGE = `usage: npm run build -- [options]
  --board NAME         build only this board (repeatable; default: every board in boards/)
  --out DIR            output folder (default dist)
  --features A,B       build exactly these features (${FEATURE_NAMES.join(", ")}; "none" for none)
  --with A[,B]         add features to the board's defaults
  --without A[,B]      remove features from the board's defaults
  --codec NAME         compressor to bundle (${CODEC_NAMES.join(", ")})
  --backend NAME       backend to bundle (${BACKEND_NAMES.join(", ")}; default the board's)
  --sources            also list the bytes each source file adds to each module bundle
  --strict-budget      fail when the PUCKJS module built with the board's defaults is over ${MODULE_BUDGET} B
                       (without it an over-budget bundle is a warning)
  --module FILE        entry of pstore.js (default firmware/module.ts); with --module, --svc or --boot only those are built
  --svc FILE           entry of pstore.svc.js (default firmware/svc.ts; needs --module too)
  --boot FILE          entry of pstore.boot.js (default firmware/boot.ts)
  --hoist              move function declarations to the top of their scopes instead of rejecting late ones
  --quiet              print only one line per bundle and errors
  --json               print the results as JSON`;

function featureList(value: string, flag: string): FeatureName[] {
  if (value === "none" || value === "") return [];
  return value.split(",").map((name) => {
    if (!(FEATURE_NAMES as string[]).includes(name)) throw new Error(`${flag}: unknown feature "${name}" (known: ${FEATURE_NAMES.join(", ")})`);
    return name as FeatureName;
  });
}

export function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { boards: [], outDir: "dist", quiet: false, json: false, hoist: false, sources: false, strictBudget: false, features: {} };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined || next.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
      return next;
    };
    switch (flag) {
      case "--board":
        for (const name of value().split(",")) {
          // getBoard's error lists the valid names; a bad name is a usage error, found before anything is built.
          getBoard(name);
          options.boards.push(name);
        }
        break;
      case "--out":
        options.outDir = value();
        break;
      case "--features": {
        const chosen = featureList(value(), flag);
        for (const name of FEATURE_NAMES) options.features[name] = chosen.includes(name);
        break;
      }
      case "--with":
        for (const name of featureList(value(), flag)) options.features[name] = true;
        break;
      case "--without":
        for (const name of featureList(value(), flag)) options.features[name] = false;
        break;
      case "--codec": {
        const codec = value();
        if (!(CODEC_NAMES as string[]).includes(codec)) throw new Error(`--codec: unknown codec "${codec}" (known: ${CODEC_NAMES.join(", ")})`);
        options.codec = codec as CodecName;
        break;
      }
      case "--backend": {
        const backend = value();
        if (!(BACKEND_NAMES as string[]).includes(backend)) throw new Error(`--backend: unknown backend "${backend}" (known: ${BACKEND_NAMES.join(", ")})`);
        options.backend = backend as BackendName;
        break;
      }
      case "--sources":
        options.sources = true;
        break;
      case "--strict-budget":
        options.strictBudget = true;
        break;
      case "--module":
      case "--svc":
      case "--boot":
        options.entries = { ...options.entries, [flag.slice(2)]: value() };
        break;
      case "--hoist":
        options.hoist = true;
        break;
      case "--quiet":
        options.quiet = true;
        break;
      case "--json":
        options.json = true;
        break;
      case "--help":
      case "-h":
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option "${flag}"\n${USAGE}`);
    }
  }
  return options;
}

/** "74%" of the budget, or "OVER +1234" bytes; "-" for a bundle without one. */
function budgetCell(size: BundleSize): string {
  if (size.budget === undefined) return "-";
  return size.bytes > size.budget ? `OVER +${size.bytes - size.budget}` : `${Math.round((size.bytes / size.budget) * 100)}%`;
}

function sizeTable(builds: BoardBuild[]): string {
  const rows = [["bundle", "features", "codec", "backend", "bytes", "gzip", `budget ${MODULE_BUDGET}`]];
  for (const build of builds) {
    const features = FEATURE_NAMES.filter((name) => build.features[name]).join(",") || "-";
    for (const size of build.sizes) {
      rows.push([size.file, features, build.codec, build.backend, String(size.bytes), String(size.gzip), budgetCell(size)]);
    }
  }
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) => row.map((cell, column) => (column >= 4 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join("  ").trimEnd())
    .join("\n");
}

export async function main(argv: string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseArgs(argv);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const names = options.boards.length > 0 ? options.boards : boardNames();
  const results = await Promise.allSettled(
    names.map((name) =>
      buildBoard(name, {
        outDir: options.outDir,
        entries: options.entries,
        features: options.features,
        codec: options.codec,
        backend: options.backend,
        hoist: options.hoist,
      }),
    ),
  );
  const builds: BoardBuild[] = [];
  const failedBoards: string[] = [];
  // Boards built from the same sources report the same finding: print each line once.
  const errorLines = new Set<string>();
  results.forEach((result, index) => {
    if (result.status === "fulfilled") builds.push(result.value);
    else {
      failedBoards.push(names[index]);
      for (const line of (result.reason as Error).message.split("\n")) errorLines.add(line);
    }
  });
  for (const line of errorLines) console.error(line);
  if (options.json) {
    console.log(JSON.stringify(builds.map(({ code: _code, ...build }) => build), null, 2));
  } else if (options.quiet) {
    for (const build of builds) for (const size of build.sizes) console.log(`${size.file} ${size.bytes} B (gzip ${size.gzip} B)`);
  } else if (builds.length > 0) {
    console.log(sizeTable(builds));
    const outDir = resolve(options.outDir);
    console.log(`written to ${isAbsolute(options.outDir) ? outDir : relative(process.cwd(), outDir) || "."}`);
  }
  if (options.sources && !options.json) {
    for (const build of builds) {
      for (const size of build.sizes.filter((bundleSize) => bundleSize.budget !== undefined)) {
        console.log(`${size.file}:`);
        for (const source of size.sources) console.log(`${String(source.bytes).padStart(8)}  ${source.file}`);
      }
    }
  }
  // Over budget: a warning, or with --strict-budget for an enforced build (PUCKJS with its defaults) a failure.
  let overBudget = false;
  for (const build of builds) {
    for (const size of build.sizes) {
      if (!size.enforced || size.budget === undefined || size.bytes <= size.budget) continue;
      const fatal = options.strictBudget;
      overBudget = overBudget || fatal;
      console.error(`${fatal ? "error" : "warning"}: ${size.file}: ${size.bytes} B is over the ${size.budget} B module budget by ${size.bytes - size.budget} B`);
    }
  }
  if (failedBoards.length > 0) console.error(`build failed for ${failedBoards.join(", ")}`);
  return failedBoards.length > 0 || overBudget ? 1 : 0;
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
