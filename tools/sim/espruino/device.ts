// A simulated Espruino board that runs firmware bundles unchanged: a cut-down JS realm (realm.ts), the interpreter's
// idle loop (IO events, timers, event queue, error checks, prompt), the REPL (repl.ts), built-ins over simulated
// flash, Storage and retained RAM (builtins.ts), and the chip's reset kinds (ESPRUINO.md §5, §6).
// Time is virtual: nothing happens until `advance(ms)` / `runUntilIdle()`, or `startRealTime()` for an interactive
// simulator. The device knows nothing about pstore: a bundle is installed by writing Storage files.

import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import vm from "node:vm";
import * as acorn from "acorn";
import type { BoardDefinition } from "../../../boards/types";
import { SimClock } from "../../../hal/sim/clock";
import { crc32 } from "../../../hal/sim/crc";
import { PowerLoss, SimFlash } from "../../../hal/sim/flash";
import { SimResetReason, type ResetCause } from "../../../hal/sim/reset";
import { SimRetained } from "../../../hal/sim/retained";
import { EspruinoStorage } from "../../../hal/sim/storage";
import { installBuiltins, type DeviceInternals } from "./builtins";
import { toBytes } from "./bytes";
import { Emitters } from "./emitters";
import { formatValue } from "./format";
import { installPromise } from "./promise";
import { createRealm, NATIVE_FILE, type Realm } from "./realm";
import { Repl, type ReplHost } from "./repl";
import { espruinoFrame, espruinoMessage, formatStack, type SourceFile } from "./stack";
import { rewriteForEspruino } from "./rewrite";
import { TimerQueue } from "./timers";

/** How the chip came to (re)start its JavaScript. */
export type ResetKind = "power-on" | "reset" | "load" | "reboot" | "watchdog" | "hardfault";

export interface SimDeviceOptions {
  board: BoardDefinition;
  /** Flash to use (e.g. shared with a test); otherwise loaded from `imageFile` when it exists, else erased. */
  flash?: SimFlash;
  /** Image file holding flash (and retained RAM) from an earlier run; `saveImage()` writes it back. */
  imageFile?: string;
  retained?: SimRetained;
  /** Seeds power-on garbage in retained RAM and the fake serial number. */
  seed?: number;
  /** Name of the console device the host talks to (default per board: Telnet, USB, Bluetooth, Serial1). */
  consoleDevice?: string;
  /** process.env.VERSION and the ENQ answer; the transcript's firmware by default. */
  version?: string;
  serial?: string;
  /** Print the Espruino logo at boot (off by default to keep test output short). */
  banner?: boolean;
  /** JS variables reported as used by process.memory(). */
  memoryUsage?: number;
}

const DEFAULT_VERSION = "2v29.277";

/** The global the checks in code from Storage call (rewrite.ts). */
const CODE_CHECK = "__storageCodeAlive";
/** The global every catch clause hands its exception to (rewrite.ts). */
const CAUGHT = "__espruinoError";

/**
 * Characters of Loopback output one run of JavaScript can queue before the idle loop drains them: a print of 1,000
 * or more characters into a captured console delivers 986 of them, then the prompt (test/conformance/recordings,
 * console-capture-burst, error-flag-event).
 */
const LOOPBACK_FIFO_CHARS = 986;

/** Unwinds the device's JavaScript back to the simulator (E.reboot, a power cut, an interrupt). */
class Unwind {
  constructor(readonly reason: "reboot" | "power" | "interrupt") {}
}

function defaultConsole(board: BoardDefinition): string {
  if (board.name === "LINUX") return "Telnet";
  if (board.name === "ESP32") return "Serial1";
  if (/nRF52/i.test(board.chip) && board.name !== "JOLTJS") return "Bluetooth";
  return "USB";
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

const BANNER =
  "\n ____                 _ \n|  __|___ ___ ___ _ _|_|___ ___ \n|  __|_ -| . |  _| | | |   | . |\n" +
  "|____|___|  _|_| |___|_|_|_|___|\n         |_| espruino.com\n";

/** What the firmware adds to its banner on a board that is not an official Espruino one (the Linux build). */
const UNOFFICIAL_BOARD = "\nEspruino is Open Source. Our work is supported\nonly by sales of official boards and donations:\nhttp://espruino.com/Donate\n";

export class SimDevice extends EventEmitter implements DeviceInternals {
  readonly board: BoardDefinition;
  readonly flash: SimFlash;
  readonly retained?: SimRetained;
  readonly resetReason: SimResetReason;
  readonly clock = new SimClock();
  readonly storage: EspruinoStorage;
  readonly timers = new TimerQueue();
  readonly version: string;
  readonly serial: string;
  readonly stackEndAddress: number;
  readonly primaryConsole: string;
  readonly devices = new Map<string, object>();
  readonly errorFlags = new Set<string>();
  memoryUsage: number;
  wallClock?: { seconds: number; atMs: number };
  realm!: Realm;
  repl: Repl;
  emitters = new Emitters();
  /** Kind of the last (re)start and how many boots there were. */
  lastReset: ResetKind = "power-on";
  boots = 0;

  private readonly imageFile?: string;
  private readonly banner: boolean;
  private seed: number;
  private virtualNow = 0;
  private io: Array<{ device: string; text: string }> = [];
  private events: Array<() => void> = [];
  private sources = new Map<string, SourceFile>();
  private replLines = 0;
  private watchdog?: { timeoutMs: number; auto: boolean; lastKick: number };
  private hung: "loop" | "fault" | undefined;
  private poweredOff = false;
  private pendingReset?: { kind: "reset" | "load"; file?: string };
  private rebootRequested = false;
  private interruptedFlag = false;
  private reportedFlags = new Set<string>();
  /** Loopback characters queued since the idle loop last drained (LOOPBACK_FIFO_CHARS). */
  private loopbackQueued = 0;
  private realTime?: { timer: NodeJS.Timeout; last: number };

  constructor(options: SimDeviceOptions) {
    super();
    const board = options.board;
    this.board = board;
    this.seed = options.seed ?? 1;
    this.imageFile = options.imageFile;
    let retainedBytes: Uint8Array | undefined;
    if (options.flash) {
      this.flash = options.flash;
    } else if (options.imageFile && existsSync(options.imageFile)) {
      const loaded = SimFlash.loadImage(options.imageFile, board);
      this.flash = loaded.flash;
      retainedBytes = loaded.retained;
    } else {
      this.flash = new SimFlash(board, { seed: this.seed });
    }
    if (options.retained) this.retained = options.retained;
    else if (board.retained) {
      const initial = retainedBytes && retainedBytes.length === board.retained.size ? retainedBytes : undefined;
      this.retained = new SimRetained(board, { seed: this.seed, initial });
    }
    this.resetReason = new SimResetReason(board.resetReason.kind);
    this.version = options.version ?? DEFAULT_VERSION;
    this.serial = options.serial ?? `${hex8(crc32(Buffer.from(board.name)))}-${hex8(crc32(Buffer.from("serial" + this.seed)))}`;
    this.stackEndAddress = /52840/.test(board.chip) ? 0x2003c000 : 0x2000c000;
    this.memoryUsage = options.memoryUsage ?? Math.round(board.jsVars / 10);
    this.banner = options.banner ?? false;
    this.primaryConsole = options.consoleDevice ?? defaultConsole(board);
    this.storage = new EspruinoStorage(this.flash, { say: (text) => this.repl.printString(text) });
    this.repl = new Repl(this.replHost(), this.primaryConsole);
    this.resetReason.cause("power-on");
    this.drive(() => this.boot("power-on"));
  }

  // ---- host side: I/O ----

  /** Bytes from the host into the console device (a string is taken as latin1). */
  write(data: Uint8Array | string): void {
    const text = typeof data === "string" ? data : Buffer.from(data).toString("latin1");
    if (this.poweredOff || text.length === 0) return;
    this.receive(this.primaryConsole, text);
    this.drive(() => this.runIdle());
  }

  /** A terminal connects: it takes the console back unless a capture forced it elsewhere, then sees a prompt. */
  connect(): void {
    if (this.poweredOff) return;
    this.drive(() => {
      if (this.repl.consoleDevice !== this.primaryConsole && !this.repl.consoleForced) this.repl.setConsole(this.primaryConsole, false);
      if (this.repl.consoleDevice === this.primaryConsole) this.repl.reprompt();
    });
  }

  /** Bytes sent to the host on the console device. */
  override on(event: "output", listener: (bytes: Uint8Array) => void): this;
  /** Bytes any device (Serial1, ...) transmitted. */
  override on(event: "transmit", listener: (device: string, bytes: Uint8Array) => void): this;
  override on(event: "reset", listener: (kind: ResetKind) => void): this;
  override on(event: "poweroff", listener: () => void): this;
  override on(event: string, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  // ---- host side: time ----

  /** Virtual milliseconds since the simulation started. */
  now(): number {
    return this.virtualNow;
  }

  /** Moves virtual time on by `ms`, running timers (and the watchdog) at their due times. */
  advance(ms: number): void {
    const target = this.virtualNow + Math.max(0, ms);
    this.drive(() => this.runIdle());
    for (;;) {
      if (this.poweredOff) break;
      const next = this.nextDeadline();
      if (next === undefined || next > target) break;
      this.moveTo(next);
      if (this.watchdogExpired()) {
        this.watchdogReset();
        continue;
      }
      this.drive(() => this.runIdle());
    }
    this.moveTo(target);
    this.drive(() => this.runIdle());
  }

  /** Runs until no timer is left (or `limitMs` of virtual time passed, for intervals). */
  runUntilIdle(limitMs = 60_000): void {
    const end = this.virtualNow + limitMs;
    for (;;) {
      const next = this.nextDeadline();
      if (next === undefined || next > end || this.poweredOff) break;
      this.advance(next - this.virtualNow);
    }
    this.drive(() => this.runIdle());
  }

  /** Pumps virtual time from the wall clock (for the interactive simulator). */
  startRealTime(tickMs = 10): void {
    if (this.realTime) return;
    const state = { last: Date.now(), timer: setInterval(() => {
      const t = Date.now();
      this.advance(t - state.last);
      state.last = t;
    }, tickMs) };
    this.realTime = state;
  }

  stopRealTime(): void {
    if (this.realTime) clearInterval(this.realTime.timer);
    this.realTime = undefined;
  }

  // ---- host side: faults and resets ----

  /** `reset()`: kill handlers run, JS state is cleared, retained RAM and flash survive, boot code runs again. */
  softReset(): void {
    this.drive(() => this.doSoftReset("reset"));
  }

  /** `E.reboot()`: kill handlers run, then a chip reset (reset register: software reset). */
  reboot(): void {
    this.drive(() => {
      this.runKill();
      this.hardwareReset("reboot", "soft");
    });
  }

  /** The watchdog fires: no JavaScript runs, no kill handlers; retained RAM survives. */
  watchdogReset(): void {
    this.drive(() => this.hardwareReset("watchdog", "watchdog"));
  }

  /**
   * A hard fault: no JavaScript runs again. nRF52 resets at once (LOCKUP); elsewhere the chip hangs until the
   * watchdog resets it (or forever without one).
   */
  hardFault(): void {
    if (this.board.resetReason.kind === "nrf52" || this.board.resetReason.kind === "none") {
      this.drive(() => this.hardwareReset("hardfault", "lockup"));
      return;
    }
    this.hung = "fault";
    if (this.watchdog) this.watchdog.auto = false;
  }

  /** The interpreter is stuck in `while(1){}`: nothing runs; Ctrl-C interrupts it; a watchdog resets the chip. */
  hang(): void {
    this.hung = "loop";
  }

  /** Power goes away: nothing runs, no hooks, the flash refuses every operation until `powerOn()`. */
  powerOff(): void {
    this.poweredOff = true;
    this.hung = undefined;
    this.flash.cutPowerAfter(0);
    this.stopRealTime();
    this.emit("poweroff");
  }

  /** Power comes back: retained RAM is garbage, the register reads power-on, flash holds what it held. */
  powerOn(seed?: number): void {
    this.poweredOff = false;
    this.flash.powerOn();
    this.seed = seed ?? this.seed + 1;
    this.retained?.powerLoss(this.seed);
    this.resetReason.cause("power-on");
    this.clock.reboot(false);
    this.wallClock = undefined;
    this.drive(() => this.boot("power-on"));
  }

  /** A total power loss and restore. */
  powerLoss(seed?: number): void {
    this.powerOff();
    this.powerOn(seed);
  }

  get powered(): boolean {
    return !this.poweredOff;
  }

  /** The firmware runs out of JS variables: "OUT OF MEMORY", execution interrupted, MEMORY flag (errorFlag at idle). */
  simulateOutOfMemory(): void {
    if (!this.errorFlags.has("MEMORY")) this.repl.printString("OUT OF MEMORY");
    this.errorFlags.add("MEMORY");
    this.interruptedFlag = true;
    this.drive(() => this.runIdle());
  }

  /** Sets an interpreter error flag (FIFO_FULL, BUFFER_FULL, CALLBACK, LOW_MEMORY, MEMORY, MEMORY_BUSY, UART_OVERFLOW). */
  raiseErrorFlag(name: string): void {
    this.errorFlags.add(name);
    this.drive(() => this.runIdle());
  }

  /** Writes a Storage file from the host (installing a bundle: `pstore`, `.boot0`, ...). */
  writeFile(name: string, content: string | Uint8Array): void {
    this.storage.write(name, toBytes(content));
  }

  /** Saves flash and retained RAM to the image file given at construction (or `path`). */
  saveImage(path = this.imageFile): void {
    if (!path) throw new Error(`${this.board.name}: saveImage needs a path (no imageFile option was given)`);
    this.flash.saveImage(path, this.retained?.snapshot());
  }

  /**
   * Evaluates code in the device as a REPL line would, without the console and without running the idle loop
   * afterwards. `error` holds what the code threw (a PowerLoss when the power was cut meanwhile).
   */
  evaluate(code: string): { value?: unknown; error?: { thrown: unknown } } {
    let outcome: { value?: unknown; error?: { thrown: unknown } } = { error: { thrown: new PowerLoss(`${this.board.name}: device is off`) } };
    if (this.poweredOff) return outcome;
    this.drive(() => {
      outcome = this.evaluateLine(code);
    });
    return outcome;
  }

  /** ReplHost: one complete input line. */
  private evaluateLine(code: string): { value?: unknown; error?: { thrown: unknown } } {
    const name = `REPL${++this.replLines}`;
    const rewritten = rewriteForEspruino(code, { functionBody: false, caught: CAUGHT });
    this.sources.set(name, { text: code, functionBody: false, rewritten });
    try {
      const script = new vm.Script(rewritten.code, { filename: name });
      // displayErrors off: Node would prepend its own source excerpt to the error's stack.
      let value = script.runInContext(this.realm.context, { displayErrors: false });
      const last = lastStatement(code);
      if (last && last.type === "FunctionDeclaration" && last.id) value = this.realm.global[last.id.name];
      return { value };
    } catch (e) {
      if (e instanceof Unwind || e instanceof PowerLoss) throw e;
      return { error: { thrown: this.fromHostSyntaxError(e) } };
    }
  }

  // ---- DeviceInternals ----

  invoke(fn: unknown, thisArg: unknown, args: unknown[]): void {
    if (this.poweredOff || typeof fn !== "function") return;
    try {
      fn.apply(thisArg, args);
    } catch (e) {
      if (e instanceof Unwind || e instanceof PowerLoss) throw e;
      this.reportError(e);
    }
  }

  transmit(device: string, text: string): void {
    if (this.poweredOff || text.length === 0) return;
    const bytes = new Uint8Array(Buffer.from(text, "latin1"));
    this.emit("transmit", device, bytes);
    if (device === this.primaryConsole) this.emit("output", bytes);
    else if (device === "LoopbackA") this.receive("LoopbackB", text);
    else if (device === "LoopbackB") this.receive("LoopbackA", text);
  }

  enableWatchdog(seconds: number, auto: boolean): void {
    this.watchdog = { timeoutMs: seconds * 1000, auto, lastKick: this.virtualNow };
  }

  kickWatchdog(): void {
    if (this.watchdog) this.watchdog.lastKick = this.virtualNow;
  }

  requestReset(kind: "reset" | "load", file?: string): void {
    this.pendingReset = { kind, file };
  }

  rebootNow(): never {
    this.runKill();
    this.rebootRequested = true;
    throw new Unwind("reboot");
  }

  evaluateModule(name: string, code: string, fromStorage = false): unknown {
    const filename = `module:${name}`;
    const rewritten = rewriteForEspruino(code, { functionBody: true, check: fromStorage ? this.codeCheck(name) : undefined, caught: CAUGHT });
    this.sources.set(filename, { text: code, functionBody: true, rewritten });
    const fn = vm.compileFunction(rewritten.code, ["exports", "module"], { parsingContext: this.realm.context, filename });
    const exports = this.realm.object();
    const module = this.realm.object();
    module.exports = exports;
    fn.call(undefined, exports, module);
    return module.exports;
  }

  // ---- the REPL's view of the device ----

  private replHost(): ReplHost {
    return {
      transmit: (device, text) => this.transmit(device, text),
      evaluate: (code) => this.evaluateLine(code),
      reportError: (thrown) => this.reportError(thrown),
      formatResult: (value) => this.formatResult(value),
      identity: () => this.identity(),
    };
  }

  private reportError(thrown: unknown): void {
    const error = this.toEspruinoError(thrown);
    const handlers = this.emitters.listeners(this.realm.global.process as object, "uncaughtException");
    if (handlers.length === 0) {
      this.printUncaught(error);
      return;
    }
    for (const handler of handlers) {
      try {
        handler.call(this.realm.global.process, error);
      } catch (e) {
        if (e instanceof Unwind || e instanceof PowerLoss) throw e;
        this.printUncaught(this.toEspruinoError(e));
      }
    }
  }

  private formatResult(value: unknown): string {
    return formatValue(value, (v) => this.deviceNameOf(v));
  }

  private identity(): string {
    return `Espruino ${this.version} ${this.board.name}`;
  }

  // ---- internals ----

  private deviceNameOf(v: object): string | undefined {
    for (const [name, obj] of this.devices) if (obj === v) return name;
    return undefined;
  }

  /**
   * Bytes arriving on `device` (its IO event); Ctrl-C on the console interrupts at once, as the IRQ does. Bytes a
   * Loopback sends wait in the interpreter's input queue until the idle loop takes them: what does not fit is lost
   * and FIFO_FULL is set.
   */
  private receive(device: string, text: string): void {
    if (device === "LoopbackA" || device === "LoopbackB") {
      const room = Math.max(0, LOOPBACK_FIFO_CHARS - this.loopbackQueued);
      this.loopbackQueued += Math.min(text.length, room);
      if (text.length > room) {
        this.errorFlags.add("FIFO_FULL");
        text = text.slice(0, room);
        if (text.length === 0) return;
      }
    }
    if (device === this.repl.consoleDevice && text.includes("\x03")) {
      this.repl.interrupt();
      if (this.hung === "loop") {
        this.hung = undefined;
        this.interruptedFlag = true;
      }
    }
    const last = this.io[this.io.length - 1];
    if (last && last.device === device) last.text += text;
    else this.io.push({ device, text });
  }

  /** Runs host-side work that may execute device JavaScript, handling what unwinds out of it. */
  private drive(work: () => void): void {
    try {
      work();
    } catch (e) {
      if (e instanceof PowerLoss || (e instanceof Unwind && e.reason === "power")) {
        this.powerOff();
      } else if (!(e instanceof Unwind)) {
        throw e;
      }
    }
    if (this.rebootRequested && !this.poweredOff) {
      this.rebootRequested = false;
      this.drive(() => this.hardwareReset("reboot", "soft"));
    }
  }

  private moveTo(t: number): void {
    if (t <= this.virtualNow) return;
    this.clock.advance(t - this.virtualNow);
    this.virtualNow = t;
    if (this.watchdog && this.watchdog.auto && !this.hung) this.watchdog.lastKick = t;
  }

  private nextDeadline(): number | undefined {
    const timer = this.hung ? undefined : this.timers.nextDue();
    let wd: number | undefined;
    if (this.watchdog && (!this.watchdog.auto || this.hung)) wd = this.watchdog.lastKick + this.watchdog.timeoutMs;
    if (timer === undefined) return wd;
    if (wd === undefined) return timer;
    return Math.min(timer, wd);
  }

  private watchdogExpired(): boolean {
    return !!this.watchdog && (!this.watchdog.auto || !!this.hung) && this.virtualNow >= this.watchdog.lastKick + this.watchdog.timeoutMs;
  }

  /** One pass of jsiLoop repeated until nothing is left to do now: IO, due timers, queued events, resets, errors, prompt. */
  private runIdle(): void {
    for (let pass = 0; pass < 100_000; pass++) {
      if (this.poweredOff || this.hung) return;
      let busy = false;
      const io = this.io;
      this.io = [];
      this.loopbackQueued = 0;
      for (const event of io) {
        busy = true;
        this.handleIO(event.device, event.text);
      }
      for (let timer = this.timers.takeDue(this.virtualNow); timer; timer = this.hung ? undefined : this.timers.takeDue(this.virtualNow)) {
        busy = true;
        timer.callback();
      }
      while (this.events.length > 0 && !this.hung) {
        busy = true;
        const job = this.events.shift()!;
        try {
          job();
        } catch (e) {
          if (e instanceof Unwind || e instanceof PowerLoss) throw e;
          this.reportError(e);
        }
      }
      if (this.pendingReset) {
        const request = this.pendingReset;
        this.pendingReset = undefined;
        this.doSoftReset(request.kind, request.file);
        busy = true;
      }
      if (this.watchdog?.auto && !this.hung) this.watchdog.lastKick = this.virtualNow;
      this.checkErrors();
      this.loopbackQueued = 0;
      this.repl.endOfLoop();
      if (!busy && this.io.length === 0 && this.events.length === 0) return;
    }
    throw new Error(`${this.board.name}: the idle loop never settled (an event keeps queueing another)`);
  }

  private handleIO(device: string, text: string): void {
    if (device === this.repl.consoleDevice) {
      this.repl.handleChars(text);
      return;
    }
    const target = this.devices.get(device);
    if (!target) return;
    for (const listener of this.emitters.listeners(target, "data")) this.events.push(() => this.invoke(listener, target, [text]));
  }

  /** The non-exception half of jsiCheckErrors: interrupts and new error flags. */
  private checkErrors(): void {
    if (this.interruptedFlag) {
      this.interruptedFlag = false;
      this.repl.print("Execution Interrupted\n");
    }
    const fresh = [...this.errorFlags].filter((f) => !this.reportedFlags.has(f) && f !== "LOW_MEMORY");
    this.reportedFlags = new Set(this.errorFlags);
    if (fresh.length === 0) return;
    const E = this.realm.global.E as object;
    const flags = this.realm.array(fresh);
    for (const listener of this.emitters.listeners(E, "errorFlag")) this.invoke(listener, E, [flags]);
    this.repl.print(`New interpreter error: ${fresh.join(",")}\n`);
  }

  private toEspruinoError(thrown: unknown): unknown {
    const { intrinsics } = this.realm;
    if (thrown instanceof intrinsics.Error || isRealmError(thrown, intrinsics)) {
      const stack = thrown.stack;
      const espruino = espruinoMessage(thrown.message);
      if (espruino === undefined) return thrown;
      const error = this.realm.error(espruino.message, espruino.kind);
      Object.defineProperty(error, "stack", { value: stack, writable: true, configurable: true, enumerable: false });
      return error;
    }
    if (thrown instanceof Error) return this.realm.error(`${thrown.name}: ${thrown.message}`);
    return thrown;
  }

  private printUncaught(error: unknown): void {
    let text: string;
    try {
      text = String(error);
    } catch {
      text = "[object]";
    }
    this.repl.print(`Uncaught ${text}\n`);
    if (error !== null && typeof error === "object") {
      const stack = (error as { stack?: unknown }).stack;
      if (typeof stack === "string") this.repl.printString(stack);
    }
  }

  /** vm compiles outside the context, so its SyntaxErrors belong to the host realm: re-make them in the device's. */
  private fromHostSyntaxError(e: unknown): unknown {
    const hostSyntax = e instanceof SyntaxError && !isRealmError(e, this.realm.intrinsics);
    return hostSyntax ? this.realm.error((e as Error).message, "SyntaxError") : e;
  }

  private runKill(): void {
    const E = this.realm.global.E as object;
    for (const listener of this.emitters.listeners(E, "kill")) this.invoke(listener, E, []);
  }

  private doSoftReset(kind: "reset" | "load", file?: string): void {
    this.runKill();
    this.boot(kind, file);
  }

  private hardwareReset(kind: ResetKind, cause: ResetCause): void {
    this.hung = undefined;
    this.resetReason.cause(cause);
    if (kind === "watchdog") this.retained?.watchdogReset();
    else this.retained?.softReset();
    // nRF52 keeps its clock in RAM the reset does not clear; elsewhere time restarts from 0.
    const keepTime = this.board.resetReason.kind === "nrf52";
    this.clock.reboot(keepTime);
    if (!keepTime) this.wallClock = undefined;
    this.boot(kind);
  }

  /** Fresh interpreter state, then the boot sequence for this kind of start. */
  private boot(kind: ResetKind, file?: string): void {
    const hardware = kind !== "reset" && kind !== "load";
    this.lastReset = kind;
    this.boots++;
    this.timers.clearAll();
    this.events = [];
    this.sources = new Map();
    this.emitters = new Emitters();
    this.pendingReset = undefined;
    this.hung = undefined;
    if (hardware) {
      this.io = [];
      this.watchdog = undefined;
      this.errorFlags.clear();
      this.reportedFlags.clear();
      this.repl = new Repl(this.replHost(), this.primaryConsole);
    } else {
      this.repl.inputLine = "";
    }
    this.createInterpreter();
    this.emit("reset", kind);
    if (this.board.name.startsWith("BANGLEJS")) this.enableWatchdog(5, true);

    if (hardware) this.storage.checkAtBoot();
    if (this.banner) this.repl.printString(BANNER + ` ${this.version} (c) 2026 G.Williams\n` + (this.board.name === "LINUX" ? UNOFFICIAL_BOARD : ""));
    this.repl.printString("\n");
    this.repl.inputLineRemoved = true;

    const files: string[] = [];
    if (hardware) files.push(".bootPowerOn");
    files.push(".boot0", ".boot1", ".boot2", ".boot3");
    const resetCode = this.storage.read(".bootrst") ? ".bootrst" : undefined;
    if (kind === "reset" || file !== undefined) {
      if (resetCode) files.push(resetCode);
    } else {
      files.push(resetCode ?? ".bootcde");
    }
    for (const name of files) {
      const code = this.storage.read(name);
      if (code) this.runStorageCode(name, code);
    }
    if (file !== undefined) {
      const code = this.storage.read(file);
      if (code) this.runStorageCode(file, code);
    }
    const E = this.realm.global.E as object;
    for (const listener of this.emitters.listeners(E, "init")) this.invoke(listener, E, []);
    const onInit = this.realm.global.onInit;
    if (typeof onInit === "function") {
      this.repl.printString("Running onInit()...\n");
      this.invoke(onInit, undefined, []);
    }
    this.runIdle();
  }

  /** The check that code from the Storage file `name`, as it is now, is still there (rewrite.ts). */
  private codeCheck(name: string): string {
    return `${CODE_CHECK}(${JSON.stringify(name)},${this.storage.removal(name)})`;
  }

  private runStorageCode(name: string, code: Uint8Array): void {
    const text = Buffer.from(code).toString("latin1");
    const filename = `storage:${name}`;
    const rewritten = rewriteForEspruino(text, { functionBody: false, check: this.codeCheck(name), caught: CAUGHT });
    this.sources.set(filename, { text, functionBody: false, rewritten });
    try {
      new vm.Script(rewritten.code, { filename }).runInContext(this.realm.context, { displayErrors: false });
    } catch (e) {
      if (e instanceof Unwind || e instanceof PowerLoss) throw e;
      this.reportError(this.fromHostSyntaxError(e));
    }
  }

  private createInterpreter(): void {
    const realm = createRealm();
    const native = realm.native.bind(realm);
    realm.native = (name, fn) =>
      native(name, (self, ...args) => {
        if (this.poweredOff) throw new Unwind("power");
        if (this.rebootRequested) throw new Unwind("reboot");
        let result: unknown;
        try {
          result = fn(self, ...(args as never));
        } catch (e) {
          if (e instanceof PowerLoss) {
            this.poweredOff = true;
            throw new Unwind("power");
          }
          throw e;
        }
        // A cut scheduled on the flash ends with the operation that triggered it: nothing may run after it.
        if (!this.flash.powered) {
          this.poweredOff = true;
          throw new Unwind("power");
        }
        return result as never;
      });
    this.realm = realm;
    const sources = this.sources;
    const prepare = (error: unknown, sites: NodeJS.CallSite[]): string => {
      const undefinedName = error instanceof realm.intrinsics.ReferenceError;
      const frames: Array<{ name: string | null; line: number; column: number }> = [];
      sites.forEach((site, index) => {
        const file = site.getFileName();
        const source = file ? sources.get(file) : undefined;
        if (!source || !file) return;
        const frame = { file, line: site.getLineNumber() ?? 1, column: site.getColumnNumber() ?? 1, functionName: site.getFunctionName() };
        const at = espruinoFrame(source, frame, index === 0, index > 0 && sites[index - 1].getFileName() === NATIVE_FILE, index === 0 && undefinedName);
        // Code typed on the console, outside any function, is the frame "REPL".
        const name = frame.functionName ?? (at.topLevel && file.startsWith("REPL") ? "REPL" : null);
        frames.push({ name, line: at.line, column: at.column });
      });
      return formatStack(frames);
    };
    const ErrorCtor = realm.intrinsics.Error as unknown as Record<string, unknown>;
    Object.defineProperty(ErrorCtor, "prepareStackTrace", { value: prepare, writable: true, configurable: true, enumerable: false });
    ErrorCtor.stackTraceLimit = 40;

    this.devices.clear();
    for (const name of [this.primaryConsole, "Serial1", "LoopbackA", "LoopbackB"]) {
      if (!this.devices.has(name) && !(name === "Serial1" && this.board.name === "LINUX")) this.devices.set(name, realm.object());
    }
    installPromise(
      realm.context,
      (job) => this.events.push(job),
      (thrown) => this.toEspruinoError(thrown),
      (value, where) => {
        const error = this.realm.error(`Unhandled promise rejection: ${String(value)}`);
        // Printed with where it was rejected; a handler gets no stack.
        const handled = this.emitters.listeners(this.realm.global.process as object, "uncaughtException").length > 0;
        const stack = !handled && where ? where : null;
        Object.defineProperty(error, "stack", { value: stack, writable: true, configurable: true, enumerable: false });
        this.reportError(error);
      },
    );
    installBuiltins(this);
    const check = realm.native(CODE_CHECK, (_self, name: string, alive: number) => {
      if (this.storage.removal(name) !== alive) throw realm.error("Function code is null, not a string");
    });
    Object.defineProperty(realm.global, CODE_CHECK, { value: check, writable: false, configurable: false, enumerable: false });
    const caught = realm.native(CAUGHT, (_self, thrown: unknown) => this.toEspruinoError(thrown));
    Object.defineProperty(realm.global, CAUGHT, { value: caught, writable: false, configurable: false, enumerable: false });
  }
}

/** TypeError & co. of the device's realm, which are not instances of its Error (realm.ts). */
function isRealmError(value: unknown, intrinsics: Realm["intrinsics"]): value is Error {
  return value instanceof intrinsics.TypeError || value instanceof intrinsics.SyntaxError || value instanceof intrinsics.ReferenceError;
}

function lastStatement(code: string): (acorn.Statement & { id?: { name: string } | null }) | undefined {
  try {
    const program = acorn.parse(code, { ecmaVersion: "latest", sourceType: "script" });
    return program.body[program.body.length - 1] as acorn.Statement & { id?: { name: string } | null };
  } catch {
    return undefined;
  }
}
