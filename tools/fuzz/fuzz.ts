// `npm run fuzz -- --iterations N [--seed S] [--board B]... [--out DIR] [--replay FILE]`
//
// Mutates real flash images (tools/fuzz/corpus.ts, tools/fuzz/mutate.ts) and runs the device boot scan and the
// host decoder over each (tools/fuzz/targets.ts, where the oracles are spelled out). Case i of seed S is fully
// determined by (S, i): the failing input is also written to DIR as an image file that `--replay` (and a
// regression test) runs again.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { getBoard } from "../../boards/index";
import type { BoardDefinition } from "../../boards/types";
import { SimFlash } from "../../hal/sim/flash";
import { decodeImage, encodeImage, imageBoardName } from "../../hal/sim/image";
import { randomBelow, seededRandom } from "../../hal/sim/random";
import { seedImages, type SeedImage } from "./corpus";
import { mutate, mutateFile } from "./mutate";
import { deviceTarget, hostTarget } from "./targets";

/** Boards fuzzed by default: every re-programming rule, page geometry, backend and retained-RAM kind. */
// BANGLEJS2 (8 MB of simulated flash, ten times slower per case) is left to --board: LINUX covers the Storage backend.
export const DEFAULT_BOARDS = ["PUCKJS", "JOLTJS", "ORIGINAL", "ESPRUINOWIFI", "PICO", "LINUX"];

export interface FuzzOptions {
  iterations: number;
  seed: number;
  /** First case index (default 0): a run from I makes the same cases a full run makes at those indexes. */
  from?: number;
  boards: string[];
  /** Where failing inputs are written (default: none written). */
  failDir?: string;
  /** Run the host decoder on every k-th case (it writes files, so it is the slow target). Default 1. */
  hostEvery?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface FuzzFailure {
  board: string;
  seed: number;
  index: number;
  base: string;
  mutations: string[];
  problems: string[];
  /** The failing input, when written. */
  file?: string;
}

export interface FuzzResult {
  /** Failures grouped by kind (the first problem of each, numbers and names blanked): kind → count and first case. */
  kinds: Map<string, { count: number; first: FuzzFailure }>;
  cases: number;
  deviceRuns: number;
  hostRuns: number;
  failures: FuzzFailure[];
  seconds: number;
  slowestCaseMs: number;
}

const seedCache = new Map<string, SeedImage[]>();

/** Seed images of a board (three workload seeds), built once per process. */
export function seedsOf(board: BoardDefinition): SeedImage[] {
  let seeds = seedCache.get(board.name);
  if (!seeds) {
    seeds = [1, 2, 3].flatMap((s) => seedImages(board, s));
    seedCache.set(board.name, seeds);
  }
  return seeds;
}

function caseRandom(seed: number, index: number): () => number {
  return seededRandom((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
}

export interface CaseInput {
  board: BoardDefinition;
  base: string;
  mutations: string[];
  /** The image file handed to the host decoder (and, unless the file itself was damaged, to the device). */
  bytes: Uint8Array;
  fileDamaged: boolean;
}

/** Builds case `index` of `seed` on `board`. */
export function buildCase(board: BoardDefinition, seed: number, index: number): CaseInput {
  const rand = caseRandom(seed, index);
  const seeds = seedsOf(board);
  const base = seeds[randomBelow(rand, seeds.length)];
  const mutated = mutate(base, rand);
  let bytes = encodeImage(mutated.image);
  const mutations = mutated.mutations;
  const fileDamaged = randomBelow(rand, 16) === 0;
  if (fileDamaged) {
    const damaged = mutateFile(bytes, rand);
    bytes = damaged.bytes;
    mutations.push(damaged.mutation);
  }
  return { board, base: base.label, mutations, bytes, fileDamaged };
}

/** Runs both targets on one input; the device target only when the image file is intact. */
export async function runInput(input: CaseInput, host: boolean): Promise<{ problems: string[]; device: boolean; host: boolean }> {
  const problems: string[] = [];
  let device = false;
  if (!input.fileDamaged) {
    problems.push(...deviceTarget(input.board, decodeImage(input.bytes)));
    device = true;
  }
  if (host) problems.push(...(await hostTarget(input.board, input.bytes, input.fileDamaged)));
  return { problems, device, host };
}

/**
 * Replays an input file (a written failure, or a regression, optionally gzipped): the device target when the
 * image decodes, the host decoder always.
 */
export async function replayFile(path: string, boardName?: string): Promise<string[]> {
  const file = readFileSync(path);
  // Regression inputs are kept gzipped: a flash image is mostly 0xFF.
  const bytes = new Uint8Array(path.endsWith(".gz") ? gunzipSync(file) : file);
  const name = boardName ?? imageBoardName(bytes);
  if (!name) throw new Error(`${path}: the image does not name its board: pass --board`);
  // A file the simulator cannot load as this board's flash is a damaged image file, not a flash state.
  let fileDamaged = false;
  try {
    SimFlash.fromImage(bytes, getBoard(name));
  } catch {
    fileDamaged = true;
  }
  const input: CaseInput = { board: getBoard(name), base: path, mutations: [], bytes, fileDamaged };
  return (await runInput(input, true)).problems;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const boards = options.boards.map(getBoard);
  const started = performance.now();
  const result: FuzzResult = { kinds: new Map(), cases: 0, deviceRuns: 0, hostRuns: 0, failures: [], seconds: 0, slowestCaseMs: 0 };
  const hostEvery = options.hostEvery ?? 1;
  let lastLog = started;
  for (const board of boards) seedsOf(board);
  const from = options.from ?? 0;
  for (let index = from; index < from + options.iterations; index++) {
    const board = boards[index % boards.length];
    const t0 = performance.now();
    let input: CaseInput;
    try {
      input = buildCase(board, options.seed, index);
    } catch (e) {
      throw new Error(`the fuzzer itself failed building ${board.name} seed ${options.seed} case ${index}: ${(e as Error).stack}`);
    }
    const ran = await runInput(input, index % hostEvery === 0);
    result.slowestCaseMs = Math.max(result.slowestCaseMs, performance.now() - t0);
    result.cases++;
    if (ran.device) result.deviceRuns++;
    if (ran.host) result.hostRuns++;
    if (ran.problems.length) {
      const failure: FuzzFailure = { board: board.name, seed: options.seed, index, base: input.base, mutations: input.mutations, problems: ran.problems };
      if (options.failDir) {
        mkdirSync(options.failDir, { recursive: true });
        failure.file = join(options.failDir, `${board.name}-seed${options.seed}-case${index}.img`);
        writeFileSync(failure.file, input.bytes);
        writeFileSync(failure.file.replace(/\.img$/, ".txt"), describeFailure(failure) + "\n");
      }
      result.failures.push(failure);
      const kind = failureKind(failure);
      const known = result.kinds.get(kind);
      if (known) known.count++;
      else {
        result.kinds.set(kind, { count: 1, first: failure });
        options.log?.(describeFailure(failure));
      }
    }
    if (options.log && performance.now() - lastLog > 10000) {
      lastLog = performance.now();
      options.log(`… ${index + 1} cases, ${result.failures.length} failures, ${((lastLog - started) / 1000).toFixed(0)} s`);
    }
    }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** What kind of failure this is: its first problem with numbers, record names and boards blanked. */
export function failureKind(f: FuzzFailure): string {
  return f.problems[0]
    .split("\n")[0]
    .replace(/[a-z0-9]+-(flash|storage|ram)-[0-9]+/g, "<record>")
    .replace(/0x-?[0-9a-f]+/g, "<addr>")
    .replace(/[0-9]+/g, "N")
    .replace(new RegExp(f.board, "g"), "<board>");
}

export function describeFailure(f: FuzzFailure): string {
  return [
    `FAIL ${f.board} seed ${f.seed} case ${f.index} (from the "${f.base}" seed image)`,
    `  reproduce: npm run fuzz -- --board ${f.board} --seed ${f.seed} --from ${f.index} --iterations 1${f.file ? `   or   npm run fuzz -- --replay ${f.file}` : ""}`,
    ...f.mutations.map((m) => `  mutation: ${m}`),
    ...f.problems.slice(0, 12).map((p) => `  problem: ${p}`),
  ].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      iterations: { type: "string", default: "1000" },
      seed: { type: "string", default: "1" },
      board: { type: "string", multiple: true },
      from: { type: "string", default: "0" },
      out: { type: "string", default: "fuzz-failures" },
      replay: { type: "string" },
      "host-every": { type: "string", default: "1" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(`Usage: npm run fuzz -- [--iterations N] [--seed S] [--board B]... [--from I] [--out DIR] [--host-every K]
       npm run fuzz -- --replay FILE [--board B]

Mutates real pstore flash images and runs the device boot scan and the host decoder over each; prints cases run,
failures and seconds; exits 1 on a failure, writing the failing input to DIR (default fuzz-failures/).
Boards default to ${DEFAULT_BOARDS.join(", ")} (cases alternate between them). --from I starts at case I
(to rerun one case of a seed: --from I --iterations 1 with the same --seed and --board).`);
    return 0;
  }
  if (values.replay) {
    const problems = await replayFile(values.replay, values.board?.[0]);
    for (const p of problems) console.log(`problem: ${p}`);
    console.log(problems.length ? `${values.replay}: ${problems.length} problem(s)` : `${values.replay}: no problem`);
    return problems.length ? 1 : 0;
  }
  const iterations = Number(values.iterations);
  const seed = Number(values.seed);
  const from = Number(values.from);
  const hostEvery = Number(values["host-every"]);
  for (const [name, v] of [["--iterations", iterations], ["--seed", seed], ["--from", from], ["--host-every", hostEvery]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a whole number >= 0, got ${v}`);
  }
  const boards = values.board?.length ? values.board : DEFAULT_BOARDS;
  const result = await runFuzz({ iterations, seed, from, boards, failDir: values.out, hostEvery: Math.max(1, hostEvery), log: (l) => console.log(l) });
  if (result.kinds.size) {
    console.log("failure kinds (count, first case):");
    for (const [kind, { count, first }] of result.kinds) console.log(`  ${String(count).padStart(6)}  ${kind}   [${first.board} seed ${first.seed} case ${first.index}]`);
  }
  console.log(
    `fuzz: ${result.cases} cases (${result.deviceRuns} device boot scans, ${result.hostRuns} host decodes) on ${boards.join(", ")}, seed ${seed}: ` +
      `${result.failures.length} failure(s), ${result.seconds.toFixed(1)} s, slowest case ${result.slowestCaseMs.toFixed(0)} ms`,
  );
  return result.failures.length ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("tools/fuzz/fuzz.ts")) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(2);
    },
  );
}
