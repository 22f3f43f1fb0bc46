// The pure half of `npm run bench -- --device`: the figures' shape and their targets, what callgrind and
// E.getSizeOf return turned into tables, and the Markdown section. Nothing here runs an interpreter, so the tests
// cover it on a machine without ../shared.

import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** A limit from the issue: the figure must not exceed `max`. */
export interface Target {
  max: number;
  /** How the issue states it, e.g. "≤ 1,000". */
  text: string;
}

export interface Figure {
  label: string;
  unit: string;
  /** The bare interpreter's figure, measured in the same run. */
  bare?: number;
  empty?: number;
  full?: number;
  target?: Target;
  /** Which of the figures the target applies to (default: every one measured with pstore). */
  targetOn?: Array<"empty" | "full">;
  /** Set when a target applies: every figure it covers is within it. */
  met?: boolean;
  /** Why the figure is what it is, or what it is made of. */
  note?: string;
}

/** Fills in `met` from the target: every figure `targetOn` names (default: empty and full, those measured). */
export function judged(figure: Figure): Figure {
  if (!figure.target) return figure;
  const on = figure.targetOn ?? ["empty", "full"];
  const values = on.map((k) => figure[k]).filter((v): v is number => v !== undefined);
  const met = values.length > 0 && values.every((v) => Number.isFinite(v) && v <= figure.target!.max);
  return { ...figure, met };
}

/** The instruction count callgrind writes in its output file's `summary:` line. */
export function callgrindSummary(text: string): number {
  const m = /^summary:\s*(\d+)\s*$/m.exec(text);
  if (!m) throw new Error("callgrind output has no summary line");
  return Number(m[1]);
}

export interface ProfileRow {
  instructions: number;
  /** Per cent of the whole run. */
  percent: number;
  fn: string;
}

/**
 * The `callgrind_annotate --inclusive=yes` table as rows, heaviest first: recursion cycles (`fn'2`, whose inclusive
 * cost counts each level again and passes 100 %) and the loader's entry points are left out, so what remains says
 * where the run's instructions went.
 */
export function callgrindInclusive(text: string, top: number): ProfileRow[] {
  const rows: ProfileRow[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.+?)\s+\[[^\]]*\]\s*$/.exec(line);
    if (!m) continue;
    const where = m[3];
    const fn = where.slice(where.lastIndexOf(":") + 1);
    const percent = Number(m[2]);
    if (/'\d+$/.test(fn) || percent > 100 || where.startsWith("???:")) continue;
    rows.push({ instructions: Number(m[1].replace(/,/g, "")), percent, fn });
  }
  return rows.sort((a, b) => b.instructions - a.instructions).slice(0, top);
}

/** One node of `E.getSizeOf(x, depth)`: a child's name, the variables reachable from it, its own children. */
export interface SizeNode {
  name: string;
  size: number;
  more?: SizeNode[];
}

export interface HeldObject {
  /** Where it was first found, from the interpreter's root (hidden names shown with `~` for \xFF). */
  path: string;
  variables: number;
}

/**
 * What the running instance holds, from `E.getSizeOf(global, depth)`: every closure of the module reaches the whole
 * instance through its scope, so a size near the instance's tells nothing. The objects that reach less than half of
 * it (a ring buffer, a typed-array index, a string, a settings object) are the instance's parts: each such node
 * whose parent reaches more is listed once (the same object is met under many paths: by name and size), largest
 * first, down to `min` variables.
 */
export function heldObjects(tree: SizeNode[], instance: number, min: number): HeldObject[] {
  const seen = new Set<string>();
  const out: HeldObject[] = [];
  const walk = (nodes: SizeNode[], path: string, parentSize: number) => {
    for (const node of nodes) {
      const name = node.name.replace(/\xFF/g, "~");
      const at = path + "/" + name;
      if (node.size * 2 < instance && parentSize * 2 >= instance) {
        const key = name + " " + node.size;
        if (node.size >= min && !seen.has(key)) {
          seen.add(key);
          out.push({ path: at, variables: node.size });
        }
      } else if (node.more) walk(node.more, at, node.size);
    }
  };
  walk(tree, "", Infinity);
  return out.sort((a, b) => b.variables - a.variables);
}

/** A run with the usage probe built in: usage after boot, the variables its notes hold, and the notes [step, usage before the note]. */
export type StagesRun = [number, number, Array<[string, number]>];

/** One step of start(), or what comes before or after them: the variables it added, empty store and full. */
export interface StartStep {
  step: string;
  empty: number;
  full: number;
}

/** Steps named by the probe's notes (firmware/module.ts), as the table says them. */
const STEP_NAMES: Record<string, string> = {
  hal: "the HAL (clock, CRC, Storage or Flash access)",
  codec: "the codec",
  tracer: "the ftrace ring and its wrapper",
  store: "the store: its backend and zones (write side)",
  "console ring": "the console ring",
  runtime: "the rest of the runtime: frontends (dmesg, event, pmsg) and the hooks' handlers",
  "boot scan": "the boot scan: what it leaves (zones' index, page tables, boot event)",
  "app switches": "the load() wrapper (app switches)",
  "console capture": "the console capture",
  hooks: "the hooks and the idle timer",
};

/**
 * start() step by step from the probe's notes: each note's usage less the one before and less what a note itself
 * holds (the last two of the first three, taken back to back); before the first, what is loaded before start()
 * begins (both modules, the settings) over the bare interpreter; after the last, what leaves when the service module
 * is dropped. The rows add up to usage after boot less the bare interpreter's and less the notes themselves.
 */
export function startSteps(bare: number, empty: StagesRun, full: StagesRun): StartStep[] {
  const rows = (r: StagesRun): Array<[string, number]> => {
    const [usage, , notes] = r;
    const note = notes[2][1] - notes[1][1];
    const out: Array<[string, number]> = [["loaded before start(): the module, the service module, the settings", notes[0][1] - bare]];
    for (let i = 3; i < notes.length; i++) out.push([STEP_NAMES[notes[i][0]] ?? notes[i][0], notes[i][1] - notes[i - 1][1] - note]);
    out.push(["the service module dropped once start() returns", usage - notes[notes.length - 1][1] - note]);
    return out;
  };
  const e = rows(empty);
  const f = rows(full);
  return e.map(([step, n], i) => ({ step, empty: n, full: f[i] && f[i][0] === step ? f[i][1] : NaN }));
}

export interface BangleFigures {
  firmware: string;
  /** process.memory().usage after a load() settled, without pstore and with it. */
  usageBare: number;
  usagePstore: number;
  /** Wall time of one load() (until the REPL answers again), median of the rounds, without and with pstore. */
  loadMsBare: number;
  loadMsPstore: number;
  rounds: number;
}

export interface DeviceBench {
  interpreter: string;
  valgrind: boolean;
  figures: Figure[];
  /** What the running instance holds (heldObjects), after boot with an empty store. */
  held: HeldObject[];
  /** start() step by step (startSteps). */
  stages: StartStep[];
  /** callgrind by function for boot and quit with an empty store: the heaviest inclusive costs. */
  bootProfile: ProfileRow[];
  /** The Bangle.js 2 firmware's figures, or why they are missing. */
  bangle: { available: true; figures: Figure[] } | { available: false; reason: string };
  notes: string[];
}

const SECTION = "## Device cost on the real interpreter";

const fmt = (n: number | undefined) =>
  n === undefined ? "–" : !Number.isFinite(n) ? "not measured" : Math.abs(n) >= 1e6 ? (n / 1e6).toFixed(1) + " M" : (Math.round(n * 100) / 100).toLocaleString("en-US");

const verdict = (f: Figure) => (f.target ? `${f.target.text}: ${f.met ? "**met**" : "**not met**"}` : "");

function figureTable(figures: Figure[]): string[] {
  return [
    "| figure | bare | pstore, empty store | pstore, full store | unit | target | how / why |",
    "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ...figures.map((f) => `| ${f.label} | ${fmt(f.bare)} | ${fmt(f.empty)} | ${fmt(f.full)} | ${f.unit} | ${verdict(f)} | ${(f.note ?? "").replace(/\|/g, "\\|")} |`),
  ];
}

export function deviceMarkdown(d: DeviceBench, command: string): string {
  const lines = [
    SECTION,
    "",
    "Generated by",
    "",
    "```",
    `ESPRUINO_BIN=../shared/espruino/linux/espruino BANGLE_EMU=../shared/espruino/banglejs2 ${command}`,
    "```",
    "",
    `Espruino ${d.interpreter} (Linux build, -O0, JsVar 27 bytes), the LINUX bundles installed as \`pstore install\` ` +
      "installs them, default settings, every figure beside the bare interpreter's (one Storage file, no pstore) from " +
      "the same run. Variables are `process.memory().usage` (after a garbage collection); instructions are callgrind's " +
      "count: for boot the whole run; for a call the count between two calls of `E.variance()` around it, where " +
      "callgrind dumps its counts (pmsg, panic, idle pass), or the difference of two runs that differ only in that " +
      "call (host list). The bench reaches pstore only as an application and a host do: `require(\"pstore\")`, the " +
      "settings file, the host protocol's calls (`require(\"pstoresvc\")`, docs/PROTOCOL.md) and, for the idle pass, " +
      "the running instance's tick, which the idle timer calls.",
    "",
    ...figureTable(d.figures),
    "",
  ];
  if (d.bangle.available) {
    lines.push("### Bangle.js 2 firmware (emulator)", "", ...figureTable(d.bangle.figures), "");
  } else lines.push(`Bangle.js 2 firmware: not measured: ${d.bangle.reason}`, "");
  const total = (k: "empty" | "full") => d.stages.reduce((sum, s) => sum + s[k], 0);
  lines.push(
    "### Where the variables go",
    "",
    "start() step by step, from the same bundles built with the bench's usage probe (`PSTORE_STAGES`: a note of " +
      "`process.memory().usage` after each step, less what the note itself holds; firmware/module.ts). Each row is what " +
      "the step added and kept:",
    "",
    "| step | empty store | full store |",
    "| --- | ---: | ---: |",
    ...d.stages.map((s) => `| ${s.step} | ${fmt(s.empty)} | ${fmt(s.full)} |`),
    `| **all of pstore** (after boot less the bare interpreter) | **${fmt(total("empty"))}** | **${fmt(total("full"))}** |`,
    "",
    "What the running instance holds after boot, empty store: `E.getSizeOf(global, depth)` walked from the interpreter's root; " +
      "every closure of the module reaches the whole instance through its scope, so the parts shown are the nodes that reach " +
      "less than half of it, each listed once (mangled names; `~` is the hidden-name prefix \\xFF):",
    "",
    "| where | variables |",
    "| --- | ---: |",
    ...d.held.map((h) => `| \`${h.path}\` | ${h.variables} |`),
    "",
  );
  if (d.bootProfile.length) {
    lines.push(
      "### Where the instructions go",
      "",
      "Boot and quit, empty store, by interpreter function (callgrind, inclusive cost; recursion levels folded):",
      "",
      "| instructions | % | function |",
      "| ---: | ---: | --- |",
      ...d.bootProfile.map((r) => `| ${fmt(r.instructions)} | ${r.percent.toFixed(1)} | ${r.fn} |`),
      "",
    );
  }
  lines.push(...d.notes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}

/** Puts the section into a Markdown file, replacing the one there (the rest of the file as it was). */
export function replaceDeviceSection(old: string, section: string): string {
  const start = old.indexOf(SECTION);
  if (start < 0) return old.replace(/\n*$/, "\n\n") + section;
  const next = old.indexOf("\n## ", start + SECTION.length);
  return old.slice(0, start) + section.replace(/\n*$/, "\n") + (next < 0 ? "" : old.slice(next));
}

/** The device section of a Markdown file, so a full `npm run bench --markdown` rewriting the file keeps it. */
export function deviceSectionOf(text: string): string | undefined {
  const start = text.indexOf(SECTION);
  if (start < 0) return undefined;
  const next = text.indexOf("\n## ", start + SECTION.length);
  return text.slice(start, next < 0 ? undefined : next + 1);
}

export function writeDeviceSection(file: string, section: string): void {
  writeFileSync(file, replaceDeviceSection(existsSync(file) ? readFileSync(file, "utf8") : "", section));
}
