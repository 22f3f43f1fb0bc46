// A running pstore: the core and the frontends put together, and what each hook does. Free of Espruino
// built-ins (firmware/module.ts wires those), so host tests drive it over hal/sim. Its read side is runtime-read.ts.

import type { ResidentBoard } from "../boards/device";
import type { Hal } from "../hal/types";
import { Pstore } from "../pstore/core";
import type { RecordMeta } from "../pstore/backend";
import { ConsoleRing, flushConsole } from "../pstore/console";
import { describeUncaught, dumpDmesg } from "../pstore/dmesg";
import { BootInfo, Events } from "../pstore/event";
import { Flag, Reason, RecordType } from "../pstore/format";
import { FrontendContext, saveRecord } from "../pstore/frontend";
import type { Tracer } from "../pstore/ftrace";
import { Pmsg, createPmsg } from "../pstore/pmsg";
import type { PayloadCodec } from "../pstore/codec";
import type { Settings } from "./config";
import type { DumpInfo } from "./service";
import { addRuntimeReads } from "./runtime-read";
import { startRuntime } from "./runtime-start";

/**
 * start() (runtime-start.ts) and the read side (runtime-read.ts): on the host part of every Runtime, on the device
 * in the service module.
 */
export interface Runtime {
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

export class Runtime {
  readonly core: Pstore;
  readonly ring_: ConsoleRing;
  readonly ctx_: FrontendContext;
  readonly events_: Events;
  readonly pmsg: Pmsg;
  bootInfo: BootInfo | undefined;
  private lastFlush_ = 0;
  private cleanChecked_ = false;

  constructor(
    readonly hal: Hal,
    readonly board_: ResidentBoard,
    readonly settings_: Settings,
    codec: PayloadCodec | undefined,
    readonly tracer: Tracer | undefined,
  ) {
    const debug = settings_.debug ? hal.log : undefined;
    // The core filters nothing itself: max_reason applies to dumps (dmesg, event), never to pmsg or console.
    this.core = new Pstore(hal, { board: board_, zones: settings_.zones, backend: settings_.backend, debug: settings_.debug });
    this.ctx_ = { core_: this.core, codec_: settings_.codec === "raw" ? undefined : codec, crashBudgetMs_: settings_.crashBudgetMs, debug_: debug };
    const core = this.core;
    // Looked up on every call: start() drops the ram backend when its area turns out unusable.
    this.ring_ = new ConsoleRing(
      settings_.consoleBytes,
      (typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED)
        ? function (chunk: Uint8Array) {
            if (core.ram) core.ram.appendConsole(chunk);
          }
        : undefined,
    );
    this.events_ = new Events(this.ctx_, settings_.maxReason);
    const clock = hal.clock;
    this.pmsg = createPmsg(this.ctx_, settings_.pmsgPerMinute, function () {
      return clock.uptimeMs();
    });
  }

  /** Console output captured through LoopbackB. */
  consoleData(text: string): void {
    this.ring_.append(text);
  }

  /** The crash path: breadcrumb first (cheapest, and it survives a reset that cuts the writes short), then dumps. */
  crash(reason: Reason, headline: string): string | undefined {
    try {
      this.events_.noteCrash(reason);
      // max_reason applies to dumps (dmesg, ftrace and the console with them), never to pmsg or periodic flushes.
      if (reason > this.settings_.maxReason) return undefined;
      const name = dumpDmesg(this.ctx_, this.ring_, this.settings_.headlineMax, reason, headline);
      const snap = this.tracer && this.tracer.snapshot();
      if (snap) saveRecord(this.ctx_, RecordType.Ftrace, reason, snap, true, Flag.FtraceNames);
      // And the console since the last flush, so the console zone's history runs up to the crash without a gap.
      flushConsole(this.ctx_, this.ring_, reason, true);
      return name;
    } catch (e) {
      // A failing store must not turn one crash into an endless chain of them.
      this.unsaved_("a record of reason " + reason, e);
      return undefined;
    }
  }

  private unsaved_(what: string, e: any): void {
    this.hal.log("pstore: could not save " + what + ": " + e);
  }

  /** process.on('uncaughtException'): the firmware stays silent once a handler exists, so print as it would. */
  uncaught(e: any): string | undefined {
    const d = describeUncaught(e);
    this.hal.log(d.text);
    return this.crash(d.reason, d.text);
  }

  /** E.on('errorFlag'): an event per new flag; MEMORY (the interpreter ran out) is also dumped like a crash. */
  errorFlags(flags: string[]): void {
    try {
      this.events_.errorFlags(flags);
    } catch (e) {
      this.unsaved_("error flags", e);
    }
    if (flags.indexOf("MEMORY") >= 0) this.crash(Reason.Oom, "OUT OF MEMORY (error flags: " + flags.join(",") + ")");
  }

  /**
   * E.on('kill'): a clean end. The console goes to flash; the retained ring, now saved, is emptied so the next
   * boot does not commit it again, and the breadcrumb says "shutdown" unless this run crashed.
   */
  kill(): void {
    try {
      const name = flushConsole(this.ctx_, this.ring_, Reason.Shutdown, true);
      if (Reason.Shutdown <= this.settings_.maxReason) dumpDmesg(this.ctx_, this.ring_, this.settings_.headlineMax, Reason.Shutdown, "Shutdown");
      const ram = (typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED) && this.core.ram;
      if (ram) {
        if (name) ram.setBoot(this.core.boot);
        ram.setBreadcrumb(this.events_.runReason || Reason.Shutdown);
      }
    } catch (e) {
      this.unsaved_("at shutdown", e);
    }
  }

  /**
   * Idle work from a timer: one erase or page preparation, the periodic console flush, the clean-run check.
   * Returns whether more erase work is waiting (the caller then comes back soon rather than after idleSeconds).
   */
  tick(): boolean {
    const more = this.core.idle();
    const up = this.hal.clock.uptimeMs();
    const every = this.settings_.consoleFlushSeconds * 1000;
    if (every && up - this.lastFlush_ >= every) {
      this.lastFlush_ = up;
      flushConsole(this.ctx_, this.ring_, Reason.Periodic, false);
    }
    if (!this.cleanChecked_ && up >= this.settings_.cleanRunSeconds * 1000) {
      this.cleanChecked_ = true;
      this.events_.cleanRun();
    }
    return more;
  }

  flush(): string | undefined {
    return flushConsole(this.ctx_, this.ring_, Reason.Periodic, false);
  }
}

if (typeof PSTORE_BOARD === "undefined") {
  Runtime.prototype.start = function (this: Runtime) {
    return startRuntime(this);
  };
  addRuntimeReads(Runtime.prototype);
}
