// A simulated board with pstore installed, served on TCP like Espruino's telnet console: the REPL of
// tools/sim/espruino (helper E) running the real bundles, real time pumped from the wall clock, the flash and
// retained RAM kept in an image file across runs. Lines typed on the console that start with "~" are not sent
// to the device but drive faults (SIM_COMMANDS); `pstore sim` and the demo both use this.

import { createServer, type Server, type Socket } from "node:net";
import { basename, dirname, resolve } from "node:path";
import type { BoardDefinition } from "../../boards/types";
import { DurableWriter } from "../archive/durable";
import { loadBundles, type BundleRequest } from "./bundles";
import { SimDevice } from "../sim/espruino/device";
import { BOOT_FILE, MODULE_FILE, SERVICE_FILE } from "../build/installed-files";

export { BOOT_FILE, MODULE_FILE, SERVICE_FILE };

export const SIM_COMMANDS: Record<string, string> = {
  "~crash [TEXT]": "throw an uncaught Error from a timer",
  "~hang [S]": "hang the interpreter (while(1){}); the watchdog (S seconds, default 2) resets the chip",
  "~watchdog": "watchdog reset now",
  "~fault": "hard fault (lock-up)",
  "~oom": "run out of memory",
  "~power": "lose power, then power on again",
  "~reset": "soft reset (reset())",
  "~help": "this list",
};

export interface SimServerOptions {
  board: BoardDefinition;
  /** Image file to load at start (when it exists) and to keep up to date. */
  image?: string;
  /** Folder of built bundles (dist/<BOARD>/pstore.js, pstore.svc.js, pstore.boot.js); built when missing. */
  dist: string;
  build?: BundleRequest["build"];
  /** Build into `dist` even when bundles are there. */
  rebuild?: boolean;
  /** Storage files to write before the first boot (an application's .bootcde, pstore.json). */
  files?: Record<string, string>;
  seed?: number;
  /** Things the simulator reports (resets, fault commands, image saves). */
  log: (line: string) => void;
}

export class SimServer {
  readonly device: SimDevice;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private saveTimer: NodeJS.Timeout | undefined;
  private savedOps = -1;
  private readonly writer = new DurableWriter();

  private constructor(
    private readonly options: SimServerOptions,
    device: SimDevice,
  ) {
    this.device = device;
    device.on("output", (bytes) => {
      for (const socket of this.sockets) socket.write(bytes);
    });
    device.on("reset", (kind) => options.log(`${options.board.name}: ${kind} restart`));
    device.on("poweroff", () => options.log(`${options.board.name}: power lost`));
  }

  /** Builds the bundles if needed, loads or creates the image, installs pstore (and `files`), boots. */
  static async start(options: SimServerOptions): Promise<SimServer> {
    const bundles = await loadBundles({ board: options.board.name, dist: options.dist, build: options.build, rebuild: options.rebuild, log: options.log });
    const image = options.image ? resolve(options.image) : undefined;
    const device = new SimDevice({ board: options.board, imageFile: image, seed: options.seed });
    const wanted: Record<string, Uint8Array> = {
      [MODULE_FILE]: bundles.module,
      [SERVICE_FILE]: bundles.svc,
      [BOOT_FILE]: bundles.boot,
    };
    for (const [file, text] of Object.entries(options.files ?? {})) wanted[file] = Buffer.from(text, "latin1");
    let changed = false;
    for (const [file, bytes] of Object.entries(wanted)) {
      const present = device.storage.read(file);
      if (!present || Buffer.compare(Buffer.from(present), Buffer.from(bytes)) !== 0) {
        device.writeFile(file, bytes);
        changed = true;
      }
    }
    // The first boot ran before pstore was on Storage: restart so the boot code runs, as after `pstore install`.
    if (changed) device.reboot();
    const sim = new SimServer(options, device);
    device.startRealTime();
    if (image) sim.saveTimer = setInterval(() => sim.saveIfChanged(), 1000);
    return sim;
  }

  /** Listens on host:port (port 0 picks one); returns the tcp:// address. */
  listen(host: string, port: number): Promise<string> {
    const server = createServer((socket) => this.attach(socket));
    this.server = server;
    return new Promise((done, fail) => {
      server.once("error", fail);
      server.listen(port, host, () => {
        const address = server.address() as { address: string; port: number };
        done(`tcp://${host}:${address.port}`);
      });
    });
  }

  /** Runs a `~` command (see SIM_COMMANDS); returns what to tell the user. */
  command(line: string): string {
    const [word, ...rest] = line.trim().split(/\s+/);
    const device = this.device;
    switch (word) {
      case "~crash": {
        const text = JSON.stringify(rest.join(" ") || "simulated crash");
        device.write(`\x10setTimeout(function(){throw new Error(${text});},1)\n`);
        return `crashing: uncaught Error ${text}`;
      }
      case "~hang": {
        const seconds = Number(rest[0]) > 0 ? Number(rest[0]) : 2;
        device.enableWatchdog(seconds, true);
        device.hang();
        return `hung; the watchdog resets the chip in ${seconds} s`;
      }
      case "~watchdog":
        device.watchdogReset();
        return "watchdog reset";
      case "~fault":
        device.hardFault();
        return "hard fault";
      case "~oom":
        device.simulateOutOfMemory();
        return "out of memory";
      case "~power":
        device.powerLoss();
        return "power cut and restored";
      case "~reset":
        device.softReset();
        return "soft reset";
      default:
        return `${word === "~help" ? "" : `unknown command ${JSON.stringify(word)}; `}simulator commands:\n${Object.entries(SIM_COMMANDS)
          .map(([c, what]) => `  ${c.padEnd(14)} ${what}`)
          .join("\n")}`;
    }
  }

  async close(): Promise<void> {
    clearInterval(this.saveTimer);
    this.device.stopRealTime();
    for (const socket of this.sockets) socket.destroy();
    if (this.server) await new Promise((done) => this.server!.close(done));
    this.saveIfChanged();
  }

  /** Writes the image (atomically) when flash was programmed or erased since the last save. */
  saveIfChanged(): void {
    const image = this.options.image;
    if (!image) return;
    const c = this.device.flash.counters();
    const ops = c.programOps + c.eraseOps;
    if (ops === this.savedOps) return;
    this.savedOps = ops;
    const path = resolve(image);
    this.writer.writeFile(dirname(path), basename(path), this.device.flash.toImage(this.device.retained?.snapshot()));
  }

  private attach(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    let atLineStart = true;
    let command: string | undefined;
    socket.on("data", (bytes: Buffer) => {
      let forward = "";
      for (const c of bytes.toString("latin1")) {
        if (command !== undefined) {
          if (c === "\n" || c === "\r") {
            socket.write(`\r\n${this.command(command).replace(/\n/g, "\r\n")}\r\n`);
            this.options.log(`console: ${command.trim()}`);
            command = undefined;
            atLineStart = true;
          } else command += c;
          continue;
        }
        if (atLineStart && c === "~") {
          command = "~";
          continue;
        }
        forward += c;
        atLineStart = c === "\n" || c === "\r";
      }
      if (forward) this.device.write(forward);
    });
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => this.sockets.delete(socket));
    this.device.connect();
  }
}
