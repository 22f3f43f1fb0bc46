// `npm run soak -- --cycles N [--seed S] [--board B]`
//
// The simulated Espruino (tools/sim/espruino) runs the BUILT firmware bundle (built once, in memory, with ftrace
// and retained RAM on) installed as the Storage module `pstore` plus the boot file, as `pstore install` does.
// Each cycle is one boot: a seeded random mix of console logging, pmsg writes, traced calls, uncaught exceptions,
// error flags, idle time, power cuts armed at a random flash operation (clean or torn), and host pulls (the real
// DeviceClient over a simulator port, the real collectRecords into an archive held in memory) that are sometimes
// interrupted; the cycle ends in a watchdog hang, E.reboot(), reset(), a hard fault or a power loss. After every
// cycle the ledger (tools/soak/ledger.ts) checks the invariants and the device's listing is re-verified byte by
// byte from FORMAT.md (tools/fuzz/verify.ts).

import { parseArgs } from "node:util";
import { getBoard } from "../../boards/index";
import { pagesOf } from "../../boards/geometry";
import type { BoardDefinition, ZoneConfig } from "../../boards/types";
import { PowerLoss } from "../../hal/sim/index";
import { randomBelow, seededRandom } from "../../hal/sim/random";
import { Archive } from "../archive/archive";
import { collectRecords, InterruptedError } from "../archive/collect";
import { DurableWriter } from "../archive/durable";
import { buildBoard, MODULE_STORAGE_NAMES } from "../build/build";
import { BOOT_FILE } from "../build/installed-files";
import { deviceIdentity, deviceSource } from "../cli/device";
import { openImageSource } from "../image/source";
import { simulatorPort } from "../ports/sim";
import { DeviceClient } from "../protocol/client";
import { SimDevice } from "../sim/espruino/device";
import { MemoryFs } from "../fuzz/memory-fs";
import { recordProblems } from "../fuzz/verify";
import { Ledger, type LedgerCounts, type ListedRecord } from "./ledger";

export interface SoakOptions {
  cycles: number;
  seed: number;
  board: string;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Stop at the first cycle with a problem (default true). */
  stopOnProblem?: boolean;
}

export interface SoakResult extends LedgerCounts {
  cycles: number;
  pulls: number;
  interruptedPulls: number;
  /** Pulls the cycle's power cut hit (usually inside an erase). */
  pullsCutByPower: number;
  /** Ring records listed by a pull but overwritten on the device before it could fetch them (not losses). */
  overwrittenMidPull: number;
  resets: { [kind: string]: number };
  /** Power cuts that fired at a random flash operation (power-loss endings are counted in `resets`). */
  powerCuts: number;
  /** Lowest and highest erase count over the pages of the pstore region (or Storage area). */
  wear: { min: number; max: number };
  problems: string[];
  seconds: number;
}

/**
 * Zones for the soak: pmsg, dmesg and event in keep-first zones, so a record the device accepted can only leave
 * through the host's archive-then-erase; console and ftrace in rings. Fitted to the board's page count.
 */
export function soakZones(board: BoardDefinition): ZoneConfig[] {
  const pages = board.backend === "flash" ? pagesOf(board).length : board.zones.reduce((n, z) => n + z.pages, 0);
  const ring = Math.max(2, Math.floor(pages / 5));
  const kept = Math.max(1, Math.floor((pages - 2 * ring) / 2));
  return [
    { name: "dmesg", types: ["dmesg", "event"], pages: kept, policy: "keep-first" },
    { name: "pmsg", types: ["pmsg"], pages: kept, policy: "keep-first" },
    { name: "console", types: ["console"], pages: ring, policy: "ring" },
    { name: "ftrace", types: ["ftrace"], pages: ring, policy: "ring" },
  ];
}

const PULL_EVERY = 8;

/** The application in `.bootcde`: a traced function the workload calls. */
const APP = `var pstore = require("pstore");
var work = pstore.trace(function (n) { return n * 2 + 1; }, "work");
var step = pstore.trace(function (n) { return work(n) + work(n + 1); }, "step");
`;

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const started = performance.now();
  const board = getBoard(options.board);
  const build = await buildBoard(board.name, { dryRun: true, features: { ftrace: true, retained: !!board.retained } });
  const settings = {
    zones: soakZones(board),
    pmsgPerMinute: 100000,
    consoleFlushSeconds: 2,
    idleSeconds: 1,
    cleanRunSeconds: 3,
  };
  const rand = seededRandom(options.seed);
  const device = new SimDevice({ board, seed: options.seed });
  // Installed as `pstore install` does: each module bundle under its Storage module name, the boot code as a boot file.
  for (const [kind, file] of Object.entries(MODULE_STORAGE_NAMES)) device.writeFile(file, build.code[kind as keyof typeof MODULE_STORAGE_NAMES]!);
  device.writeFile(BOOT_FILE, build.code.boot!);
  device.writeFile(".bootcde", APP);
  device.writeFile("pstore.json", JSON.stringify(settings));
  device.reboot();

  let cycle = 0;
  let step = "";
  const ledger = new Ledger(() => `cycle ${cycle} (${step})`);
  const memory = new MemoryFs("/soak/archive");
  const archive = new Archive(memory.root, new DurableWriter(memory.fs));
  const result: SoakResult = {
    ...ledger.counts,
    cycles: 0,
    pulls: 0,
    interruptedPulls: 0,
    pullsCutByPower: 0,
    overwrittenMidPull: 0,
    powerCuts: 0,
    resets: {},
    wear: { min: 0, max: 0 },
    problems: ledger.problems,
    seconds: 0,
  };

  let output = "";
  device.on("output", (bytes: Uint8Array) => {
    output = (output + Buffer.from(bytes).toString("latin1")).slice(-4000);
  });
  const evaluate = (code: string) => device.evaluate(code);

  /** The device's own listing (the module's list()) and next sequence number, as plain data. */
  const listDevice = (): { listed: ListedRecord[]; nextSeq: number } | undefined => {
    const out = evaluate(`JSON.stringify({ list: require("pstore").list(), next: require("pstore").status().nextSeq })`);
    if (out.error || typeof out.value !== "string") return undefined;
    const value = JSON.parse(out.value) as { list: ListedRecord[]; next: number };
    return { listed: value.list.map((m) => ({ name: m.name, seq: m.seq, boot: m.boot })), nextSeq: value.next };
  };

  /** Every record the device lists, re-read from flash by the host's scanner and verified from FORMAT.md. */
  const verifyListed = async (listed: ListedRecord[]) => {
    const source = openImageSource(device.flash.toImage(undefined), "soak", board.name, "soak");
    const onFlash = new Map((await source.list()).map((r) => [r.name, r]));
    for (const r of listed) {
      const found = onFlash.get(r.name);
      if (!found) {
        ledger.corrupt(r.name, "the host's scan of the same flash finds no valid record of that name");
        continue;
      }
      const bad = recordProblems(r.name, await source.fetch(found, () => {}));
      if (bad.length) ledger.corrupt(r.name, bad.join("; "));
    }
  };

  const pull = async (interruptAfterMs: number | undefined) => {
    result.pulls++;
    device.startRealTime(1);
    const port = simulatorPort(device, `simulated ${board.name}`);
    // A power cut armed for this cycle may fire inside the pull (an erase): the line goes dead at once.
    const lineDies = () => void port.close();
    device.once("poweroff", lineDies);
    const client = new DeviceClient(port, { responseTimeoutMs: 3000 });
    const stored = archive.store.bind(archive);
    archive.store = (id, decoded, boot) => {
      const s = stored(id, decoded, boot);
      ledger.archive(decoded.name, s.written, false, decoded.text);
      return s;
    };
    try {
      await client.connect();
      const source = deviceSource(client, deviceIdentity(await client.status(), undefined));
      const erase = source.erase!;
      source.erase = async (name) => {
        const done = await erase(name);
        if (done) ledger.archive(name, false, true, undefined);
        return done;
      };
      const controller = new AbortController();
      const timer = interruptAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), interruptAfterMs);
      try {
        // A ring record the device gave up between list and fetch is reported as gone, not fetched: not a loss.
        result.overwrittenMidPull += (await collectRecords(source, archive, { erase: true, signal: controller.signal })).gone.length;
      } catch (e) {
        if (!(e instanceof InterruptedError)) throw e;
        result.interruptedPulls++;
      } finally {
        clearTimeout(timer);
      }
    } finally {
      archive.store = stored;
      device.off("poweroff", lineDies);
      await client.close();
      device.stopRealTime();
    }
  };

  const endings: Array<[string, () => void]> = [
    ["watchdog", () => (device.enableWatchdog(1, false), device.hang(), device.advance(1500))],
    ["E.reboot()", () => device.reboot()],
    ["reset()", () => device.softReset()],
    ["hard fault", () => (device.hardFault(), device.lastReset === "hardfault" || device.watchdogReset())],
    ["power loss", () => device.powerLoss(options.seed + cycle)],
  ];

  for (cycle = 1; cycle <= options.cycles; cycle++) {
    step = "start";
    let cutArmed = false;
    if (randomBelow(rand, 4) === 0) {
      device.flash.cutPowerAfter(1 + randomBelow(rand, 30), randomBelow(rand, 2) ? "torn" : "clean", options.seed * 1000 + cycle);
      cutArmed = true;
    }
    const actions = 1 + randomBelow(rand, 8);
    for (let i = 0; i < actions && device.powered; i++) {
      const r = randomBelow(rand, 100);
      if (r < 25) {
        step = "console.log";
        evaluate(`console.log("cycle ${cycle} line ${i}: ${"x".repeat(randomBelow(rand, 120))}")`);
      } else if (r < 50) {
        step = "pmsg";
        const text = `soak ${cycle}.${i} ${"m".repeat(randomBelow(rand, 200))}`;
        const out = evaluate(`require("pstore").pmsg(${JSON.stringify(text)})`);
        if (typeof out.value === "string") ledger.promise(out.value, text);
        else if (!(out.error?.thrown instanceof PowerLoss) && device.powered) ledger.refuse();
      } else if (r < 60) {
        step = "traced calls";
        evaluate(`step(${i})`);
      } else if (r < 65) {
        step = "uncaught exception";
        evaluate(`setTimeout(function () { throw new Error("soak boom ${cycle}"); }, 1)`);
        device.advance(5);
      } else if (r < 68) {
        step = "error flag";
        device.raiseErrorFlag(randomBelow(rand, 2) ? "FIFO_FULL" : "BUFFER_FULL");
      } else {
        step = "idle time";
        device.advance(randomBelow(rand, 3000));
      }
    }
    // A pull every eight cycles or so (the keep-first zones hold many cycles' worth); a third are cut off midway.
    if (device.powered && randomBelow(rand, PULL_EVERY) === 0) {
      step = "pull";
      try {
        await pull(randomBelow(rand, 3) === 0 ? randomBelow(rand, 60) : undefined);
      } catch (e) {
        if (!device.powered) result.pullsCutByPower++;
        else ledger.problems.push(`cycle ${cycle}: the pull failed: ${(e as Error).message}; device output before: ${JSON.stringify(output.slice(-600))}`);
      }
    }
    if (device.powered) {
      const [name, end] = endings[randomBelow(rand, endings.length)];
      step = name;
      if (cutArmed) device.flash.powerOn();
      end();
      result.resets[name] = (result.resets[name] ?? 0) + 1;
    }
    if (!device.powered) {
      // The cut armed at the start of the cycle fired in the middle of some flash operation.
      result.powerCuts++;
      device.powerOn(options.seed + cycle);
    }
    device.flash.powerOn();
    device.advance(10);
    step = "check";
    const now = listDevice();
    if (!now) ledger.problems.push(`cycle ${cycle}: the module's list() or status() failed after the boot`);
    else {
      ledger.observe(now.listed, now.nextSeq);
      await verifyListed(now.listed);
    }
    for (const v of device.flash.violations.splice(0)) ledger.problems.push(`cycle ${cycle}: flash rule violation: ${v.message}`);
    for (const escape of memory.escapes.splice(0)) ledger.problems.push(`cycle ${cycle}: the archive tried to ${escape}`);
    result.cycles = cycle;
    if (options.log && cycle % 500 === 0) options.log(`… ${cycle} cycles, ${ledger.counts.written} pmsg written, ${ledger.counts.archived} archived, ${ledger.problems.length} problems`);
    if (ledger.problems.length && options.stopOnProblem !== false) break;
  }

  // A last complete pull: every record the device still holds must reach the archive.
  step = "final pull";
  await pull(undefined);
  const final = listDevice() ?? { listed: [], nextSeq: 0 };
  ledger.observe(final.listed, final.nextSeq);
  for (const r of final.listed) if (!r.name.startsWith("console-") && !r.name.startsWith("ftrace-")) ledger.problems.push(`final: ${r.name} still on the device after a complete pull`);
  step = "accepts records";
  const fresh = evaluate(`require("pstore").pmsg("after the soak")`);
  if (typeof fresh.value !== "string") ledger.problems.push(`final: the store refused a pmsg after a complete pull: ${String(fresh.error?.thrown)}`);

  // The medium's erase units: the region's pages, or for the Storage backend the units of the Storage area.
  const inMedium = (addr: number) =>
    board.backend === "flash" ? pagesOf(board).some((p) => p.addr === addr) : addr >= board.storage.addr && addr < board.storage.addr + board.storage.size;
  const counts = [...device.flash.eraseCounts()].filter(([addr]) => inMedium(addr)).map(([, n]) => n);
  result.wear = { min: counts.length ? Math.min(...counts) : 0, max: counts.length ? Math.max(...counts) : 0 };
  Object.assign(result, ledger.counts);
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

export function describeSoak(r: SoakResult, board: string, seed: number): string {
  const resets = Object.entries(r.resets).map(([k, n]) => `${n} ${k}`).join(", ");
  return [
    `soak ${board} seed ${seed}: ${r.cycles} cycles in ${r.seconds.toFixed(1)} s (${((r.seconds * 1000) / Math.max(1, r.cycles)).toFixed(1)} ms per cycle)`,
    `  endings: ${resets}; ${r.powerCuts} more power cuts at a random flash operation (clean or torn)`,
    `  pmsg written ${r.written}, refused ${r.refused} (zone full until a pull); records seen ${r.seen}, archived ${r.archived}`,
    `  pulls ${r.pulls} (${r.interruptedPulls} interrupted midway, ${r.pullsCutByPower} cut by a power loss, ${r.overwrittenMidPull} ring records overwritten on the device before their fetch)`,
    `  records lost ${r.lost}, corrupt listed ${r.corruptListed}, ring overwrites ${r.ringOverwrites} (allowed; ${r.ringReturns} came back after a reset)`,
    `  wear: erase count per page ${r.wear.min}..${r.wear.max}`,
    ...r.problems.slice(0, 20).map((p) => `  PROBLEM ${p}`),
  ].join("\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cycles: { type: "string", default: "1000" },
      seed: { type: "string", default: "1" },
      board: { type: "string", default: "PUCKJS" },
      "keep-going": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(`Usage: npm run soak -- [--cycles N] [--seed S] [--board B] [--keep-going]

Boots the simulated Espruino with the built pstore firmware N times through a random mix of logging, pmsg writes,
traced calls, crashes, error flags, watchdog hangs, reboots, power cuts and (sometimes interrupted) host pulls;
checks after every cycle that nothing accepted is lost, nothing is archived twice, sequence numbers grow and no
damaged record is listed. Exits 1 on a problem (at the first one unless --keep-going).`);
    return 0;
  }
  const cycles = Number(values.cycles);
  const seed = Number(values.seed);
  if (!Number.isInteger(cycles) || cycles < 1) throw new Error(`--cycles must be a whole number >= 1, got ${values.cycles}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be a whole number, got ${values.seed}`);
  const result = await runSoak({ cycles, seed, board: values.board!, stopOnProblem: !values["keep-going"], log: (l) => console.log(l) });
  console.log(describeSoak(result, values.board!, seed));
  return result.problems.length ? 1 : 0;
}

if (process.argv[1]?.endsWith("tools/soak/soak.ts")) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(e instanceof Error ? e.stack : e);
      process.exit(2);
    },
  );
}
