// The boot event (event.ts describes its payload): runs once at start, after the store's boot scan and the
// retained-RAM commit, so on the device it lives in the service module with the rest of the boot-only code.

import type { ResetReasonKind } from "../boards/types";
import type { Hal, ResetReasonHal } from "../hal/types";
import { Reason, reasonName } from "./format";
import type { BootInfo, Events } from "./event";
import type { Pstore } from "./core";

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

/**
 * Reads and clears the reset register (`reset`, of a chip of `kind`), works out how the previous run ended, updates
 * the crash counter and writes the boot event.
 */
export function bootEvent(core: Pstore, events: Events, hal: Hal, reset: ResetReasonHal, kind: ResetReasonKind): BootInfo {
  const raw = reset.readRaw();
  reset.clear();
  let reason = decodeResetReason(kind, raw);
  const ram = core.ram;
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
  // On Bangle.js a register that reads 0 says nothing (old bootloaders clear it before the firmware starts) and,
  // without retained RAM, most starts are app switches (every one a load(), after which it reads 0 too).
  const bangle = typeof PSTORE_BOARD !== "undefined" && (PSTORE_BOARD === "BANGLEJS2" || PSTORE_BOARD === "BANGLEJS");
  if (reason === Reason.None || (bangle && !ram && raw === 0)) reason = Reason.Reset;
  info.cause = reasonName(reason);
  core.lastResetReason = info.cause;
  let record: string | undefined;
  try {
    record = events.save_(reason, info, false);
  } catch (e) {
    // Start must go on: the hooks matter more than this one record.
    hal.log("pstore: could not save the boot event: " + e);
  }
  return { boot: core.boot, reason: reason, raw: raw, crashes: crashes, record: record };
}
