// `npm start`: the whole story on a simulated Puck.js in under a minute. Builds the firmware (with traces and
// retained RAM on), starts the simulator with pstore installed, runs a small app that logs, writes pmsg, traces
// calls, then crashes and hangs into a watchdog reset; then pulls everything with the real `pstore` command over
// TCP into ./pstore-archive and shows what was kept.

import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { getBoard } from "../boards/index";
import { ROOT } from "./build/build";
import { SimServer } from "./cli/sim-server";

const BOARD = "PUCKJS";
const ARCHIVE = resolve("pstore-archive");

/** The application: a sensor loop with traced calls, a message for the log, a crash on the first boot. */
const APP = `
var pstore = require("pstore");
var storage = require("Storage");
if (storage.read("demo-crashed")) {
  console.log("app: back after the reset");
} else {
  storage.write("demo-crashed", "1");
  console.log("app: sensor loop starting");
  pstore.pmsg("app v1.2 started: sampling every 200 ms");
  var readSensor = pstore.trace(function () { return 21 + Math.random(); }, "readSensor");
  var report = pstore.trace(function (t) { console.log("temperature " + t.toFixed(2)); }, "report");
  var tick = pstore.trace(function () { report(readSensor()); }, "tick");
  var readBus = pstore.trace(function () { throw new Error("I2C bus stuck: sensor not answering"); }, "readBus");
  setInterval(tick, 200);
  setTimeout(function () { tick(); readBus(); }, 1100);
}
`;

/** PUCKJS keeps no traces by default: this app gives its pmsg zone the ftrace records too. */
const SETTINGS = {
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 3, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 3, policy: "ring" },
    { name: "pmsg", types: ["pmsg", "ftrace"], pages: 4, policy: "ring" },
  ],
};

function say(text: string): void {
  process.stdout.write(`\n== ${text}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function pstore(args: string[]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "pstore.js"), ...args], { stdio: "inherit" });
    child.on("close", (code) => done(code ?? 1));
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  say(`starting a simulated ${BOARD} with pstore installed (firmware built into dist/demo)`);
  const sim = await SimServer.start({
    board: getBoard(BOARD),
    image: join(mkdtempSync(join(tmpdir(), "pstore-demo-")), `${BOARD}.img`),
    dist: join(ROOT, "dist", "demo"),
    build: { features: { ftrace: true, retained: true } },
    // Built every time: bundles left from older sources would show a demo that no longer is what the code does.
    rebuild: true,
    files: { ".bootcde": APP, "pstore.json": JSON.stringify(SETTINGS) },
    // A new device each run (the seed gives its serial number): its records get a device folder of their own
    // instead of matching, and being skipped as, records an earlier run already archived.
    seed: randomInt(1, 2 ** 31),
    log: (line) => process.stdout.write(`   [sim] ${line}\n`),
  });
  try {
    const url = await sim.listen("127.0.0.1", 0);
    process.stdout.write(`   console on ${url}\n`);

    say("the app runs: it logs, writes a pmsg, traces readSensor/report/tick; at 1.1 s readBus throws");
    const output: string[] = [];
    sim.device.on("output", (bytes) => output.push(Buffer.from(bytes).toString("latin1")));
    await sleep(2000);
    const printed = output.join("").replace(/\r|\x1b\[J|^>/gm, "").split("\n").filter((l) => /app:|temperature|Uncaught/.test(l));
    for (const line of printed.slice(-6)) process.stdout.write(`   device> ${line}\n`);

    say("then it hangs in a busy loop; the watchdog resets the chip");
    const reset = new Promise<void>((done) => sim.device.on("reset", (kind) => kind === "watchdog" && done()));
    process.stdout.write(`   [sim] ${sim.command("~hang 1")}\n`);
    await reset;
    await sleep(1500);

    say(`pstore pull --port ${url} --out ${relative(process.cwd(), ARCHIVE) || "."}`);
    const earlier = new Set(existsSync(ARCHIVE) ? readdirSync(ARCHIVE) : []);
    const code = await pstore(["pull", "--port", url, "--out", ARCHIVE]);
    if (code !== 0) return code;

    say("what the archive holds");
    for (const device of readdirSync(ARCHIVE).filter((name) => !earlier.has(name))) {
      for (const boot of readdirSync(join(ARCHIVE, device))) {
        const folder = join(ARCHIVE, device, boot);
        process.stdout.write(`   ${relative(process.cwd(), folder)}/: ${readdirSync(folder).sort().join("  ")}\n`);
        const trace = readdirSync(folder).find((f) => f.startsWith("ftrace-"));
        if (trace) {
          process.stdout.write(`\n   the last calls before the crash (${trace}):\n`);
          process.stdout.write(readFileSync(join(folder, trace), "utf8").trimEnd().split("\n").slice(-6).map((l) => `     ${l}`).join("\n") + "\n");
        }
      }
    }
    process.stdout.write(`\n   read the whole story of each boot in its dmesg.txt; records.jsonl indexes every record.\n`);
    say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    await sim.close();
  }
}

process.exit(await main());
