// `pstore install --board B --port P`: writes the board's bundles to the device's Storage (the module as
// "pstore", the service module as "pstoresvc", the boot code as a boot file), restarts the interpreter, and confirms pstore runs by reading its
// status. The upload goes through pstore's own port layer (see README.md, "Why install does not call the
// espruino tool"): each file is written in chunks the way the Espruino tools write Storage, then read back and
// compared by CRC-32 on the device before the restart.

import { resolve } from "node:path";
import type { Port } from "../ports/index";
import { crc32 } from "../../hal/sim/crc";
import { BundleError, DEFAULT_DIST, loadBundles } from "./bundles";
import { BOOT_FILE, MODULE_FILE, SERVICE_FILE } from "./sim-server";
import { boardOption, requiredString, type Command } from "./command";
import { deviceIdOf, openPortOption, PORT_HELP, PORT_OPTIONS, withDevice } from "./device";
import { DataError, DeviceError, ExitCode } from "./errors";
import { ProgressBar } from "./progress";
import { resetLine } from "./status";
import { printable } from "./summary";

/** Bytes per Storage write line: 512 bytes are 684 base64 characters, well inside Espruino's line buffer. */
const CHUNK = 512;
/** Boards whose boot code the Bangle.js bootloader collects from `*.boot.js` files into `.boot0`. */
const BANGLE_BOARDS = ["BANGLEJS", "BANGLEJS2"];

export const installCommand: Command = {
  name: "install",
  summary: "write the module, service module and boot code to Storage; confirm pstore runs",
  help: `Usage: pstore install --board B --port PORT [--dist DIR] [--build]

Writes dist/<B>/pstore.js to the device's Storage as the module "pstore", dist/<B>/pstore.svc.js as
the service module "pstoresvc" (the host's requests and the read side), and dist/<B>/pstore.boot.js
as boot code (".boot1", which runs at every boot before your program; on Bangle.js "pstore.boot.js",
which the bootloader folds into .boot0), checks each file on the device by CRC-32, restarts the
interpreter with load(), and reads \`pstore status\` to confirm pstore runs. Builds the bundles first
when they are missing (or with --build). Your own program (.bootcde) is left alone.

Options:
  -b, --board B       board to install for (PUCKJS, PIXLJS, MDBT42Q, BANGLEJS2, JOLTJS, PICO, ...)
${PORT_HELP}
      --dist DIR      folder with the built bundles (default: this package's dist/)
      --build         rebuild the bundles even when they exist
  -h, --help          this text

Exit codes: 0 installed and answering; 2 bad command line or unknown board; 3 port or device error,
or pstore did not answer after the restart; 5 the build failed the compatibility gate; 130 Ctrl-C.
`,
  options: { ...PORT_OPTIONS, board: { type: "string", short: "b" }, dist: { type: "string" }, build: { type: "boolean" } },
  positionals: [],
  async run({ values }, io) {
    const boardName = boardOption(requiredString(values, "board")).name;
    const dist = typeof values.dist === "string" ? resolve(values.dist) : DEFAULT_DIST;
    const files = await loadBundles({ board: boardName, dist, rebuild: values.build === true, log: (line) => io.stdout.write(line + "\n") }).catch(
      (error: Error) => {
        throw error instanceof BundleError ? new DataError(error.message) : error;
      },
    );
    const bangle = BANGLE_BOARDS.includes(boardName);
    const uploads: Array<[string, Uint8Array]> = [
      [MODULE_FILE, files.module],
      [SERVICE_FILE, files.svc],
      [bangle ? "pstore.boot.js" : BOOT_FILE, files.boot],
    ];

    const { port, timeoutMs } = await openPortOption(values);
    const line = new ReplLine(port, timeoutMs);
    const bar = new ProgressBar(io.stderr);
    try {
      line.send("\x03\n");
      await line.quiet(300);
      for (const [name, data] of uploads) {
        await line.writeStorageFile(name, data, (done) => bar.update(name, done, data.length));
        bar.clear();
        io.stdout.write(`wrote ${name} (${data.length} bytes, CRC checked on the device)\n`);
      }
      // Bangle.js rebuilds .boot0 from every *.boot.js when it is missing.
      line.send(`\x10${bangle ? 'require("Storage").erase(".boot0");' : ""}load()\n`);
      await line.quiet(1500);
    } finally {
      bar.clear();
      line.detach();
      await port.close();
    }
    const status = await withDevice(values, io, ({ client }) => client.status()).catch((error: Error) => {
      throw new DeviceError(`the files are on the device, but pstore did not answer after the restart: ${error.message}`);
    });
    io.stdout.write(`pstore runs on ${printable(deviceIdOf(status))}: boot ${printable(String(status.boot))}, last reset ${printable(resetLine(status))}\n`);
    return ExitCode.Ok;
  },
};

/** Just enough of a REPL conversation for uploading: echo-off lines and a marker printed back. */
class ReplLine {
  private output = "";
  private waiters: Array<() => void> = [];
  private readonly onData = (chunk: Uint8Array) => {
    this.output = (this.output + Buffer.from(chunk).toString("latin1")).slice(-4096);
    for (const wake of this.waiters.splice(0)) wake();
  };

  constructor(
    private readonly port: Port,
    private readonly timeoutMs: number,
  ) {
    port.on("data", this.onData);
  }

  detach(): void {
    this.port.off("data", this.onData);
  }

  send(text: string): void {
    if (!this.port.isOpen) throw new DeviceError(`${this.port.description} closed during the upload`);
    this.port.write(text);
  }

  /** Writes `data` as Storage file `name` in chunks, then has the device print its CRC-32 and compares. */
  async writeStorageFile(name: string, data: Uint8Array, progress: (done: number) => void): Promise<void> {
    const file = JSON.stringify(name);
    for (let at = 0; at < data.length; at += CHUNK) {
      const chunk = Buffer.from(data.subarray(at, at + CHUNK)).toString("base64");
      const size = at === 0 ? `,${data.length}` : "";
      await this.ask(`require("Storage").write(${file},atob("${chunk}"),${at}${size})`, `w${at}`);
      progress(Math.min(data.length, at + CHUNK));
    }
    const answer = await this.ask(`E.CRC32(require("Storage").read(${file}))`, "crc");
    const expected = crc32(data);
    if (Number(answer) >>> 0 !== expected) {
      throw new DeviceError(`Storage file ${name} reads back with CRC ${answer} on the device, expected ${expected}: the upload was damaged`);
    }
  }

  /** Runs `expr` with echo off and returns what it printed between the markers `[PSI tag ` and `]`. */
  private async ask(expr: string, tag: string): Promise<string> {
    const marker = `[PSI ${tag} `;
    this.output = "";
    this.send(`\x10print("${marker}"+(${expr})+"]")\n`);
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const at = this.output.indexOf(marker);
      const end = at >= 0 ? this.output.indexOf("]", at) : -1;
      if (end > at && at >= 0) return this.output.slice(at + marker.length, end);
      const failure = /Uncaught [^\r\n]*/.exec(this.output);
      if (failure) throw new DeviceError(`writing to Storage failed on the device: ${failure[0]}`);
      if (!(await this.wait(deadline - Date.now()))) {
        throw new DeviceError(`no answer from ${this.port.description} within ${this.timeoutMs} ms while uploading (${tag})`);
      }
    }
  }

  /** Resolves true on new data, false at the timeout or when the port closed. */
  private wait(ms: number): Promise<boolean> {
    if (ms <= 0 || !this.port.isOpen) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Waits until the line has been silent for `ms` (a chattering device gets ten times that at most). */
  async quiet(ms: number): Promise<void> {
    const deadline = Date.now() + 10 * ms;
    while (Date.now() < deadline && (await this.wait(ms)));
  }
}
