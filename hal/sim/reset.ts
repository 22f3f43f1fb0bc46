// Reset-reason registers with each chip's clear rule (ESPRUINO.md §5): nRF52 POWER.RESETREAS (cumulative, write ones
// to clear), STM32 RCC_CSR (flags in bits 25..31, cleared by writing RMVF, bit 24). ESP32 and Linux have none.

import type { ResetReasonKind } from "../../boards/types";
import type { ResetReasonHal } from "../types";

export type ResetCause = "pin" | "watchdog" | "soft" | "lockup" | "power-on" | "brownout" | "wake";

const NRF52_BITS: { [cause: string]: number } = { pin: 0x1, watchdog: 0x2, soft: 0x4, lockup: 0x8, wake: 0x10000 };

// STM32 internal resets also pull NRST low, so PIN is set with them.
const PIN = 1 << 26;
const STM32_BITS: { [cause: string]: number } = {
  pin: PIN,
  watchdog: (1 << 29) | PIN,
  soft: (1 << 28) | PIN,
  lockup: PIN,
  wake: (1 << 31) | PIN,
};

const STM32_FLAGS = 0xfe000000;

export class SimResetReason implements ResetReasonHal {
  private raw = 0;

  constructor(readonly kind: ResetReasonKind) {}

  readRaw(): number {
    return this.kind === "none" ? -1 : this.raw >>> 0;
  }

  clear(): void {
    if (this.kind === "nrf52") this.raw = 0;
    else if (this.kind === "stm32f4" || this.kind === "stm32f1") this.raw = (this.raw & ~STM32_FLAGS) >>> 0;
  }

  /** Sets the raw register, e.g. to replay a value read from a real board. */
  setRaw(value: number): void {
    this.raw = value >>> 0;
  }

  /**
   * Records a reset as the chip would. Both registers are cumulative until cleared, except that a power-on or
   * brown-out resets the register itself: nRF52 then reads 0, STM32 its reset-time flags.
   */
  cause(cause: ResetCause): void {
    const powerOn = cause === "power-on" || cause === "brownout";
    if (this.kind === "nrf52") {
      this.raw = powerOn ? 0 : (this.raw | NRF52_BITS[cause]) >>> 0;
    } else if (this.kind === "stm32f4" || this.kind === "stm32f1") {
      // F4: POR sets POR, BOR and PIN; a brown-out alone sets BOR and PIN. F1 has no BOR flag.
      const resetValue = this.kind === "stm32f1" ? 0x0c000000 : cause === "brownout" ? 0x06000000 : 0x0e000000;
      const kept = this.raw & ~STM32_FLAGS;
      this.raw = (powerOn ? (kept | resetValue) : (this.raw | STM32_BITS[cause])) >>> 0;
    }
  }
}
