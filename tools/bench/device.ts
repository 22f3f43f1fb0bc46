// `npm run bench -- --device`: what pstore costs on the real interpreter (ESPRUINO_BIN, Espruino's Linux build),
// each figure beside the bare interpreter's in the same run: variables (process.memory().usage) after boot, per
// stored record and after host calls; instructions (callgrind) for boot, pmsg(), a crash-path dump, an idle pass
// and a host list; and the breakdown (E.getSizeOf of what the runtime keeps, callgrind by function) behind them.
// Every run gets its own folder: the interpreter keeps Storage in ./espruino.flash.

import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBoard } from "../build/build";
import { BOOT_FILE, MODULE_FILE, SERVICE_FILE } from "../build/installed-files";

/** The file in a run's folder the device code writes its results to, one JSON line each. */
const RESULTS = "bench-results.txt";
/** Console text before a panic: the crash path dumps about this much dmesg plus console. */
const CRASH_CONSOLE = 2048;
/** Payload of each record the full store is filled with. */
const FILL_BYTES = 100;

export interface Figure {
  label: string;
  bare?: number;
  pstore: number;
  full?: number;
  /** Target from the issue, in the figure's unit; undefined when there is none. */
  target?: string;
  unit: string;
}

export interface DeviceBench {
  interpreter: string;
  valgrind: boolean;
  figures: Figure[];
  /** E.getSizeOf of each field of the running instance and its store (empty store, after boot). */
  sizes: Array<{ what: string; variables: number }>;
  /** callgrind by function for boot and quit (empty store): the top inclusive costs. */
  bootProfile: Array<{ instructions: number; fn: string }>;
  notes: string[];
}

interface Run {
  out: string;
  results: any[];
  instructions?: number;
}

function hasValgrind(): boolean {
  return spawnSync("valgrind", ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * Runs `code` after the boot code (`-e`) in `dir`, or a file without boot code. stdin stays an open, silent pipe
 * (at EOF the interpreter spins); the code must end with quit().
 */
async function run(bin: string, dir: string, code: string, callgrind?: string, file = false): Promise<Run> {
  const args = file ? [code] : ["-e", code];
  const argv = callgrind ? ["valgrind", "--tool=callgrind", `--callgrind-out-file=${callgrind}`, bin, ...args] : [bin, ...args];
  // stdin an ordinary pipe whose writer stays silent: node's own stdio pipes are sockets, over which quit() never
  // comes (and at EOF the interpreter spins); stdout a pipe too.
  const child = spawn("bash", ["-c", 'exec 3< <(exec sleep 3600); p=$!; "$@" <&3 | cat; r=${PIPESTATUS[0]}; kill $p; exit $r', "-", ...argv], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.setEncoding("latin1").on("data", (d: string) => (out += d));
  child.stderr.resume();
  const timer = setTimeout(() => child.kill("SIGKILL"), 600_000);
  const status = await new Promise<number | null>((done, fail) => {
    child.on("error", fail);
    child.on("exit", (code) => done(code));
  });
  clearTimeout(timer);
  if (status !== 0) throw new Error(`${code.slice(0, 60)}: the interpreter exited with ${status}:\n${out.slice(-800)}`);
  const resultFile = join(dir, RESULTS);
  const results = existsSync(resultFile)
    ? readFileSync(resultFile, "latin1")
        .split("\n")
        .filter((l) => l)
        .map((l) => JSON.parse(l))
    : [];
  rmSync(resultFile, { force: true });
  let instructions: number | undefined;
  if (callgrind) {
    const m = /^summary:\s*(\d+)/m.exec(readFileSync(callgrind, "latin1"));
    if (!m) throw new Error(`callgrind wrote no summary for ${code.slice(0, 60)}`);
    instructions = Number(m[1]);
  }
  return { out, results, instructions };
}

function one(r: Run, what: string): any {
  if (!r.results.length) throw new Error(`${what}: the interpreter printed no result:\n${r.out.slice(-800)}`);
  return r.results[r.results.length - 1];
}

/** A fresh folder whose Storage holds `files` (with at least one file, so the Linux build does not wipe flash). */
async function prepare(bin: string, root: string, name: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  let js = 'var S=require("Storage");';
  for (const [n, text] of Object.entries(files)) js += `S.write(${JSON.stringify(n)},${JSON.stringify(text)});`;
  writeFileSync(join(dir, "install.js"), js + "quit();");
  await run(bin, dir, "install.js", undefined, true);
  return dir;
}

/** quit() from the -e code itself is undone when the code returns (the Linux build's main loop sets its flag
 * again): it must run from a timer. */
const QUIT = "setTimeout(quit,1);";
/**
 * Appends the JSON of `expr` as one line to the file RESULTS in the run's folder (the Linux build's fs module):
 * printed, it would go through the captured console, whose FIFO loses what a burst brings beyond 986 characters.
 */
const p = (expr: string) => `require("fs").appendFileSync(${JSON.stringify(RESULTS)},JSON.stringify(${expr})+"\\n");`;
const USAGE = "process.memory().usage";

/** Fills every zone of the running store to its last page (ring zones keep their spare), through the core. */
const FILL = `var r=require("pstore").running(),c=r.core,st=require("pstore").status().backends[0].zones;
require("pstore").list();Modules.removeCached("pstoresvc");
var pl=new Uint8Array(${FILL_BYTES}),n=0;pl.fill(65);
st.forEach(function(z){var per=Math.floor((z.bytesFree/z.pages-24)/(52+${FILL_BYTES}));
var k=per*(z.policy=="keep-first"?z.pages:z.pages-1);for(var i=0;i<k;i++)if(c.write(z.types[0],13,pl))n++;});`;

export async function benchDevice(): Promise<DeviceBench> {
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
    const files = {
      [MODULE_FILE]: readFileSync(join(dist, "pstore.js"), "latin1"),
      [SERVICE_FILE]: readFileSync(join(dist, "pstore.svc.js"), "latin1"),
      [BOOT_FILE]: readFileSync(join(dist, "pstore.boot.js"), "latin1"),
    };
    const version = one(await run(bin, await prepare(bin, root, "version", { x: "1" }), p("process.version") + QUIT), "version");
    const fresh = (name: string) => prepare(bin, root, name, files);
    let bares = 0;
    const bare = () => prepare(bin, root, `bare${bares++}`, { x: "1" });
    let cg = 0;
    const count = async (dir: string, code: string): Promise<number> =>
      valgrind ? (await run(bin, dir, code + QUIT, join(root, `cg.${cg++}`))).instructions! : NaN;

    // Variables after boot: everything, and the module text read into RAM (the Linux build, like Bangle.js 2,
    // copies a module out of Storage; boards with memory-mapped flash run it in place).
    const bareUsage = one(await run(bin, await bare(), p(USAGE) + QUIT), "bare usage");
    const empty = await fresh("empty");
    const afterBoot = one(await run(bin, empty, p(USAGE) + QUIT), "usage after boot");
    const text = one(await run(bin, empty, p(`E.getSizeOf(E.toString(require("Storage").read(${JSON.stringify(MODULE_FILE)})))`) + QUIT), "module text");
    const sizes = one(
      await run(
        bin,
        empty,
        // Functions left out: E.getSizeOf of a closure counts all it can reach. Short, as the console's FIFO holds
        // about 986 characters of one burst.
        p(`(function(){var r=require("pstore").running(),o=[];for(var k in r)if(typeof r[k]!="function")o.push(["runtime."+k,E.getSizeOf(r[k])]);
for(var k in r.core)if(typeof r.core[k]!="function")o.push(["core."+k,E.getSizeOf(r.core[k])]);return o;})()`) + QUIT,
      ),
      "sizes",
    ).map((e: [string, number]) => ({ what: e[0], variables: e[1] })) as DeviceBench["sizes"];

    // After the host's list and the application's list/read/status: what stays once the call is over.
    const hostList = `require(${JSON.stringify(SERVICE_FILE)}).l(1);`;
    const calls = one(
      await run(
        bin,
        empty,
        // The host's calls keep the service module until the host has been silent for 2 s.
        `require("pstore").pmsg("x");var u0=${USAGE},f=[];${hostList}setTimeout(function(){f.push(${USAGE}-u0);require("pstore").list();f.push(${USAGE}-u0);` +
          `require("pstore").read(require("pstore").list()[0].name);f.push(${USAGE}-u0);require("pstore").status();f.push(${USAGE}-u0);` +
          p("f") + "quit();},2500);",
      ),
      "host calls",
    ) as number[];

    // A full store: every zone filled, then a new boot.
    const full = await fresh("full");
    const filled = one(await run(bin, full, FILL + p("n") + QUIT), "fill");
    const fullBoot = one(await run(bin, full, p(USAGE) + QUIT), "usage after boot, full");
    const records = one(await run(bin, full, p("require('pstore').list().length") + QUIT), "records");

    // Instructions: each figure the difference of two runs that differ only in the call measured.
    const bootBare = await count(await bare(), "");
    const bootEmpty = await count(await fresh("cg-empty"), "");
    const bootFull = await count(full, "");
    const pmsgDir = await fresh("cg-pmsg");
    const pmsgCost = ((await count(pmsgDir, 'for(var i=0;i<10;i++)require("pstore").pmsg("message "+i);')) - (await count(pmsgDir, ""))) / 10;
    const consoleText = `for(var i=0;i<${CRASH_CONSOLE / 64};i++)print("console line "+i+" ".repeat(40)+"........");`;
    const crashDir = await fresh("cg-crash");
    const crashCost = (await count(crashDir, consoleText + 'require("pstore").panic("state machine lost: "+"x".repeat(900));')) - (await count(crashDir, consoleText));
    const crashRecords = one(await run(bin, crashDir, p("require('pstore').list().map(function(r){return [r.type,r.codec,r.originalLength,r.storedLength]})") + QUIT), "crash records");
    const idleDir = await fresh("cg-idle");
    const settle = 'var r=require("pstore").running();while(r.tick());';
    const idleCost = ((await count(idleDir, settle + "for(var i=0;i<10;i++)r.tick();")) - (await count(idleDir, settle))) / 10;
    const listDir = await fresh("cg-list");
    const listCost = (await count(listDir, hostList)) - (await count(listDir, ""));
    const listFullCost = (await count(full, hostList)) - bootFull;

    // Flat usage over many calls: 10,000 pmsg (through the core: the rate limit allows 10 a minute), traced calls
    // and console lines.
    const flat = one(
      await run(
        bin,
        await fresh("flat"),
        `var P=require("pstore"),r=P.running(),t=P.trace(function(a){return a+1},"inc"),u=[];u.push(${USAGE});` +
          `for(var i=0;i<10000;i++){r.core.write(4,13,E.toUint8Array("m"+i));t(i);r.consoleData("line "+i+"\\n");if(i%2500==2499)u.push(${USAGE});}` +
          p("u") + QUIT,
      ),
      "flat usage",
    ) as number[];

    let bootProfile: DeviceBench["bootProfile"] = [];
    if (valgrind) {
      const out = execFileSync("callgrind_annotate", ["--inclusive=yes", join(root, "cg.1")], { encoding: "utf8", maxBuffer: 64 << 20 });
      bootProfile = out
        .split("\n")
        .map((l) => /^\s*([\d,]+)\s+\([^)]*\)\s+\S*:(\S+)/.exec(l) ?? /^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?\S*:(\S+)/.exec(l))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => ({ instructions: Number(m[1].replace(/,/g, "")), fn: m[2] }))
        .slice(0, 25);
    }

    const figures: Figure[] = [
      { label: "variables after boot", bare: bareUsage, pstore: afterBoot, full: fullBoot, target: "≤ 1,000 (empty)", unit: "vars" },
      { label: "of which the module text in RAM", pstore: text, unit: "vars" },
      { label: "the rest (after boot − bare − module text)", pstore: afterBoot - bareUsage - text, full: fullBoot - bareUsage - text, target: "≤ 300", unit: "vars" },
      { label: `records in the full store (${FILL_BYTES}-byte payloads; ${filled} written)`, pstore: 0, full: records, unit: "records" },
      { label: "variables per stored record", pstore: 0, full: records ? Math.round(((fullBoot - afterBoot) / records) * 100) / 100 : 0, target: "≤ 2", unit: "vars" },
      { label: "left 2.5 s after a host list (l)", pstore: calls[0], target: "≤ 60", unit: "vars" },
      { label: "left after list()", pstore: calls[1], target: "≤ 60", unit: "vars" },
      { label: "left after read()", pstore: calls[2], target: "≤ 60", unit: "vars" },
      { label: "left after status()", pstore: calls[3], target: "≤ 60", unit: "vars" },
      { label: "usage over 10,000 pmsg + traced calls + console lines (first, then every 2,500)", pstore: flat[flat.length - 1] - flat[0], target: "flat (0)", unit: `vars (${flat.join(", ")})` },
    ];
    if (valgrind) {
      figures.push(
        { label: "instructions, boot and quit", bare: bootBare, pstore: bootEmpty, full: bootFull, target: "≤ 150 M empty, ≤ 400 M full", unit: "instr" },
        { label: "instructions per pmsg()", pstore: pmsgCost, unit: "instr" },
        { label: `instructions, panic() dumping ~${CRASH_CONSOLE} B of console plus a 900 B cause`, pstore: crashCost, target: "≤ 15 M", unit: "instr" },
        { label: "instructions per idle pass (nothing to erase)", pstore: idleCost, unit: "instr" },
        { label: "instructions, host list (l)", pstore: listCost, full: listFullCost, unit: "instr" },
      );
    }
    notes.push(
      `crash-path records (type, codec, original bytes, stored bytes): ${JSON.stringify(crashRecords)}`,
      "Module text: E.getSizeOf of the module's text read into RAM, the most it can hold; the Linux build, like Bangle.js 2, copies a module out of Storage.",
    );
    return { interpreter: String(version), valgrind, figures, sizes, bootProfile, notes };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const fmt = (n: number | undefined) => (n === undefined ? "–" : Math.abs(n) >= 1e6 ? (n / 1e6).toFixed(1) + " M" : n.toLocaleString("en-US"));

export function deviceMarkdown(d: DeviceBench, command: string): string {
  const lines = [
    "## On the real interpreter",
    "",
    `Generated by \`${command}\` on Espruino ${d.interpreter} (Linux build, -O0, JsVar 27 bytes; \`ESPRUINO_BIN\`), LINUX bundle with the default settings. ` +
      "Variables are `process.memory().usage`; instructions are callgrind's count for the whole run, each per-call figure the difference of two runs that differ only in that call. Bare: the interpreter with one Storage file and no pstore.",
    "",
    "| figure | bare | pstore, empty store | pstore, full store | target | unit |",
    "| --- | ---: | ---: | ---: | --- | --- |",
    ...d.figures.map((f) => `| ${f.label} | ${fmt(f.bare)} | ${fmt(f.pstore)} | ${fmt(f.full)} | ${f.target ?? ""} | ${f.unit} |`),
    "",
    "What the running instance keeps, after boot with an empty store (`E.getSizeOf` of each field that is not a function; mangled names; shared parts counted in each):",
    "",
    "| object | variables |",
    "| --- | ---: |",
    ...d.sizes.map((s) => `| ${s.what} | ${s.variables} |`),
    "",
  ];
  if (d.bootProfile.length) {
    lines.push("Boot and quit, empty store, by function (callgrind, inclusive):", "", "| instructions | function |", "| ---: | --- |");
    lines.push(...d.bootProfile.map((r) => `| ${fmt(r.instructions)} | ${r.fn} |`), "");
  }
  lines.push(...d.notes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}

/** Puts the section into a Markdown file, replacing the one there. */
export function writeDeviceSection(file: string, section: string): void {
  const old = existsSync(file) ? readFileSync(file, "utf8") : "";
  const start = old.indexOf("## On the real interpreter");
  let next = start < 0 ? -1 : old.indexOf("\n## ", start + 3);
  const text = start < 0 ? old.replace(/\n*$/, "\n\n") + section : old.slice(0, start) + section + (next < 0 ? "" : old.slice(next + 1));
  writeFileSync(file, text);
}
