import type { BoardDefinition } from "./types";

// STM32F411CE. Three free 16 KB sectors: too few for a ring per type, so console, pmsg and ftrace share one ring.
export const board: BoardDefinition = {
  name: "ESPRUINOWIFI",
  chip: "STM32F411CE",
  flash: [
    { addr: 0x08004000, size: 0x4000, count: 3 },
    { addr: 0x08010000, size: 0x10000, count: 1 },
  ],
  programUnit: 4,
  reprogram: { kind: "clear-only" },
  storage: { addr: 0x08010000, size: 0x10000 },
  backend: "flash",
  region: { addr: 0x08004000, size: 0xc000, find: "fixed", verified: true },
  storagePageSize: 4096,
  retained: { kind: "stm32f4-bkp", addr: 0x40002854, size: 76, verified: true },
  resetReason: { kind: "stm32f4", register: 0x40023874 },
  jsVars: 8190,
  varBytes: 13,
  timing: {
    programWordUs: 16,
    eraseMs: [{ bytes: 0x4000, ms: 400 }, { bytes: 0x10000, ms: 1200 }, { bytes: 0x20000, ms: 3000 }],
    readBytesPerMs: 8000,
    endurance: 10000,
    jsCompressBytesPerMs: 4,
  },
  codec: "heatshrink",
  lz4HashBits: 10,
  features: { retained: true, ftrace: true },
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 1, policy: "keep-first" },
    { name: "log", types: ["console", "pmsg", "ftrace"], pages: 2, policy: "ring" },
  ],
};
