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

import type { ResetReasonKind } from "../boards/types";
import type { Hal } from "../hal/types";
import type { RamBackend } from "./backends/ram";
import { Reason, RecordType, reasonName } from "./format";
import { textToBytes } from "./codec";
import { FrontendContext, saveRecord } from "./frontend";

/**
 * Reset register decode (ESPRUINO.md §5), most telling cause first.
 * nRF52 POWER.RESETREAS: DOG 0x2 watchdog, LOCKUP 0x8 lock-up, RESETPIN 0x1 / SREQ 0x4 / wake-ups (OFF, LPCOMP,
 * DIF, NFC, VBUS) ordinary reset; 0 = power-on or brown-out reset (the register is cleared by those; an old
 * bootloader that clears it also reads 0).
 * STM32 RCC_CSR: IWDG b29 / WWDG b30 watchdog, POR b27 power loss, BOR b25 brown-out (F4 sets BOR and PIN with
 * POR, so POR is tested first), SFT b28 / LPWR b31 / PIN b26 ordinary reset.
 */
export function decodeResetReason(kind: ResetReasonKind, raw: number): Reason {
  if (kind === "nrf52") {
    if (raw & 0x2) return Reason.Watchdog;
    if (raw & 0x8) return Reason.Lockup;
    return raw ? Reason.Reset : Reason.PowerLoss;
  }
  if (kind === "stm32f4" || kind === "stm32f1") {
    if (raw & 0x60000000) return Reason.Watchdog;
    if (raw & 0x08000000) return Reason.PowerLoss;
    if (raw & 0x02000000) return Reason.Brownout;
    return Reason.Reset;
  }
  return Reason.None;
}

function isCrash(reason: Reason): boolean {
  return reason >= Reason.Panic && reason <= Reason.Brownout;
}

export interface BootInfo {
  boot: number;
  /** Decoded cause of this boot's reset. */
  reason: Reason;
  raw: number;
  crashes: number;
  /** Name of the boot event record, when one was kept. */
  record: string | undefined;
}

export class Events {
  /** Most important reason recorded by a crash hook in this run (Reason.None: none yet). */
  runReason = Reason.None;
  private flagsSeen_: string[] = [];

  constructor(
    private ctx_: FrontendContext,
    public maxReason_: Reason,
  ) {}

  /** The retained-RAM backend, while the store has a working one. */
  private get ram(): RamBackend | undefined {
    return this.ctx_.core_.ram;
  }

  private save_(reason: Reason, info: object, crash: boolean): string | undefined {
    if (reason > this.maxReason_) return undefined;
    const text = JSON.stringify(info);
    return saveRecord(this.ctx_, RecordType.Event, reason, textToBytes(text), crash, 0);
  }

  /**
   * Runs once at start, after the store's boot scan and retained-RAM commit: reads and clears the reset register,
   * works out how the previous run ended, updates the crash counter and writes the boot event.
   */
  boot(hal: Hal, kind: ResetReasonKind): BootInfo {
    const core = this.ctx_.core_;
    const raw = hal.reset.readRaw();
    hal.reset.clear();
    let reason = decodeResetReason(kind, raw);
    const ram = this.ram;
    const prev = ram && ram.previous;
    const info: any = { event: "boot", cause: "", raw: raw, boot: core.boot };
    let crashes = 0;
    if (ram) {
      if (!prev) {
        // Retained RAM is garbage only after the power went away, whatever the register says.
        if (reason === Reason.None || reason === Reason.Reset) reason = Reason.PowerLoss;
      } else {
        // Valid retained RAM means the power stayed on, so a register that reads "nothing" (ESP32 has none; old
        // Pixl.js/Bangle.js bootloaders clear RESETREAS) says nothing. A run that then ended with no clean shutdown
        // and no crash hook died where no JavaScript ran: the watchdog (or a lock-up the watchdog ended).
        if (reason === Reason.None || reason === Reason.PowerLoss) reason = prev.reason === Reason.None ? Reason.Watchdog : Reason.Reset;
        info.prevBoot = prev.boot;
        info.prevReason = reasonName(prev.reason);
        crashes = isCrash(reason) || isCrash(prev.reason) ? prev.crashCount + 1 : 0;
        info.crashes = crashes;
        ram.setCrashCount(crashes);
        if (core.committed) info.console = core.committed;
      }
    }
    if (reason === Reason.None) reason = Reason.Reset;
    info.cause = reasonName(reason);
    core.lastResetReason = info.cause;
    let record: string | undefined;
    try {
      record = this.save_(reason, info, false);
    } catch (e) {
      // Start must go on: the hooks matter more than this one record.
      hal.log("pstore: could not save the boot event: " + e);
    }
    return { boot: core.boot, reason: reason, raw: raw, crashes: crashes, record: record };
  }

  /** Remembers a crash in the retained breadcrumb, so the next boot counts it even if no JavaScript runs again. */
  noteCrash(reason: Reason): void {
    if (this.runReason !== Reason.None && this.runReason <= reason) return;
    this.runReason = reason;
    const ram = this.ram;
    if (ram) ram.setBreadcrumb(reason);
  }

  /** The run has been up long enough without a crash: the chain of crashes is over. */
  cleanRun(): void {
    const ram = this.ram;
    if (ram && this.runReason === Reason.None && ram.crashCount()) ram.setCrashCount(0);
  }

  /** New interpreter error flags (E.on('errorFlag')): one event record per flag name per run. */
  errorFlags(flags: string[]): string | undefined {
    const fresh: string[] = [];
    for (let i = 0; i < flags.length; i++) {
      if (this.flagsSeen_.indexOf(flags[i]) < 0) {
        this.flagsSeen_.push(flags[i]);
        fresh.push(flags[i]);
      }
    }
    if (!fresh.length) return undefined;
    return this.save_(fresh.indexOf("MEMORY") >= 0 ? Reason.Oom : Reason.ErrorFlag, { event: "errorFlag", flags: fresh }, true);
  }
}
