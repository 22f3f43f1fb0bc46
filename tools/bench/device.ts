// `npm run bench -- --device`: what pstore costs on the real interpreter (ESPRUINO_BIN, Espruino's Linux build),
// each figure beside the bare interpreter's in the same run, for an empty store and a full one: variables
// (process.memory().usage) after boot, per stored record and after host calls; instructions (callgrind) for boot,
// pmsg(), a crash-path dump, an idle pass and a host list; what the instance holds and where boot's instructions go.
// With BANGLE_EMU, the Bangle.js 2 firmware's figures too (device-bangle.ts).
//
// The bench reaches pstore only the way an application and a host do: the installed Storage files, the settings
// file, `require("pstore")` and the host protocol's request lines. Every run gets its own folder (the interpreter
// keeps Storage in ./espruino.flash), or a copy of a prepared one.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard } from "../build/build";
import { BOOT_FILE, MODULE_FILE, SERVICE_FILE, SETTINGS_FILE } from "../build/installed-files";
import { DEFAULT_CHUNK, DEFAULT_SERVICE, requestLine } from "../protocol/client";
import { benchBangle } from "./device-bangle";
import { callgrindInclusive, callgrindSummary, heldObjects, judged, startSteps, type DeviceBench, type Figure, type SizeNode, type StagesRun } from "./device-figures";

/** The file in a run's folder the device code writes its results to, one JSON line each. */
const RESULTS = "bench-results.txt";
/** Console text printed before the panic whose crash-path dump is counted. */
const CRASH_CONSOLE = 2048;
/** Payload of each record the full store is filled with (pseudo-random text: it hardly compresses). */
const FILL_BYTES = 100;
/** Iterations of the flat-usage check, run in batches from timers, usage sampled every SAMPLE_EVERY. */
const FLAT_COUNT = 10000;
const FLAT_BATCH = 250;
const SAMPLE_EVERY = 2500;
/**
 * After a call, usage is read once the service module has left the module cache (it stays while a host keeps
 * talking) and usage has not changed over SETTLE_MS (a long listing streams from timers, the module loaded for
 * each frame and dropped after it); polled up to SETTLE_TRIES times.
 */
const SETTLE_MS = 500;
const SETTLE_TRIES = 240;
/** How long a flat-usage run may take before it counts as stalled. */
const FLAT_LIMIT_MS = 600_000;
/** pmsg() calls that make a full store's pmsg ring reuse its pages. */
const WRAP_PMSG = 40;
/** Idle passes counted. */
const IDLE_PASSES = 5;
/** Most idle passes a fresh store may need before its idle work is done (one page prepared per pass). */
const PREPARE_PASSES = 1000;

interface Run {
  out: string;
  results: any[];
  instructions?: number;
  callgrindFile?: string;
  /** The run was stopped after `limitMs` (results hold what it saved until then). */
  stopped?: boolean;
}

function hasValgrind(): boolean {
  return spawnSync("valgrind", ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * What `code` calls as MARK marks where a measured part starts and ends: callgrind dumps its counts at each call
 * (--dump-before), so the count between the first two is that part alone, whatever else the run does before or
 * after (a panic also changes what the kill hook writes at quit). pstore never calls it.
 */
const MARK = "E.variance([])";
const MARK_FUNCTION = "jswrap_espruino_variance";

/**
 * Runs `code` after the boot code (`-e`) in `dir`, or a file without boot code. stdin an ordinary pipe whose writer
 * stays silent (node's own stdio pipes are sockets, over which quit() never comes; at EOF the interpreter spins).
 * A run still going after `limitMs` is stopped (its process group killed) and returns what it saved. With `marked`,
 * its instructions are those between the first two MARKs.
 */
async function run(bin: string, dir: string, code: string, callgrind?: string, file = false, limitMs = 900_000, marked = false): Promise<Run> {
  const args = file ? [code] : ["-e", code];
  const dump = marked ? [`--dump-before=${MARK_FUNCTION}`] : [];
  const argv = callgrind ? ["valgrind", "--tool=callgrind", ...dump, `--callgrind-out-file=${callgrind}`, bin, ...args] : [bin, ...args];
  const child = spawn("bash", ["-c", 'exec 3< <(exec sleep 3600); p=$!; "$@" <&3 | cat; r=${PIPESTATUS[0]}; kill $p; exit $r', "-", ...argv], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout.setEncoding("latin1").on("data", (d: string) => (out += d));
  child.stderr.resume();
  let stopped = false;
  const timer = setTimeout(() => {
    stopped = true;
    process.kill(-child.pid!, "SIGKILL");
  }, limitMs);
  const status = await new Promise<number | null>((done, fail) => {
    child.on("error", fail);
    child.on("exit", (code) => done(code));
  });
  clearTimeout(timer);
  if (status !== 0 && !stopped) throw new Error(`${code.slice(0, 80)}: the interpreter exited with ${status}:\n${out.slice(-800)}`);
  const resultFile = join(dir, RESULTS);
  const results = existsSync(resultFile)
    ? readFileSync(resultFile, "latin1")
        .split("\n")
        .filter((l) => l)
        .map((l) => JSON.parse(l))
    : [];
  rmSync(resultFile, { force: true });
  const instructions = callgrind && !stopped ? callgrindSummary(readFileSync(marked ? `${callgrind}.2` : callgrind, "latin1")) : undefined;
  return { out, results, instructions, callgrindFile: callgrind, stopped };
}

/** The three bundles of a build's board folder, by the Storage name `pstore install` gives each. */
function bundlesIn(dist: string): Record<string, string> {
  return {
    [MODULE_FILE]: readFileSync(join(dist, "pstore.js"), "latin1"),
    [SERVICE_FILE]: readFileSync(join(dist, "pstore.svc.js"), "latin1"),
    [BOOT_FILE]: readFileSync(join(dist, "pstore.boot.js"), "latin1"),
  };
}

function one(r: Run, what: string): any {
  if (!r.results.length) throw new Error(`${what}: the device code wrote no result:\n${r.out.slice(-800)}`);
  return r.results[r.results.length - 1];
}

/**
 * Quits from a timer: quit() from the -e code itself is undone when the code returns (the Linux build's main loop
 * sets its flag again once timers exist).
 */
const quitAfter = (ms: number) => `setTimeout(quit,${ms});`;
const QUIT = quitAfter(1);
/** The quit timer of a run that quits by itself once what it measures is over: only a stalled run gets there. */
const LATE_QUIT_MS = 600_000;
/**
 * `call` (a host's request), then quit once its answer has gone out: the service paces a listing one frame per idle
 * pass, which under callgrind takes longer than any fixed wait. Polled every LIST_POLL_MS, in the run without the
 * call too, so the two differ in the polls made while the listing streams and nothing else.
 */
const LIST_POLL_MS = 250;
const whenListed = (call: string) =>
  `${call};var listed=setInterval(function(){if(!${P}.streams.job){clearInterval(listed);quit();}},${LIST_POLL_MS});`;
/**
 * Appends the JSON of `expr` as one line to RESULTS in the run's folder (the Linux build's fs module): printed, it
 * would go through the captured console, which cuts a print past about 986 characters.
 */
const save = (expr: string) => `require("fs").appendFileSync(${JSON.stringify(RESULTS)},JSON.stringify(${expr})+"\\n");`;
const USAGE = "process.memory().usage";
const P = 'require("pstore")';
/** The host's request line for `fn` (docs/PROTOCOL.md), as the device's REPL would run it. */
const hostCall = (fn: string, args: Array<string | number> = []) => requestLine(DEFAULT_SERVICE, fn, 1, args).slice(1, -1);
/** Deterministic text that hardly compresses: `n` characters of an LCG over printable ASCII. */
const TEXT_FN = "var seed=1;function text(n){var s='';for(var i=0;i<n;i++){seed=(seed*1103515245+12345)&0x7fffffff;s+=String.fromCharCode(33+(seed>>16)%90);}return s;}";

/**
 * Fills every zone until one more record adds none (a keep-first zone refuses it, a ring drops its oldest page),
 * each with what an application writes there: pmsg(), printed lines written out with flush(), panic() (dmesg and
 * event), traced calls dumped with a panic (ftrace). Then the settings file goes, so the full store boots with the
 * defaults. Saves each zone as [name, records, bytes free, drops].
 */
const FILL =
  TEXT_FN +
  `var P=${P},add=P.trace(function(a){return a+1},"add");` +
  `var writers={1:function(){P.panic(text(${FILL_BYTES}))},2:function(){P.flush()},` +
  `3:function(){add(1);add(2);P.panic(text(20))},4:function(){P.pmsg(text(${FILL_BYTES}))},5:function(){P.panic(text(${FILL_BYTES}))}};` +
  "function zones(){return P.status().backends[0].zones}" +
  // From timers: printed lines reach the capture from the idle loop, so a flush must come after it ran.
  "var zs=zones(),zi=0,before,k=0;function step(){" +
  "if(zi>=zs.length){" +
  'require("Storage").erase(' + JSON.stringify(SETTINGS_FILE) + ");" +
  save("zones().map(function(z){return [z.name,z.records,z.bytesFree,z.drops]})") +
  "quit();return;}" +
  "var w=writers[zs[zi].types[0]];if(!w||k>=1000){zi++;k=0;before=undefined;setTimeout(step,10);return;}" +
  "if(before===undefined)before=zones()[zi];" +
  "var kind=zs[zi].types[0];if(kind==2&&k%2==0){print(text(" + FILL_BYTES + "));k++;setTimeout(step,10);return;}" +
  "if(kind==2)P.flush();else w();k++;" +
  "var after=zones()[zi];if(after.records<=before.records){zi++;k=0;before=undefined;}else before=after;setTimeout(step,10);}" +
  "setTimeout(step,100);";

/**
 * The flat-usage figure from the samples [iterations, usage, pmsg refused]: usage grown from the first sample after
 * warm-up (the rings filled by the first SAMPLE_EVERY) to the last; a stalled run is not met, whatever it grew.
 */
function flatFigure(what: string, r: { samples: number[][]; stopped: boolean }, setting: string): Figure {
  const s = r.samples;
  const last = s[s.length - 1];
  const finished = !r.stopped && last && last[0] === FLAT_COUNT;
  const steady = s.length > 2 ? last[1] - s[1][1] : NaN;
  const trail = `usage at ${s.map((x) => `${x[0]}: ${x[1]}`).join(", ")}; pmsg refused: ${last ? last[2] : "–"}`;
  return {
    label: `usage over ${what}, grown after the first ${SAMPLE_EVERY.toLocaleString("en-US")}`,
    unit: "vars",
    empty: finished ? steady : NaN,
    target: { max: 0, text: "flat" },
    note:
      (finished ? "" : `**did not finish**: stopped after ${FLAT_LIMIT_MS / 1000} s at ${last ? last[0] : 0} iterations; `) +
      trail +
      (setting ? `; ${setting}` : ""),
  };
}

export async function benchDevice(options: { bangle?: string } = {}): Promise<DeviceBench> {
  const bin = process.env.ESPRUINO_BIN;
  if (!bin || !existsSync(bin)) throw new Error("ESPRUINO_BIN does not name Espruino's Linux build (../shared/espruino/linux/espruino)");
  const valgrind = hasValgrind();
  const notes: string[] = [];
  if (!valgrind) notes.push("valgrind is not installed: instruction counts are not measured, variables only.");
  const root = mkdtempSync(join(tmpdir(), "pstore-bench-device-"));
  try {
    const distDir = join(root, "dist");
    await buildBoard("LINUX", { outDir: distDir });
    const dist = join(distDir, "LINUX");
    const installed = bundlesIn(dist);
    let folders = 0;
    /** Writes `files` to the Storage of the interpreter run in `dir`. */
    const install = async (dir: string, files: Record<string, string>): Promise<string> => {
      let js = 'var S=require("Storage");';
      for (const [n, text] of Object.entries(files)) js += `S.write(${JSON.stringify(n)},${JSON.stringify(text)});`;
      writeFileSync(join(dir, "install.js"), js + "quit();");
      await run(bin, dir, "install.js", undefined, true);
      return dir;
    };
    /** A fresh folder whose Storage holds `files` (at least one, so the Linux build does not wipe flash). */
    const folder = async (files: Record<string, string>): Promise<string> => {
      const dir = join(root, `run${folders++}`);
      mkdirSync(dir, { recursive: true });
      return install(dir, files);
    };
    const bare = () => folder({ x: "1" });
    const withPstore = (settings?: object) => folder(settings ? { ...installed, [SETTINGS_FILE]: JSON.stringify(settings) } : installed);
    /** A copy of a prepared folder's flash, so each measurement starts from the same store. */
    const copyOf = (dir: string): string => {
      const copy = join(root, `run${folders++}`);
      mkdirSync(copy);
      copyFileSync(join(dir, "espruino.flash"), join(copy, "espruino.flash"));
      return copy;
    };
    let cg = 0;
    const count = async (dir: string, code: string, quitMs = 1): Promise<Run> =>
      valgrind ? run(bin, dir, code + quitAfter(quitMs), join(root, `cg.${cg++}`)) : { out: "", results: [], instructions: NaN };
    const instructions = async (dir: string, code: string, quitMs = 1) => (await count(dir, code, quitMs)).instructions!;

    const version = one(await run(bin, await bare(), save("process.version") + QUIT), "version");

    // Variables after boot.
    const usageBare = one(await run(bin, await bare(), save(USAGE) + QUIT), "bare usage");
    const usageEmpty = one(await run(bin, await withPstore(), save(USAGE) + QUIT), "usage after boot");
    // The modules loaded but not started, on an interpreter without pstore's boot file: their functions and
    // constants.
    const loadDir = await folder({ [MODULE_FILE]: installed[MODULE_FILE], [SERVICE_FILE]: installed[SERVICE_FILE] });
    // And what the code of one function, start(), costs: its length and the variables of its code (E.getSizeOf).
    const startCode = `require(${JSON.stringify(MODULE_FILE)}).start`;
    const loads = one(
      await run(
        bin,
        loadDir,
        `var u=[${USAGE}];require(${JSON.stringify(MODULE_FILE)});u.push(${USAGE});require(${JSON.stringify(SERVICE_FILE)});u.push(${USAGE});` +
          `u.push(${startCode}.toString().length,E.getSizeOf(${startCode},1).filter(function(n){return n.name=="\\xFFcod"})[0].size);` +
          save("u") +
          QUIT,
      ),
      "module load",
    ) as number[];
    const moduleText = loads[1] - loads[0];
    const serviceText = loads[2] - loads[1];
    const [startChars, startCodeVars] = [loads[3], loads[4]];

    // What the instance holds: the parts of E.getSizeOf(global, 8) that do not reach the whole instance.
    const tree = one(await run(bin, await withPstore(), save(`[${USAGE},E.getSizeOf(global,8)]`) + QUIT), "sizes") as [number, SizeNode[]];
    const held = heldObjects(tree[1], tree[0] - usageBare - moduleText, 10).slice(0, 30);
    // Where the variables go, step by step: the same bundles with the usage probe built in (PSTORE_STAGES).
    await buildBoard("LINUX", { outDir: join(root, "stages"), stages: true });
    const probed = bundlesIn(join(root, "stages", "LINUX"));
    const stagesOf = async (dir: string) =>
      one(await run(bin, dir, save(`[${USAGE},E.getSizeOf(pstoreStages),pstoreStages]`) + QUIT), "start() step by step") as StagesRun;

    // After each host call and the application's list/read/status, once the call is over (the service module stays
    // while a host keeps talking): usage against the figure before the first call.
    const after = async (dir: string): Promise<number[]> => {
      const steps = [
        hostCall("l"),
        `${hostCall("g", ["NAME", 0, 0, DEFAULT_CHUNK * 16, DEFAULT_CHUNK]).replace('"NAME"', "n")}`,
        hostCall("s"),
        `${P}.list()`,
        `${P}.read(n)`,
        `${P}.status()`,
      ];
      const code =
        `var n=${P}.pmsg("host call"),f=[],u0,steps=[${steps.map((s) => `function(){${s}}`).join(",")}];` +
        `function settled(then,tries,last){var u=${USAGE};if((Modules.getCached().indexOf(${JSON.stringify(SERVICE_FILE)})<0&&u==last)||tries>${SETTLE_TRIES})then();else setTimeout(function(){settled(then,tries+1,u)},${SETTLE_MS});}` +
        `function next(){if(f.length<steps.length){steps[f.length]();settled(function(){f.push(${USAGE}-u0);next()},0);}else{${save("f")}quit();}}` +
        `setTimeout(function(){u0=${USAGE};next()},100);`;
      return one(await run(bin, dir, code), "host calls") as number[];
    };
    const callsEmpty = await after(await withPstore());

    // A full store: every zone filled (with the settings file that lifts the pmsg rate limit, then removed).
    const full = await withPstore({ pmsgPerMinute: 100000 });
    const fillZones = one(await run(bin, full, FILL), "fill") as Array<[string, number, number, number]>;
    const usageFull = one(await run(bin, copyOf(full), save(USAGE) + QUIT), "usage after boot, full");
    const records = one(await run(bin, copyOf(full), save(`${P}.list().length`) + QUIT), "records");
    const emptyRecords = one(await run(bin, await withPstore(), save(`${P}.list().length`) + QUIT), "records, empty");
    const callsFull = await after(copyOf(full));
    const stages = startSteps(usageBare, await stagesOf(await folder(probed)), await stagesOf(await install(copyOf(full), probed)));

    // Instructions: each figure the difference of two runs that differ only in the call measured.
    const bootBare = await instructions(await bare(), "");
    const bootEmptyRun = await count(await withPstore(), "");
    const bootEmpty = bootEmptyRun.instructions!;
    const bootFull = await instructions(copyOf(full), "");
    // The full store once its ring zones have reused a page, as a device's do soon enough: WRAP_PMSG more messages.
    const wrapped = copyOf(full);
    await run(bin, wrapped, `require("Storage").write(${JSON.stringify(SETTINGS_FILE)},${JSON.stringify(JSON.stringify({ pmsgPerMinute: 100000 }))});` + QUIT);
    const wrappedZones = one(
      await run(
        bin,
        wrapped,
        TEXT_FN +
          `var k=0;function step(){if(k++<${WRAP_PMSG}){${P}.pmsg(text(${FILL_BYTES}));setTimeout(step,10);return;}` +
          `require("Storage").erase(${JSON.stringify(SETTINGS_FILE)});${save(`${P}.status().backends[0].zones.map(function(z){return [z.name,z.records,z.eraseMax]})`)}quit();}setTimeout(step,100);`,
      ),
      "wrap",
    ) as Array<[string, number, number]>;
    const bootWrapped = await instructions(copyOf(wrapped), "");
    const pmsgDir = await withPstore();
    /** Instructions between the two MARKs in `code`, run in a copy of `dir`. */
    const marked = async (dir: string, code: string) =>
      valgrind ? (await run(bin, copyOf(dir), code + quitAfter(LATE_QUIT_MS), join(root, `cg.${cg++}`), false, 900_000, true)).instructions! : NaN;
    const pmsgCost = (await marked(pmsgDir, `${MARK};for(var i=0;i<10;i++)${P}.pmsg("message "+i);${MARK};${QUIT}`)) / 10;
    const consoleText = `for(var i=0;i<${CRASH_CONSOLE / 64};i++)print("console line "+i+" ".repeat(40)+"........");`;
    /**
     * A store as a device that has been running holds it: the idle's work done (every page prepared, which the idle
     * timer does one page per pass), by calling the runtime's tick until it reports nothing left.
     */
    const prepared = async (): Promise<string> => {
      const dir = await withPstore();
      const code = `var r=${P}.running(),passes=0;while(r.tick()&&passes<${PREPARE_PASSES})passes++;${save("passes")}${QUIT}`;
      const passes = one(await run(bin, dir, code), "idle passes") as number;
      if (passes >= PREPARE_PASSES) throw new Error(`the idle still had work after ${passes} passes`);
      return dir;
    };
    const crashDir = await prepared();
    const bootPrepared = await instructions(copyOf(crashDir), "");
    // The console printed, then (once the capture has taken it in) the panic, from a timer.
    const panicLater = (then: string) => consoleText + `setTimeout(function(){${then}},100);`;
    const crashCost = await marked(crashDir, panicLater(`${MARK};${P}.panic("state machine lost");${MARK};${QUIT}`));
    const crashRecords = one(
      await run(bin, crashDir, panicLater(`${P}.panic("state machine lost");` + save(`${P}.list().filter(function(r){return r.reason==1}).map(function(r){return [r.type,r.codec,r.originalLength,r.storedLength]})`) + QUIT)),
      "crash records",
    ) as Array<[number, number, number, number]>;
    // An idle pass: the runtime's tick, what the idle timer calls, IDLE_PASSES in a row on a store with nothing to do.
    const idleDir = await prepared();
    const idleCost =
      (await marked(idleDir, `setTimeout(function(){var r=${P}.running();${MARK};for(var i=0;i<${IDLE_PASSES};i++)r.tick();${MARK};${QUIT}},100);`)) / IDLE_PASSES;
    const listDir = await withPstore();
    const listCost = async (dir: string) => (await instructions(copyOf(dir), whenListed(hostCall("l")), LATE_QUIT_MS)) - (await instructions(copyOf(dir), whenListed(""), LATE_QUIT_MS));
    const listEmpty = await listCost(listDir);
    const listFull = await listCost(full);

    // Flat usage: FLAT_COUNT pmsg, traced calls and console lines in a row, in batches from timers; the rate limit
    // lifted to let them through. And the same without pmsg, which tells the rate limiter's share. Each sample
    // [iterations, usage, pmsg refused] is saved as it is taken: a run that stalls still tells how far it got.
    const flat = async (withPmsg: boolean): Promise<{ samples: number[][]; stopped: boolean }> => {
      const sample = save("[i,process.memory().usage,errors]");
      const code =
        `var P=${P},t=P.trace(function(a){return a+1},"inc"),i=0,errors=0;` +
        `function batch(){for(var k=0;k<${FLAT_BATCH}&&i<${FLAT_COUNT};k++,i++){` +
        (withPmsg ? `try{P.pmsg("m"+i)}catch(e){errors++}` : "") +
        `t(i);print("line "+i);}` +
        `if(i%${SAMPLE_EVERY}==0){${sample}}if(i<${FLAT_COUNT})setTimeout(batch,20);else quit();}` +
        `setTimeout(function(){${sample}batch()},100);`;
      const r = await run(bin, await withPstore({ pmsgPerMinute: FLAT_COUNT }), code, undefined, false, FLAT_LIMIT_MS);
      return { samples: r.results as number[][], stopped: !!r.stopped };
    };
    const flatAll = await flat(true);
    const flatNoPmsg = await flat(false);

    let bootProfile: DeviceBench["bootProfile"] = [];
    if (valgrind) {
      const annotated = execFileSync("callgrind_annotate", ["--inclusive=yes", bootEmptyRun.callgrindFile!], { encoding: "utf8", maxBuffer: 64 << 20 });
      bootProfile = callgrindInclusive(annotated, 25);
    }

    const puck = await buildBoard("PUCKJS", { dryRun: true });
    const puckModule = puck.sizes.find((s) => s.file.endsWith("/pstore.js"))!.bytes;

    const perRecord = records > emptyRecords ? (usageFull - usageEmpty) / (records - emptyRecords) : NaN;
    const fullBudget = 1000 + 2 * records;
    const M = 1e6;
    const figures: Figure[] = [
      { label: "variables after boot", unit: "vars", bare: usageBare, empty: usageEmpty, full: usageFull, target: { max: 1000, text: "≤ 1,000 (empty)" }, targetOn: ["empty"] },
      {
        label: "variables after boot, full store",
        unit: "vars",
        full: usageFull,
        target: { max: fullBudget, text: `≤ 1,000 + 2 per record = ${fullBudget.toLocaleString("en-US")}` },
        targetOn: ["full"],
      },
      {
        label: "of which the module text: its functions and constants, loaded",
        unit: "vars",
        empty: moduleText,
        note: `usage grown by require("${MODULE_FILE}") on an interpreter without pstore's boot file (the module loaded, not started); the code itself stays in Storage (see below), so what this counts is the module's functions (each the function, its code's reference and its scope) and its constants`,
      },
      {
        label: "the rest (after boot − bare − module text)",
        unit: "vars",
        empty: usageEmpty - usageBare - moduleText,
        full: usageFull - usageBare - moduleText,
        target: { max: 300, text: "≤ 300" },
        targetOn: ["empty"],
      },
      {
        label: "records stored",
        unit: "records",
        empty: emptyRecords,
        full: records,
        note: `full: every zone filled with ${FILL_BYTES}-byte records until one more adds none; zones [name, records, bytes free, drops]: ${JSON.stringify(fillZones)}`,
      },
      { label: "variables per stored record", unit: "vars", full: perRecord, target: { max: 2, text: "≤ 2" }, targetOn: ["full"], note: "(usage full − usage empty) / (records full − records empty)" },
      {
        label: `the service module ("${SERVICE_FILE}") while loaded`,
        unit: "vars",
        empty: serviceText,
        note: "usage grown by its require, module already loaded; it is dropped after each call",
      },
      ...["host list (l)", "host get (g) of a record", "host status (s)", "list()", "read()", "status()"].map(
        (what, i): Figure => ({
          label: `left after ${what}`,
          unit: "vars over the figure before the first call",
          empty: callsEmpty[i],
          full: callsFull[i],
          target: { max: 60, text: "≤ 60" },
          note: i === 0 ? `one run per store: the calls in this order, each figure against the usage before the first, read once "${SERVICE_FILE}" has left the module cache and usage has held still for ${SETTLE_MS} ms` : undefined,
        }),
      ),
      flatFigure(
        `${FLAT_COUNT.toLocaleString("en-US")} pmsg + traced calls + console lines`,
        flatAll,
        `pmsgPerMinute ${FLAT_COUNT}, so that they pass (compare the run without pmsg)`,
      ),
      flatFigure(`${FLAT_COUNT.toLocaleString("en-US")} traced calls + console lines (no pmsg)`, flatNoPmsg, ""),
      { label: "PUCKJS resident module, minified", unit: "bytes", empty: puckModule, target: { max: 10240, text: "≤ 10 KB" }, note: "npm run build, PUCKJS defaults" },
    ];
    if (valgrind) {
      figures.push(
        {
          label: "instructions, boot and quit",
          unit: "instr",
          bare: bootBare,
          empty: bootEmpty,
          full: bootFull,
          target: { max: 150 * M, text: "≤ 150 M empty" },
          targetOn: ["empty"],
          note: "empty: as installed, before the idle has made any page file",
        },
        {
          label: "instructions, boot and quit, empty store with its pages prepared",
          unit: "instr",
          empty: bootPrepared,
          target: { max: 150 * M, text: "≤ 150 M empty" },
          note: "what every boot after the first few seconds of a device's life costs while the store is empty: the idle has prepared every page, and the scan reads each one (the figure above is a fresh install, whose page files do not exist yet)",
        },
        { label: "instructions, boot and quit, full store", unit: "instr", full: bootFull, target: { max: 400 * M, text: "≤ 400 M full" }, targetOn: ["full"] },
        {
          label: "instructions, boot and quit, full store whose rings have reused pages",
          unit: "instr",
          full: bootWrapped,
          target: { max: 400 * M, text: "≤ 400 M full" },
          targetOn: ["full"],
          note: `the full store after ${WRAP_PMSG} more pmsg(): the pmsg ring has erased and refilled its oldest pages, which puts its index out of medium order, and the scan then sorts it record by record (zones [name, records, most erases of a page]: ${JSON.stringify(wrappedZones)})`,
        },
        { label: "instructions per pmsg()", unit: "instr", empty: pmsgCost, note: "10 pmsg() in a row, counted between two calls of E.variance() around them, where callgrind dumps its counts" },
        {
          label: `instructions, panic() after ${CRASH_CONSOLE} B of console (crash-path dump of dmesg + console)`,
          unit: "instr",
          empty: crashCost,
          target: { max: 15 * M, text: "≤ 15 M" },
          note: `the panic() call alone, on a store whose pages the idle has prepared, counted between two calls of E.variance() around it, where callgrind dumps its counts; records written [type, codec (0 raw, 1 lz4, 2 heatshrink), original bytes, stored bytes]: ${JSON.stringify(crashRecords)}`,
        },
        {
          label: "instructions per idle pass (nothing to erase)",
          unit: "instr",
          empty: idleCost,
          note: `${IDLE_PASSES} calls in a row of the runtime's tick (what the idle timer calls every idleSeconds), on a store whose pages are all prepared, counted between two calls of E.variance() around them`,
        },
        { label: "instructions, host list (l)", unit: "instr", empty: listEmpty, full: listFull, note: `the host's request line against none, each run quitting once no stream is left (polled every ${LIST_POLL_MS} ms)` },
      );
    }
    notes.push(
      `Module text: a module loaded from Storage keeps its code there. On this build a function's code is a reference into the Storage file (start(), ${startChars} characters of code: ${startCodeVars} variables for it, E.getSizeOf), as on boards whose Storage is memory-mapped; the code costs instructions instead, read from flash 16 bytes at a time as it runs. What a module costs in variables is its functions, closures and objects, each made at run time.`,
      "Targets are the issue's (\"Fit the device\"); a figure without a target is there to tell where the cost goes.",
    );
    const bangle = options.bangle
      ? await benchBangle(options.bangle).then(
          (figures) => ({ available: true as const, figures }),
          (error: Error) => ({ available: false as const, reason: error.message.split("\n")[0] }),
        )
      : { available: false as const, reason: "BANGLE_EMU does not name the emulator's folder (../shared/espruino/banglejs2)" };
    return { interpreter: String(version), valgrind, figures: figures.map(judged), held, stages, bootProfile, bangle, notes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
