// Retained memory through peek/poke. nRF52 RAM is byte addressable; STM32F4 backup registers and ESP32 RTC slow
// memory are read and written as whole 32-bit words; STM32F1 backup registers keep 16 data bits in each 32-bit slot,
// DR1..DR10 in one bank and DR11..DR42 in a second bank 20 bytes further on.

import type { RetainedArea } from "../../boards/types";
import type { RetainedHal } from "../types";

/** STM32 PWR_CR and its DBP bit: backup-domain writes are ignored unless it is set. */
const PWR_CR = 0x40007000;
const PWR_CR_DBP = 0x100;

export function createDeviceRetained(area: RetainedArea): RetainedHal {
  const kind = area.kind;
  const size = area.size;
  const base = kind === "nrf52-ram" ? process.memory(false).stackEndAddress + area.addr : area.addr;
  const slotBytes = kind === "nrf52-ram" ? 1 : kind === "stm32f1-bkp" ? 2 : 4;

  function slotAddr(slot: number): number {
    if (slotBytes === 1) return base + slot;
    return base + slot * 4 + (slotBytes === 2 && slot >= 10 ? 20 : 0);
  }
  function readByte(offset: number): number {
    if (slotBytes === 1) return peek8(base + offset);
    return (peek32(slotAddr(Math.floor(offset / slotBytes))) >>> ((offset % slotBytes) * 8)) & 255;
  }
  function writeByte(offset: number, value: number): void {
    if (slotBytes === 1) return poke8(base + offset, value);
    const addr = slotAddr(Math.floor(offset / slotBytes));
    const shift = (offset % slotBytes) * 8;
    poke32(addr, (peek32(addr) & ~(255 << shift)) | (value << shift));
  }
  function check(offset: number, length: number): void {
    if (offset < 0 || offset + length > size) throw new Error("retained " + offset + "+" + length + " > " + size);
  }

  return {
    size: size,
    read: function (offset, length) {
      check(offset, length);
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = readByte(offset + i);
      return out;
    },
    write: function (offset, data) {
      check(offset, data.length);
      if (kind === "stm32f4-bkp" || kind === "stm32f1-bkp") poke32(PWR_CR, peek32(PWR_CR) | PWR_CR_DBP);
      for (let i = 0; i < data.length; i++) writeByte(offset + i, data[i]);
    },
  };
}
