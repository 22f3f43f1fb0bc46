// The power-loss campaign: a scripted workload is replayed with the power cut after flash operation 1, 2, … N,
// once cleanly and once tearing the operation (a torn word for a program, an interrupted erase for an erase).
// After each cut the board powers on and a new store boots over the same flash; nothing it lists may be damaged,
// nothing that was safely stored may be missing, and it must go on working.

import test from "ava";
import { getBoard } from "../boards/index";
import { pagesOf } from "../boards/geometry";
import type { BoardDefinition } from "../boards/types";
import { PowerLoss, type SimDevice } from "../hal/sim/index";
import type { Pstore, PstoreConfig } from "../pstore/core";
import { Reason, RecordType, typeFromName, typeName } from "../pstore/format";
import { device, listedProblems, open, payload } from "./helpers/pstore";

interface Ctx {
  dev: SimDevice;
  store: Pstore;
  cfg: Partial<PstoreConfig>;
}

interface Step {
  label: string;
  run(c: Ctx): void;
}

function idleAll(c: Ctx): void {
  while (c.store.idle());
}

/** The workload for one board, built from its default zones. Everything is fixed at build time: replays are identical. */
function workload(board: BoardDefinition): Step[] {
  const minPage = Math.min(...pagesOf(board).map((p) => p.size));
  const types = [...new Set(board.zones.flatMap((z) => z.types.map(typeFromName)))];
  const steps: Step[] = [];
  let seed = 0;
  const write = (type: RecordType, reason: Reason, size: number, crash = false) => {
    const s = ++seed;
    steps.push({
      label: `write ${typeName(type)} ${size}${crash ? " crash" : ""}`,
      run: (c) => void c.store.write(type, reason, payload(size, s), { crash }),
    });
  };
  const eraseFirst = (type: RecordType) =>
    steps.push({
      label: `erase first ${typeName(type)}`,
      run: (c) => {
        const m = c.store.list().find((r) => r.type === type);
        if (m) c.store.erase(m.name);
      },
    });
  const idle = () => steps.push({ label: "idle", run: idleAll });
  const mid = Math.min(800, minPage >> 2);

  steps.push({ label: "start", run: (c) => (c.store = open(c.dev, c.cfg)) });
  types.forEach((type, i) => {
    write(type, (i * 3 + 1) % 14, 40 + i * 13);
    write(type, Reason.Exception, mid);
  });
  const dmesgZone = board.zones.find((z) => z.types.includes("dmesg"))!;
  if (dmesgZone.pages >= 2 && minPage <= 4096) write(RecordType.Dmesg, Reason.Panic, Math.floor(minPage * 1.2));
  eraseFirst(RecordType.Dmesg);
  idle();
  const ring = board.zones.find((z) => z.policy === "ring");
  if (ring) {
    const type = typeFromName(ring.types[0]);
    for (let i = 0; i < (ring.pages + 1) * 3; i++) {
      write(type, Reason.Periodic, Math.floor(minPage / 3) - 60);
      if (i % 4 === 3) idle();
    }
  }
  write(RecordType.Dmesg, Reason.Panic, 120, true);
  if (board.retained) {
    steps.push({
      label: "console into retained RAM, breadcrumb",
      run: (c) => {
        c.store.ram!.appendConsole("Uncaught Error: something broke\r\n>");
        c.store.ram!.setBreadcrumb(Reason.Watchdog);
      },
    });
  }
  steps.push({ label: "reboot (commits retained RAM)", run: (c) => (c.store = open(c.dev, c.cfg)) });
  write(RecordType.Event, Reason.Reset, 60);
  write(RecordType.Dmesg, Reason.Exception, mid, true);
  steps.push({
    label: "erase every record",
    run: (c) => {
      for (const m of c.store.list()) c.store.erase(m.name);
    },
  });
  idle();
  write(RecordType.Dmesg, Reason.Oom, 200);
  idle();
  return steps;
}

type Visible = Map<string, Uint8Array>;

function visible(store: Pstore): Visible {
  const out: Visible = new Map();
  for (const m of store.list()) out.set(m.name, store.read(m.name)!.payload);
  return out;
}

function seqOf(name: string): number {
  return Number(name.slice(name.lastIndexOf("-") + 1));
}

interface Reference {
  before: Visible[];
  after: Visible[];
  /** Every record ever listed during the run, by name. */
  seen: Visible;
  ops: number;
  /** Kind of each flash operation, and the step it belongs to, 1-based. */
  kinds: string[];
  stepOfOp: number[];
}

function reference(board: BoardDefinition, steps: Step[], cfg: Partial<PstoreConfig>): Reference {
  const dev = device(board);
  const kinds = [""];
  const flash = dev.flash;
  const program = flash.program.bind(flash);
  const erase = flash.erase.bind(flash);
  flash.program = (a, d) => (kinds.push("program"), program(a, d));
  flash.erase = (a) => (kinds.push("erase"), erase(a));
  const c = { dev, cfg } as Ctx;
  const ref: Reference = { before: [], after: [], seen: new Map(), ops: 0, kinds, stepOfOp: [] };
  for (const step of steps) {
    const firstOp = kinds.length;
    const before = c.store ? visible(c.store) : new Map();
    step.run(c);
    const after = visible(c.store);
    ref.before.push(before);
    ref.after.push(after);
    for (const [n, p] of after) ref.seen.set(n, p);
    for (let op = firstOp; op < kinds.length; op++) ref.stepOfOp[op] = ref.before.length - 1;
  }
  const counts = flash.counters();
  ref.ops = counts.programOps + counts.eraseOps;
  if (ref.ops !== kinds.length - 1) throw new Error("operation count mismatch");
  if (flash.violations.length) throw new Error(flash.violations[0].message);
  return ref;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Runs the workload with a cut after operation n; returns the problems found after the reboot. */
const checked = { must: 0, listed: 0 };

/**
 * Runs the workload with a cut after operation n; returns the problems found after the reboot. With `second`, the
 * power is also cut during the recovery (boot scan and idle erases) after that many operations, torn.
 */
function cutAt(board: BoardDefinition, steps: Step[], cfg: Partial<PstoreConfig>, ref: Reference, n: number, mode: "clean" | "torn", seed: number, second = 0): string[] {
  const dev = device(board);
  const c = { dev, cfg } as Ctx;
  dev.cutPowerAfter(n, mode, seed);
  let failed = steps.length;
  for (let i = 0; i < steps.length; i++) {
    try {
      steps[i].run(c);
    } catch (e) {
      if (!(e instanceof PowerLoss)) throw e;
      failed = i;
      break;
    }
  }
  // Steps first..failed were not (durably) done: a clean cut completed op n, a torn one damaged it. A record must
  // survive when it was listed before step `first` and stayed listed through step `failed`.
  const first = ref.stepOfOp[mode === "clean" ? n + 1 : n] ?? steps.length;
  const must = new Map<string, Uint8Array>(first < steps.length ? ref.before[first] : ref.after[steps.length - 1]);
  for (let k = first; k <= Math.min(failed, steps.length - 1); k++) for (const name of must.keys()) if (!ref.after[k].has(name)) must.delete(name);
  const before = must;
  const where = `cut after op ${n} (${ref.kinds[n]}, ${mode}) in step ${failed} "${steps[failed]?.label ?? "end"}"`;
  const problems: string[] = [];
  dev.reboot("power-on", n);
  if (second) {
    dev.cutPowerAfter(second, "torn", seed + 7);
    try {
      const recovering = open(dev, cfg);
      while (recovering.idle());
    } catch (e) {
      if (!(e instanceof PowerLoss)) throw e;
    }
    dev.reboot("power-on", n + 1);
  }
  let store: Pstore;
  try {
    store = open(dev, cfg);
  } catch (e) {
    return [`${where}: boot failed: ${e}`];
  }
  for (const p of listedProblems(store)) problems.push(`${where}: listed damaged record ${p}`);
  const listed = store.list();
  const names = new Set(listed.map((m) => m.name));
  const bytesOf = (name: string) => store.read(name)?.payload ?? new Uint8Array(0);
  for (const [name, p] of must) {
    if (!names.has(name)) problems.push(`${where}: ${name} missing`);
    else if (!equalBytes(bytesOf(name), p)) problems.push(`${where}: ${name} reads back different bytes`);
  }
  for (const m of listed) {
    const known = ref.seen.get(m.name);
    if (!known) problems.push(`${where}: ${m.name} listed but never written`);
    else if (!equalBytes(bytesOf(m.name), known)) problems.push(`${where}: ${m.name} has bytes it was never written with`);
  }
  checked.must += must.size;
  checked.listed += listed.length;
  for (let i = 1; i < listed.length; i++) {
    if (((listed[i].seq - listed[i - 1].seq) | 0) <= 0) problems.push(`${where}: sequence does not grow at ${listed[i].name}`);
  }
  while (store.idle());
  const newest = Math.max(0, ...[...names, ...before.keys()].map(seqOf));
  const fresh = store.write(RecordType.Dmesg, Reason.Panic, payload(64, 4242));
  if (!fresh) problems.push(`${where}: the store refused a new record`);
  else {
    if (seqOf(fresh) <= newest) problems.push(`${where}: new record ${fresh} does not follow seq ${newest}`);
    const back = open(dev, cfg).read(fresh);
    if (!back || !equalBytes(back.payload, payload(64, 4242))) problems.push(`${where}: new record ${fresh} unreadable after reboot`);
  }
  for (const v of dev.flash.violations) problems.push(`${where}: flash rule violation: ${v.message}`);
  return problems;
}

for (const name of ["PUCKJS", "JOLTJS", "ORIGINAL", "ESPRUINOWIFI", "PICO"]) {
  test(`power cut at every flash operation: ${name}`, (t) => {
    const board = getBoard(name);
    const cfg: Partial<PstoreConfig> = { ram: !!board.retained };
    const steps = workload(board);
    const ref = reference(board, steps, cfg);
    t.true(ref.ops > 20, `${ref.ops} operations`);
    t.true(ref.kinds.includes("erase"), "the workload erases");
    let overwritten = 0;
    steps.forEach((step, k) => {
      if (step.label.startsWith("write")) for (const name of ref.before[k].keys()) if (!ref.after[k].has(name)) overwritten++;
    });
    if (board.zones.some((z) => z.policy === "ring")) t.true(overwritten > 0, "the ring overwrote records");
    const retainedText = new TextEncoder().encode("Uncaught Error: something broke\r\n>");
    if (board.retained) t.true([...ref.seen.values()].some((p) => equalBytes(p, retainedText)), "retained RAM was committed");
    checked.must = checked.listed = 0;
    const problems: string[] = [];
    const covered = { clean: 0, tornProgram: 0, interruptedErase: 0 };
    for (let n = 1; n <= ref.ops; n++) {
      problems.push(...cutAt(board, steps, cfg, ref, n, "clean", n));
      covered.clean++;
      // An interrupted erase leaves each byte somewhere between its old value and 0xFF: try several outcomes.
      const seeds = ref.kinds[n] === "erase" ? [n, n + 1000, n + 2000, n + 3000] : [n];
      for (const seed of seeds) {
        problems.push(...cutAt(board, steps, cfg, ref, n, "torn", seed));
        if (ref.kinds[n] === "erase") covered.interruptedErase++;
        else covered.tornProgram++;
      }
    }
    t.log(
      `${name}: ${ref.ops} flash operations in ${steps.length} steps; cut points: ${covered.clean} clean, ` +
        `${covered.tornProgram} torn program, ${covered.interruptedErase} interrupted erase (several outcomes each); ` +
        `${checked.must} survivals and ${checked.listed} listed records checked, ${overwritten} ring overwrites`,
    );
    t.true(checked.must > ref.ops);
    t.deepEqual(problems.slice(0, 20), []);
  });
}

test("a second power cut during recovery (boot scan and idle erases) loses nothing either", (t) => {
  const problems: string[] = [];
  let runs = 0;
  for (const name of ["PUCKJS", "ORIGINAL"]) {
    const board = getBoard(name);
    const cfg: Partial<PstoreConfig> = { ram: !!board.retained };
    const steps = workload(board);
    const ref = reference(board, steps, cfg);
    for (let n = 1; n <= ref.ops; n++) {
      for (const second of [1, 2, 3]) {
        problems.push(...cutAt(board, steps, cfg, ref, n, "torn", n, second));
        runs++;
      }
    }
  }
  t.log(`${runs} double cuts`);
  t.deepEqual(problems.slice(0, 20), []);
});
