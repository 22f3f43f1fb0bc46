import type { BoardDefinition } from "./types";

// STM32F401CD. The only free flash is one 128 KB sector (an erase takes seconds), so a single keep-first zone holds everything.
export const board: BoardDefinition = {
  name: "PICO",
  chip: "STM32F401CD",
  flash: [
    { addr: 0x08004000, size: 0x4000, count: 3 },
    { addr: 0x08060000, size: 0x20000, count: 1 },
  ],
  programUnit: 4,
  reprogram: { kind: "clear-only" },
  storage: { addr: 0x08004000, size: 0xc000 },
  backend: "flash",
  region: { addr: 0x08060000, size: 0x20000, find: "fixed", verified: true },
  storagePageSize: 4096,
  retained: { kind: "stm32f4-bkp", addr: 0x40002854, size: 76, verified: true },
  resetReason: { kind: "stm32f4", register: 0x40023874 },
  jsVars: 5100,
  varBytes: 13,
  timing: {
    programWordUs: 16,
    eraseMs: [{ bytes: 0x4000, ms: 400 }, { bytes: 0x10000, ms: 1200 }, { bytes: 0x20000, ms: 3000 }],
    readBytesPerMs: 8000,
    endurance: 10000,
    jsCompressBytesPerMs: 3,
  },
  codec: "heatshrink",
  lz4HashBits: 9,
  features: { retained: true, ftrace: true },
  zones: [{ name: "all", types: ["dmesg", "event", "console", "pmsg", "ftrace"], pages: 1, policy: "keep-first" }],
};
