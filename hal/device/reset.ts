// The raw reset-reason register (ESPRUINO.md §5). nRF52 RESETREAS is cleared by writing ones; STM32 RCC_CSR by
// setting RMVF (bit 24). ESP32 and the Linux build have no register to read (peek would crash Linux).

import type { ResetReasonKind } from "../../boards/types";
import type { ResetReasonHal } from "../types";

const RCC_CSR_RMVF = 0x1000000;

export function createDeviceReset(kind: ResetReasonKind, register: number): ResetReasonHal {
  return {
    readRaw: function () {
      return kind === "none" ? -1 : peek32(register) >>> 0;
    },
    clear: function () {
      if (kind === "nrf52") poke32(register, 0xffffffff);
      else if (kind !== "none") poke32(register, peek32(register) | RCC_CSR_RMVF);
    },
  };
}
