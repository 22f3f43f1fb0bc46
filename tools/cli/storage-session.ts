// The REPL conversation `pstore install` and `uninstall` hold with a device to change pstore's Storage files: stop
// the running pstore first, write files in chunks and check them by CRC-32 on the device, erase files, restart.
// The upload goes through pstore's own port layer (README.md, "Why install does not call the espruino tool"),
// each file written the way the App Loader writes Storage (EspruinoAppLoaderCore js/appinfo.js).
//
// Why stopping comes first: functions loaded from Storage point into their file, so writing the file the running
// module lives in leaves it without code. The boot file is taken away, then reset() (as the App Loader sends
// before an upload) ends the run: pstore's `kill` hook writes its records and hands the console back, and no
// boot code starts pstore again. On Bangle.js the boot code lives in `.boot0`, which the bootloader rebuilds only
// at the next boot, so reset() starts pstore once more: there the App Loader's own clean-up follows (no timers, no
// listeners on E), and what is left, the console capture, ends itself once the module's file is gone
// (firmware/console-capture.ts). The next load() then rebuilds `.boot0` from the `*.boot.js` files, whose hash changed.

import type { Port } from "../ports/index";
import { crc32 } from "../../hal/sim/crc";
import { CLEAR_LINE } from "../protocol/client";
import { BANGLE_BOOT_FILE, BOOT_FILE, OLD_BANGLE_BOOT_FILES, isBangle } from "../build/installed-files";
import type { CliIo, OptionValues } from "./command";
import { openPortOption } from "./device";
import { DeviceError } from "./errors";
import { ProgressBar } from "./progress";

/** Bytes per Storage write line: 512 bytes are 684 base64 characters, well inside Espruino's line buffer. */
const CHUNK = 512;
/** What the App Loader sends after its reset() to clear out boot code (EspruinoAppLoaderCore js/comms.js, reset). */
const APP_LOADER_CLEAN_UP =
  "clearInterval();clearWatch();global.Bangle&&Bangle.removeAllListeners();E.removeAllListeners();global.NRF&&NRF.removeAllListeners();";
/** How long a restart may take before the REPL answers again. */
const RESTART_MS = 60000;
/** Rebuilds `.boot0` the way the boot app does, where there is none (an earlier install erased it). */
const REBUILD_MISSING_BOOT0 = 'if(!require("Storage").read(".boot0")&&require("Storage").read("bootupdate.js"))eval(require("Storage").read("bootupdate.js"));';

/** Opens --port for a Storage session, runs `use`, and closes the line whatever happens. */
export async function withStorageSession<T>(values: OptionValues, io: CliIo, use: (session: StorageSession) => Promise<T>): Promise<T> {
  const { port, timeoutMs } = await openPortOption(values);
  const session = new StorageSession(port, timeoutMs, io);
  try {
    return await use(session);
  } finally {
    session.close();
    await port.close();
  }
}

export class StorageSession {
  private output = "";
  private waiters: Array<() => void> = [];
  private readonly bar: ProgressBar;
  private readonly onData = (chunk: Uint8Array) => {
    this.output = (this.output + Buffer.from(chunk).toString("latin1")).slice(-4096);
    for (const wake of this.waiters.splice(0)) wake();
  };

  constructor(
    private readonly port: Port,
    private readonly timeoutMs: number,
    private readonly io: CliIo,
  ) {
    this.bar = new ProgressBar(io.stderr);
    port.on("data", this.onData);
  }

  close(): void {
    this.bar.clear();
    this.port.off("data", this.onData);
  }

  /**
   * Ends the running pstore so that its files can be written or erased (see the top of this file): takes the boot
   * files away (the board's, and on Bangle.js the one an earlier install wrote), resets, and on Bangle.js clears
   * out what the boot code started again.
   */
  async stopPstore(boardName: string): Promise<void> {
    // Not Ctrl-C: a second one soon after another makes the Linux build exit (tools/protocol/client.ts).
    this.send(CLEAR_LINE);
    await this.quiet(300);
    const bootFiles = isBangle(boardName) ? [BANGLE_BOOT_FILE, ...OLD_BANGLE_BOOT_FILES] : [BOOT_FILE];
    for (const name of bootFiles) await this.eraseFile(name);
    this.send("\x10reset();\n");
    await this.quiet(1000);
    if (isBangle(boardName)) {
      this.send(`\x10${APP_LOADER_CLEAN_UP}\n`);
      await this.quiet(300);
    }
  }

  /**
   * Restarts the interpreter with load() (on Bangle.js rebuilding a missing `.boot0` first) and waits until the REPL
   * answers again: a Bangle.js that rebuilds `.boot0`, the widget and clock-info caches (and compacts Storage to make
   * room) takes seconds to tens of seconds.
   */
  async restart(boardName: string): Promise<void> {
    this.send(`\x10${isBangle(boardName) ? REBUILD_MISSING_BOOT0 : ""}load();\n`);
    await this.quiet(500);
    await this.ask("1", "up", RESTART_MS);
  }

  /** Writes `data` as Storage file `name` in chunks, then has the device print its CRC-32 and compares. */
  async writeFile(name: string, data: Uint8Array): Promise<void> {
    const file = JSON.stringify(name);
    for (let at = 0; at < data.length; at += CHUNK) {
      const chunk = Buffer.from(data.subarray(at, at + CHUNK)).toString("base64");
      const size = at === 0 ? `,${data.length}` : "";
      await this.ask(`require("Storage").write(${file},atob("${chunk}"),${at}${size})`, `w${at}`);
      this.bar.update(name, Math.min(data.length, at + CHUNK), data.length);
    }
    this.bar.clear();
    const answer = await this.ask(`E.CRC32(require("Storage").read(${file}))`, "crc");
    const expected = crc32(data);
    if (Number(answer) >>> 0 !== expected) {
      throw new DeviceError(`Storage file ${name} reads back with CRC ${answer} on the device, expected ${expected}: the upload was damaged`);
    }
    this.io.stdout.write(`wrote ${name} (${data.length} bytes, CRC checked on the device)\n`);
  }

  /** Erases Storage file `name`; returns whether it was there. */
  async eraseFile(name: string): Promise<boolean> {
    const file = JSON.stringify(name);
    const answer = await this.ask(`(function(s){var t=s.read(${file})!==undefined;s.erase(${file});return t})(require("Storage"))`, "erase");
    return answer === "true";
  }

  /** The names of the Storage files matching `pattern` (a JavaScript regular expression literal). */
  async list(pattern: string): Promise<string[]> {
    // Joined by newlines: Storage names hold neither those nor the "]" that ends the answer.
    const names = await this.ask(`require("Storage").list(${pattern}).join("\\n")`, "list");
    // The console may turn each newline into CR LF.
    return names ? names.split(/\r?\n/) : [];
  }

  private send(text: string): void {
    if (!this.port.isOpen) throw new DeviceError(`${this.port.description} closed during the upload`);
    this.port.write(text);
  }

  /** Runs `expr` with echo off and returns what it printed between the markers `[PSI tag ` and `]`. */
  private async ask(expr: string, tag: string, timeoutMs = this.timeoutMs): Promise<string> {
    const marker = `[PSI ${tag} `;
    this.output = "";
    this.send(`\x10print("${marker}"+(${expr})+"]")\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.output.indexOf(marker);
      const end = at >= 0 ? this.output.indexOf("]", at) : -1;
      if (end > at && at >= 0) return this.output.slice(at + marker.length, end);
      const failure = /Uncaught [^\r\n]*/.exec(this.output);
      if (failure) throw new DeviceError(`changing Storage failed on the device: ${failure[0]}`);
      if (!(await this.wait(deadline - Date.now()))) {
        throw new DeviceError(`no answer from ${this.port.description} within ${timeoutMs} ms (${tag})`);
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
  private async quiet(ms: number): Promise<void> {
    const deadline = Date.now() + 10 * ms;
    while (Date.now() < deadline && (await this.wait(ms)));
  }
}
