// A running pstore: the core and the frontends put together, and what each hook does. Free of Espruino
// built-ins (firmware/module.ts wires those), so host tests drive it over hal/sim. Its read side is runtime-read.ts.

import type { ResidentBoard } from "../boards/device";
import type { Hal } from "../hal/types";
import { Pstore } from "../pstore/core";
import type { RecordMeta } from "../pstore/backend";
import { ConsoleRing, createConsoleRing, flushConsole } from "../pstore/console";
import { describeUncaught, dumpDmesg } from "../pstore/dmesg";
import { BootInfo, Events, createEvents } from "../pstore/event";
import { Flag, Reason, RecordType } from "../pstore/format";
import { FrontendContext, saveRecord } from "../pstore/frontend";
import type { Tracer } from "../pstore/ftrace";
import { Pmsg, createPmsg } from "../pstore/pmsg";
import type { PayloadCodec } from "../pstore/codec";
import type { Settings } from "./config";
import type { DumpInfo } from "./service";
import { addRuntimeReads } from "./runtime-read";
import { startRuntime } from "./runtime-start";
import { stage } from "./stages";

/**
 * A running pstore. A closure rather than a class: in the resident module every `this.` costs bytes. The fields
 * are what the service module (runtime-start.ts, runtime-read.ts) reads; start() and the read side are added to
 * every Runtime on the host, on the device by the service module.
 */
export interface Runtime {
  readonly core: Pstore;
  readonly ring_: ConsoleRing;
  readonly ctx_: FrontendContext;
  readonly events_: Events;
  readonly pmsg: Pmsg;
  readonly hal: Hal;
  readonly board_: ResidentBoard;
  readonly settings_: Settings;
  readonly tracer: Tracer | undefined;
  bootInfo: BootInfo | undefined;
  /** Console output captured through LoopbackB. */
  consoleData(text: string): void;
  /** The crash path: breadcrumb first (cheapest, and it survives a reset that cuts the writes short), then dumps. */
  crash(reason: Reason, headline: string): string | undefined;
  /** process.on('uncaughtException'): the firmware stays silent once a handler exists, so print as it would. */
  uncaught(e: any): string | undefined;
  /** E.on('errorFlag'): an event per new flag; MEMORY (the interpreter ran out) is also dumped like a crash. */
  errorFlags(flags: string[]): void;
  /**
   * E.on('kill'): a clean end. The console goes to flash; the retained ring, now saved, is emptied so the next
   * boot does not commit it again, and the breadcrumb says "shutdown" unless this run crashed.
   */
  kill(): void;
  /**
   * E.on('kill') of a load(): an app switch, not the end of the run. Writes nothing; the retained breadcrumb says
   * "reset" and the retained console tail goes with the app, so the next start records no crash and no console.
   */
  appSwitch(): void;
  /**
   * Idle work from a timer: one erase or page preparation, the periodic console flush, the clean-run check.
   * Returns whether more erase work is waiting (the caller then comes back soon rather than after idleSeconds).
   */
  tick(): boolean;
  /** Writes the console printed since the last flush now. */
  flush(): string | undefined;
  /**
   * Boot scan, retained-RAM commit, reset reason and boot event. A failure is reported, not thrown: the hooks
   * installed after this still catch what they can, and status() shows which backend failed.
   */
  start(): BootInfo | undefined;
  list(): RecordMeta[];
  /** A record's content, decoded: text, except ftrace (binary, layout in pstore/ftrace.ts). */
  read(name: string): string | Uint8Array;
  /** Spans a host `pstore dump` may read: the flash backend's region, and the retained area's size. */
  dumpInfo(): DumpInfo;
  dumpRead(area: number, offset: number, length: number): Uint8Array;
  /** What `dmesg | grep pstore` tells on Linux: backends, zones, sizes, free space, erase counts, last reset. */
  status(): object;
}

export function createRuntime(
  hal: Hal,
  board: ResidentBoard,
  settings: Settings,
  codec: PayloadCodec | undefined,
  tracer: Tracer | undefined,
): Runtime {
  // The core filters nothing itself: max_reason applies to dumps (dmesg, event), never to pmsg or console.
  const core = new Pstore(hal, { board: board, zones: settings.zones, backend: settings.backend, debug: settings.debug });
  if (typeof PSTORE_STAGES !== "undefined" && PSTORE_STAGES) stage("store");
  const ctx: FrontendContext = { core_: core, codec_: settings.codec === "raw" ? undefined : codec, crashBudgetMs_: settings.crashBudgetMs };
  const ring = createConsoleRing(
    settings.consoleBytes,
    (typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED)
      ? function (chunk: Uint8Array) {
          // Looked up on every call: start() drops the ram backend when its area turns out unusable.
          if (core.ram) core.ram.appendConsole(chunk);
        }
      : undefined,
  );
  if (typeof PSTORE_STAGES !== "undefined" && PSTORE_STAGES) stage("console ring");
  const events = createEvents(ctx, settings.maxReason);
  const clock = hal.clock;
  let lastFlush = 0;
  let cleanChecked = false;

  const unsaved = function (what: string, e: any): void {
    hal.log("pstore: could not save " + what + ": " + e);
  };

  const crash = function (reason: Reason, headline: string): string | undefined {
    try {
      if (typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED) events.noteCrash(reason);
      // max_reason applies to dumps (dmesg, ftrace and the console with them), never to pmsg or periodic flushes.
      if (reason > settings.maxReason) return undefined;
      const name = dumpDmesg(ctx, ring, settings.headlineMax, reason, headline);
      const snap = tracer && tracer.snapshot();
      if (snap) saveRecord(ctx, RecordType.Ftrace, reason, snap, true, Flag.FtraceNames);
      // And the console since the last flush, so the console zone's history runs up to the crash without a gap.
      flushConsole(ctx, ring, reason, true);
      return name;
    } catch (e) {
      // A failing store must not turn one crash into an endless chain of them.
      unsaved("a record of reason " + reason, e);
      return undefined;
    }
  };

  const flush = function (): string | undefined {
    return flushConsole(ctx, ring, Reason.Periodic, false);
  };

  const rt = {
    core: core,
    ring_: ring,
    ctx_: ctx,
    events_: events,
    hal: hal,
    board_: board,
    settings_: settings,
    tracer: tracer,
    bootInfo: undefined,
    pmsg: createPmsg(ctx, settings.pmsgPerMinute, function () {
      return clock.uptimeMs();
    }),
    consoleData: ring.append,
    crash: crash,
    uncaught: function (e: any) {
      const d = describeUncaught(e);
      hal.log(d.text);
      return crash(d.reason, d.text);
    },
    errorFlags: function (flags: string[]) {
      try {
        events.errorFlags(flags);
      } catch (e) {
        unsaved("error flags", e);
      }
      if (flags.indexOf("MEMORY") >= 0) crash(Reason.Oom, "OUT OF MEMORY (error flags: " + flags.join(",") + ")");
    },
    kill: function () {
      try {
        const name = flushConsole(ctx, ring, Reason.Shutdown, true);
        if (Reason.Shutdown <= settings.maxReason) dumpDmesg(ctx, ring, settings.headlineMax, Reason.Shutdown, "Shutdown");
        if (typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED) {
          const ram = core.ram;
          if (ram) {
            if (name) ram.setBoot(core.boot);
            ram.setBreadcrumb(events.runReason_ || Reason.Shutdown);
          }
        }
      } catch (e) {
        unsaved("at shutdown", e);
      }
    },
    appSwitch: function () {
      if (typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED) {
        const ram = core.ram;
        if (ram) {
          ram.setBoot(core.boot);
          ram.setBreadcrumb(Reason.Reset);
        }
      }
    },
    tick: function () {
      const more = core.idle();
      const up = clock.uptimeMs();
      const every = settings.consoleFlushSeconds * 1000;
      if (every && up - lastFlush >= every) {
        lastFlush = up;
        flush();
      }
      // The crash counter it sets back lives in retained RAM.
      if ((typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED) && !cleanChecked && up >= settings.cleanRunSeconds * 1000) {
        cleanChecked = true;
        events.cleanRun();
      }
      return more;
    },
    flush: flush,
  } as Runtime;
  if (typeof PSTORE_BOARD === "undefined") {
    rt.start = function () {
      // Host boards (hal/sim) always have both.
      return startRuntime(rt, hal.reset!, board.resetReason!.kind);
    };
    addRuntimeReads(rt);
  }
  return rt;
}
