import type { BoardDefinition } from "./types";

// STM32F103RC: half-word programming, and a half-word that is not 0xFFFF is never programmed again.
// The firmware end is build dependent, so getFree() must confirm the region below Storage.
export const board: BoardDefinition = {
  name: "ORIGINAL",
  chip: "STM32F103RC",
  flash: [{ addr: 0x08037000, size: 2048, count: 18 }],
  programUnit: 2,
  reprogram: { kind: "halfword-once" },
  storage: { addr: 0x0803b000, size: 0x5000 },
  backend: "flash",
  region: { addr: 0x08037000, size: 0x4000, find: "getFree", verified: false },
  storagePageSize: 2048,
  // BKP DR1..DR42: 16 data bits per 32-bit slot, DR11 onwards at a second bank (hal/device/retained.ts maps them).
  retained: { kind: "stm32f1-bkp", addr: 0x40006c04, size: 84, verified: true },
  resetReason: { kind: "stm32f1", register: 0x40021024 },
  jsVars: 2756,
  varBytes: 13,
  timing: { programWordUs: 105, eraseMs: [{ bytes: 2048, ms: 40 }], readBytesPerMs: 6000, endurance: 10000, jsCompressBytesPerMs: 1 },
  codec: "heatshrink",
  lz4HashBits: 8,
  features: { retained: false, ftrace: false },
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 3, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 3, policy: "ring" },
    { name: "pmsg", types: ["pmsg"], pages: 2, policy: "ring" },
  ],
};
