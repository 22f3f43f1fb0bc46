// The module: what `require("pstore")` returns (dist/<BOARD>/pstore.js, Storage file "pstore").
// Espruino caches a module after its first require, so the boot code's `require("pstore").start(...)` and the
// application's later `require("pstore")` share one instance: the state below lives once per run.
// Build flags (firmware/build-flags.d.ts) leave out what the board does not use. What the crash path, the hooks
// and idle work do not need (the read side, status, the host service) is the service module, firmware/svc.ts.

import { board } from "pstore-resident-board";
import { createDeviceHal } from "../hal/device/index";
import { Reason } from "../pstore/format";
import { PayloadCodec, heatshrinkCodec, lz4Codec } from "../pstore/codec";
import { Tracer } from "../pstore/ftrace";
import { SERVICE_MODULE } from "./service";
import type { PstoreOptions, Settings } from "./config";
import { Runtime, createRuntime } from "./runtime";
import type { ConsoleCapture } from "./console-capture";
import type { Hal } from "../hal/types";
import { stage, staged } from "./stages";

declare var Modules: { removeCached(name: string): void };
/** An indirect call: the bundler leaves it to Espruino's require at run time (a Storage module). */
const load: (name: string) => any = require;

let rt: Runtime | undefined;
let capture: ConsoleCapture | undefined;

/** The running instance (the service module reads it too); throws before start(). */
export function running(): Runtime {
  if (!rt) throw new Error("pstore is not started: call require(\"pstore\").start()");
  return rt;
}

function createCodec(): PayloadCodec | undefined {
  if (PSTORE_CODEC === "heatshrink") return heatshrinkCodec(require("heatshrink"));
  if (PSTORE_CODEC === "lz4") return lz4Codec(board.lz4HashBits!, board.timing!.jsCompressBytesPerMs);
  return undefined;
}

// The read side and the host service live in the service module (firmware/svc.ts), loaded for each call and
// dropped after it.
function svc(): any {
  return load(SERVICE_MODULE);
}

function drop(): void {
  Modules.removeCached(SERVICE_MODULE);
}

/**
 * For the service module, which is dropped between calls: the host's stream in progress, and the timer that drops
 * the module once the host is silent.
 */
export const streams: { job: object | null; drop: any } = { job: null, drop: undefined };

/**
 * Starts pstore (once per run: later calls check their options, then return). Run from boot code, before the
 * application. The options check, the boot scan and the boot event are boot-only code in the service module.
 */
export function start(options?: PstoreOptions): void {
  const init = svc();
  try {
    const settings: Settings = init.settings(options, !!rt);
    if (rt) return;
    if (PSTORE_STAGES) {
      stage("start");
      stage("probe");
      stage("probe");
    }
    const hal = createDeviceHal(board);
    if (PSTORE_STAGES) stage("hal");
    const r = createRuntime(
      hal,
      board,
      settings,
      PSTORE_STAGES ? staged(createCodec(), "codec") : createCodec(),
      PSTORE_FTRACE ? (PSTORE_STAGES ? staged(createTracer(hal, settings.ftraceEntries), "tracer") : createTracer(hal, settings.ftraceEntries)) : undefined,
    );
    if (PSTORE_STAGES) stage("runtime");
    init.boot(r);
    rt = r;
    if (PSTORE_STAGES) stage("boot scan");
    const ending = { switching: false };
    init.watchAppSwitches(ending);
    if (PSTORE_STAGES) stage("app switches");
    if (settings.capture) capture = init.captureConsole(r.consoleData, settings.consoleDevice);
    if (PSTORE_STAGES) stage("console capture");
    hook(r, settings, ending);
    if (PSTORE_STAGES) stage("hooks");
  } finally {
    // Loaded again when the host or the application asks for records.
    drop();
  }
}

function createTracer(hal: Hal, entries: number): Tracer {
  return new Tracer(entries, function () {
    return hal.clock.uptimeMs();
  });
}

/**
 * The hooks and the idle timer.
 * Like createTracer, outside start(): Espruino's closures keep their whole enclosing scope, and start()'s holds the
 * service module, which must go once start() returns.
 */
function hook(r: Runtime, settings: Settings, ending: { switching: boolean }): void {
  process.on("uncaughtException", function (e: any) {
    r.uncaught(e);
  });
  E.on("errorFlag", function (flags: string[]) {
    r.errorFlags(flags);
  });
  E.on("kill", function () {
    if (ending.switching) r.appSwitch();
    else r.kill();
    // A forced console outlives reset() and load(): hand it back, or the next boot would find LoopbackA.
    if (capture) capture.e();
  });
  // Erases run one per tick, a moment apart, so the interpreter (and its watchdog) keeps running between them;
  // with nothing to erase the device wakes only every idleSeconds.
  const idle = function () {
    setTimeout(idle, r.tick() ? 100 : settings.idleSeconds * 1000);
  };
  setTimeout(idle, settings.idleSeconds * 1000);
}

/** A call of the service module's read side, which is dropped again once it returns. */
function viaService(name: string): (arg?: any) => any {
  return function (arg) {
    try {
      return svc()[name](arg);
    } finally {
      drop();
    }
  };
}

export const list: () => object[] = viaService("list");
export const read: (name: string) => string | Uint8Array = viaService("read");
export const erase: (name: string) => boolean = viaService("erase");
export const status: () => object = viaService("status");

/** Stores an application message; returns its record name once committed. Throws when it cannot keep it. */
export function pmsg(message: string | Uint8Array): string {
  return running().pmsg.write(message);
}

/** Records a panic with `message` ("Panic" alone without one) and the console tail (a dmesg record); returns its name. */
export function panic(message?: string): string | undefined {
  return running().crash(Reason.Panic, message === undefined ? "Panic" : "Panic: " + message);
}

/** Writes the console printed since the last flush now. */
export function flush(): string | undefined {
  return running().flush();
}

function noFtrace(): never {
  throw new Error("pstore: ftrace is not built into this bundle (" + board.name + ")");
}

// Without ftrace built in there is no tracer to look for: both calls are the refusal.
export const trace: <F extends Function>(fn: F, name: string) => F = PSTORE_FTRACE
  ? function (fn, name) {
      return running().tracer!.trace(fn, name);
    }
  : noFtrace;

export const traceObject: (obj: any, prefix: string) => any = PSTORE_FTRACE
  ? function (obj, prefix) {
      return running().tracer!.traceObject(obj, prefix);
    }
  : noFtrace;

/** For the service module: where its frames go. Straight to the host: through the captured console the frames
 * would fill the ring, then the console records, which the next pull would fetch again. */
export function toHost(line: string): void {
  if (capture && capture.t) capture.t.write(line + "\r\n");
  else print(line);
}
