// `npm run bench`: the benchmark suite. Sections: codecs on the log corpus against the reference LZ4, bundle sizes,
// flash cost per record type and board, boot scan scaling, host decode of a full image, serial pull efficiency.
// A section whose dependencies are missing or fail reports "not available: <why>" instead of figures.
//
//   npm run bench [-- --quick] [--json [FILE]] [--markdown FILE]
//
// --quick is a seconds-long smoke run (one small corpus slice, one or two boards, short timings) for the tests.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { loadCorpus, type CorpusFile } from "../../test/helpers/corpus";
import { deviceSectionOf } from "./device-figures";
import { markdownReport, textReport } from "./report";
import { SECTION_NAMES, type BenchMeta, type BenchResults, type Section, type SectionName } from "./results";

export interface BenchOptions {
  quick: boolean;
  /** Called before each section starts, e.g. for a progress line. */
  onSection?: (name: SectionName) => void;
}

interface Plan {
  corpus: CorpusFile[];
  /** Text the flash, decode and pull sections cut their payloads from. */
  text: Uint8Array;
  minMs: number;
  boards?: string[];
  flashBoards?: string[];
  bootCounts: number[];
  /** Records per pull in the archive section. */
  archiveCounts: number[];
}

/** The quick run's corpus: the first file, cut to this many bytes. */
const QUICK_CORPUS_BYTES = 16 * 1024;
const PAYLOAD_TEXT = "Linux_2k.log";

function plan(quick: boolean): Plan {
  const full = loadCorpus();
  const corpus = quick ? [{ name: full[0].name, data: full[0].data.subarray(0, QUICK_CORPUS_BYTES) }] : full;
  const text = (full.find((f) => f.name === PAYLOAD_TEXT) ?? full[0]).data;
  return quick
    ? { corpus, text, minMs: 5, boards: ["PUCKJS"], flashBoards: ["PUCKJS", "LINUX"], bootCounts: [10, 100], archiveCounts: [100, 400] }
    : { corpus, text, minMs: 250, bootCounts: [10, 100, 1000], archiveCounts: [1000, 4000] };
}

async function section<T>(run: () => Promise<T>): Promise<Section<T>> {
  try {
    return { available: true, ...(await run()) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { available: false, reason: message.split("\n")[0] };
  }
}

export async function runBench(options: BenchOptions, command: string): Promise<BenchResults> {
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  const p = plan(options.quick);
  const say = (name: SectionName) => options.onSection?.(name);
  // Each section loads its modules itself, so a missing or broken dependency costs that section only.
  say("codecs");
  const codecs = await section(async () => {
    const { benchCodecs, BLOCK_SIZE } = await import("./codecs");
    return { blockSize: BLOCK_SIZE, rows: benchCodecs(p.corpus, { minMs: p.minMs }) };
  });
  say("bundles");
  const bundles = await section(async () => {
    const { benchBundles } = await import("./bundles");
    const { MODULE_BUDGET } = await import("../build/build");
    return { budgetBytes: MODULE_BUDGET, ...(await benchBundles(p.boards)) };
  });
  say("flashCost");
  const flashCost = await section(async () => {
    const { benchFlashCost } = await import("./flash-cost");
    return { rows: benchFlashCost({ boards: p.flashBoards, text: p.text }) };
  });
  say("bootScan");
  const bootScan = await section(async () => {
    const { benchBootScan } = await import("./boot-scan");
    return { rows: benchBootScan(p.bootCounts, p.minMs) };
  });
  say("decode");
  const decode = await section(async () => {
    const { benchDecode } = await import("./decode");
    return { rows: await benchDecode({ boards: p.boards, text: p.text, minMs: p.minMs }) };
  });
  say("serialPull");
  const serialPull = await section(async () => {
    const { benchSerialPull } = await import("./serial-pull");
    return { rows: await benchSerialPull(p.text) };
  });
  say("archive");
  const archive = await section(async () => {
    const { benchArchive } = await import("./archive");
    return { rows: await benchArchive(p.archiveCounts, p.text) };
  });
  const meta: BenchMeta = {
    date: new Date(started).toISOString(),
    command,
    quick: options.quick,
    node: process.versions.node,
    platform: `${os.platform()} ${os.arch()}`,
    cpu: os.cpus()[0]?.model.trim() ?? "unknown",
    cpus: os.cpus().length,
    loadBefore,
    loadAfter: os.loadavg()[0],
    seconds: (Date.now() - started) / 1000,
    corpus: p.corpus.map((f) => ({ file: f.name, bytes: f.data.length })),
  };
  return { meta, codecs, bundles, flashCost, bootScan, decode, serialPull, archive };
}

interface CliArgs {
  quick: boolean;
  /** undefined: no JSON; "-": JSON on stdout instead of the table; else a file. */
  json?: string;
  markdown?: string;
  /** Only the real-interpreter section (tools/bench/device.ts); --markdown then replaces that section of FILE. */
  device?: true;
  help: boolean;
}

const USAGE = `Usage: npm run bench -- [--quick] [--json [FILE]] [--markdown FILE]
       npm run bench -- --device [--json [FILE]] [--markdown FILE]

  --quick          a few seconds: small corpus slice, PUCKJS (and LINUX for flash cost), short timings
  --json [FILE]    write the results as JSON to FILE (without FILE: to stdout, instead of the table)
  --markdown FILE  write the report as Markdown (docs/PERFORMANCE.md holds the latest full run)
  --device         only what pstore costs on the real interpreter (ESPRUINO_BIN, valgrind for instruction
                   counts; BANGLE_EMU for the Bangle.js 2 firmware's figures); with --markdown it replaces
                   that file's section "Device cost on the real interpreter" (a full run keeps it)
  -h, --help       this text
`;

export function parseBenchArgs(argv: string[]): CliArgs {
  const args: CliArgs = { quick: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    if (arg === "--quick") args.quick = true;
    else if (arg === "--device") args.device = true;
    else if (arg === "-h" || arg === "--help") args.help = true;
    else if (arg === "--json") {
      args.json = next !== undefined && !next.startsWith("-") ? next : "-";
      if (args.json !== "-") i++;
    } else if (arg === "--markdown") {
      if (next === undefined || next.startsWith("-")) throw new Error("--markdown needs a file name");
      args.markdown = next;
      i++;
    } else throw new Error(`unknown argument ${JSON.stringify(arg)}\n\n${USAGE}`);
  }
  return args;
}

async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = ["npm run bench", ...(argv.length ? ["--", ...argv] : [])].join(" ");
  if (args.device) return deviceMain(args, command);
  let sectionStart = performance.now();
  let current: SectionName | undefined;
  const progress = (name?: SectionName) => {
    const now = performance.now();
    if (current) process.stderr.write(`${((now - sectionStart) / 1000).toFixed(1)} s\n`);
    if (name) process.stderr.write(`bench: ${name} ... `);
    current = name;
    sectionStart = now;
  };
  const results = await runBench({ quick: args.quick, onSection: progress }, command);
  progress();
  if (args.json === "-") process.stdout.write(JSON.stringify(results, null, 2) + "\n");
  else process.stdout.write(textReport(results));
  if (args.json && args.json !== "-") writeFileSync(args.json, JSON.stringify(results, null, 2) + "\n");
  if (args.markdown) {
    // The device section comes from its own run (--device): kept as it was.
    const kept = existsSync(args.markdown) ? deviceSectionOf(readFileSync(args.markdown, "utf8")) : undefined;
    writeFileSync(args.markdown, markdownReport(results) + (kept ? "\n" + kept : ""));
  }
  const missing = SECTION_NAMES.filter((name) => !results[name].available);
  if (missing.length > 0) {
    process.stderr.write(`bench: not available: ${missing.join(", ")}\n`);
    return 1;
  }
  return 0;
}

async function deviceMain(args: CliArgs, command: string): Promise<number> {
  const { benchDevice } = await import("./device");
  const { deviceMarkdown, writeDeviceSection } = await import("./device-figures");
  let results;
  try {
    results = await benchDevice({ bangle: process.env.BANGLE_EMU });
  } catch (error) {
    process.stderr.write(`bench --device: not available: ${(error as Error).message}\n`);
    return 1;
  }
  const markdown = deviceMarkdown(results, command);
  if (args.json === "-") process.stdout.write(JSON.stringify(results, null, 2) + "\n");
  else process.stdout.write(markdown);
  if (args.json && args.json !== "-") writeFileSync(args.json, JSON.stringify(results, null, 2) + "\n");
  if (args.markdown) writeDeviceSection(args.markdown, markdown);
  return 0;
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
