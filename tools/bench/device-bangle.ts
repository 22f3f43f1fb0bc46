// The Bangle.js 2 half of `npm run bench -- --device`: the real firmware in Espruino's emulator (BANGLE_EMU, the
// folder with serve.js and emu.js), a factory-fresh watch beside the same watch with pstore installed by
// `pstore install`, measured side by side in one process: variables after boot, and what one load() (the watch's
// app switch) takes. The emulator counts neither instructions nor executions, so load() is wall time, rounds
// alternating between the two watches, the median of each.

import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildBoard } from "../build/build";
import { judged, type Figure } from "./device-figures";

const ROOT = resolve(import.meta.dirname, "../..");
const ROUNDS = 5;

interface Emu {
  tx(s: string): void;
  eval(js: string, ms?: number): Promise<any>;
  transcript: string;
  stop(): void;
}

/** Runs serve.js on `flashFile` (factory-fresh when missing), calls `use` with its port, then powers it off. */
async function served(emulator: string, flashFile: string, use: (port: number) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [join(emulator, "serve.js"), "--port", "0", "--flash", flashFile], { stdio: ["pipe", "pipe", "pipe"] });
  try {
    const port = await new Promise<number>((done, fail) => {
      let text = "";
      const onData = (b: Buffer) => {
        text += b;
        const m = /listening tcp:\/\/127\.0\.0\.1:(\d+)/.exec(text);
        if (m) done(Number(m[1]));
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => fail(new Error(`serve.js exited (${code}): ${text.slice(-300)}`)));
    });
    await use(port);
  } finally {
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGTERM");
    await exited;
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Waits until the watch has printed nothing for `quietMs`. */
async function quiet(emu: Emu, quietMs: number, maxMs: number): Promise<void> {
  const end = Date.now() + maxMs;
  let length = emu.transcript.length;
  let last = Date.now();
  while (Date.now() < end) {
    await sleep(20);
    if (emu.transcript.length !== length) {
      length = emu.transcript.length;
      last = Date.now();
    } else if (Date.now() - last >= quietMs) return;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchBangle(emulator: string): Promise<Figure[]> {
  const { createEmu } = createRequire(import.meta.url)(join(emulator, "emu.js")) as { createEmu(o: object): Promise<Emu> };
  const dir = mkdtempSync(join(tmpdir(), "pstore-bench-bangle-"));
  try {
    const bareFile = join(dir, "bare.bin");
    const pstoreFile = join(dir, "pstore.bin");
    await served(emulator, bareFile, async () => {});
    copyFileSync(bareFile, pstoreFile);
    await buildBoard("BANGLEJS2", { outDir: join(dir, "dist") });
    await served(emulator, pstoreFile, async (port) => {
      const install = spawnSync(process.execPath, [join(ROOT, "bin/pstore.js"), "install", "--board", "BANGLEJS2", "--dist", join(dir, "dist"), "--port", `tcp://127.0.0.1:${port}`, "--timeout", "60"], {
        encoding: "utf8",
        timeout: 600_000,
      });
      if (install.status !== 0) throw new Error(`pstore install on the emulator: ${install.stdout}${install.stderr}`);
    });
    // Both watches powered on as serve.js does (BTN1 read as released), then settled.
    const watches: Emu[] = [];
    for (const file of [bareFile, pstoreFile]) {
      const emu = await createEmu({ flash: new Uint8Array(readFileSync(file)), btn1: 1 });
      await quiet(emu, 500, 30000);
      watches.push(emu);
    }
    try {
      const firmware = String(await watches[0].eval("process.version"));
      const loadMs: number[][] = [[], []];
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, emu] of watches.entries()) {
          const start = performance.now();
          emu.tx("\x10load()\n");
          await emu.eval("1", 60000);
          loadMs[i].push(performance.now() - start);
          await quiet(emu, 300, 10000);
        }
      }
      const usage: number[] = [];
      for (const emu of watches) usage.push(Number(await emu.eval("process.memory().usage")));
      const running = await watches[1].eval('typeof require("pstore").status().boot');
      if (running !== "number") throw new Error(`pstore does not run on the emulated watch: ${JSON.stringify(running)}`);
      const [loadBare, loadPstore] = loadMs.map(median);
      return [
        {
          label: `variables after load(), Bangle.js 2 firmware ${firmware}`,
          unit: "vars",
          bare: usage[0],
          empty: usage[1],
          note: `pstore adds ${usage[1] - usage[0]} variables to the factory watch's ${usage[0]}`,
        },
        { label: "of which pstore", unit: "vars over the watch without it", empty: usage[1] - usage[0], target: { max: 1000, text: "≤ +1,000" } },
        {
          label: "one load() (app switch), wall time",
          unit: "ms (emulator wall time, median)",
          bare: loadBare,
          empty: loadPstore,
          note: `until the REPL answers again; ${ROUNDS} rounds alternating the two watches, each: without ${loadMs[0].map((x) => x.toFixed(0)).join(", ")}; with ${loadMs[1].map((x) => x.toFixed(0)).join(", ")}`,
        },
        { label: "load() with pstore / without", unit: "×", empty: loadPstore / loadBare, target: { max: 2, text: "≤ 2×" } },
      ].map(judged);
    } finally {
      for (const emu of watches) emu.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
