// event frontend: why the chip reset (decoded reset register, raw value kept), how the previous run ended
// (retained breadcrumb), the crash counter across boots, and interpreter error flags as they appear.
//
// Event payload: JSON text, one object per record.
//   boot event:  {"event":"boot","cause":"watchdog","raw":2,"boot":7,"prevBoot":6,"prevReason":"exception",
//                 "crashes":2,"console":"console-flash-12"}
//     raw: the reset register before it was cleared (-1: the chip has none); prevBoot/prevReason: from retained
//     RAM (absent when it held garbage, i.e. after power loss, or the board has none); crashes: consecutive runs
//     that ended abnormally (retained boards only); console: the record holding the console tail retained RAM
//     saved from the previous run (same boot counter as prevBoot).
//   error flags: {"event":"errorFlag","flags":["MEMORY","CALLBACK"]}
//
// Crash counter: a run ended abnormally when the chip reset by watchdog, lock-up or brown-out, or a crash hook
// recorded a reason before the reset (panic, oom, exception, rejection). Each abnormal end adds one; a run that
// stays up `cleanRunSeconds` without a crash sets it back to 0 (firmware/module.ts calls cleanRun()).

import { Reason, RecordType } from "./format";
import { textToBytes } from "./codec";
import { FrontendContext, saveRecord } from "./frontend";

// The boot event (reset register, crash counter) is written once per boot: event-boot.ts, in the service module on
// the device.
export { decodeResetReason } from "./event-boot";

export interface BootInfo {
  boot: number;
  /** Decoded cause of this boot's reset. */
  reason: Reason;
  raw: number;
  crashes: number;
  /** Name of the boot event record, when one was kept. */
  record: string | undefined;
}

/**
 * A closure rather than a class: in the resident module every `this.` costs bytes. The breadcrumb and the crash
 * counter live in retained RAM, so runReason_, noteCrash and cleanRun exist only with it built in (PSTORE_RETAINED;
 * always on the host): callers guard them with the same flag.
 */
export interface Events {
  /** Writes an event record (JSON) unless `reason` is above max_reason. */
  save_(reason: Reason, info: object, crash: boolean): string | undefined;
  /** New interpreter error flags (E.on('errorFlag')): one event record per flag name per run. */
  errorFlags(flags: string[]): string | undefined;
  /** Most important reason recorded by a crash hook in this run (Reason.None: none yet). */
  runReason_: Reason;
  /** Remembers a crash in the retained breadcrumb, so the next boot counts it even if no JavaScript runs again. */
  noteCrash(reason: Reason): void;
  /** The run has been up long enough without a crash: the chain of crashes is over. */
  cleanRun(): void;
}

export function createEvents(ctx: FrontendContext, maxReason: Reason): Events {
  const flagsSeen: string[] = [];
  const save = function (reason: Reason, info: object, crash: boolean): string | undefined {
    if (reason > maxReason) return undefined;
    return saveRecord(ctx, RecordType.Event, reason, textToBytes(JSON.stringify(info)), crash, 0);
  };
  const ev = {
    save_: save,
    errorFlags: function (flags: string[]) {
      const fresh: string[] = [];
      for (let i = 0; i < flags.length; i++) {
        if (flagsSeen.indexOf(flags[i]) < 0) {
          flagsSeen.push(flags[i]);
          fresh.push(flags[i]);
        }
      }
      if (!fresh.length) return undefined;
      return save(fresh.indexOf("MEMORY") >= 0 ? Reason.Oom : Reason.ErrorFlag, { event: "errorFlag", flags: fresh }, true);
    },
  } as Events;
  if (typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED) {
    ev.runReason_ = Reason.None;
    ev.noteCrash = function (reason) {
      if (ev.runReason_ !== Reason.None && ev.runReason_ <= reason) return;
      ev.runReason_ = reason;
      // The store's retained-RAM backend, while it has a working one.
      const ram = ctx.core_.ram;
      if (ram) ram.setBreadcrumb(reason);
    };
    ev.cleanRun = function () {
      const ram = ctx.core_.ram;
      if (ram && ev.runReason_ === Reason.None && ram.crashCount()) ram.setCrashCount(0);
    };
  }
  return ev;
}
