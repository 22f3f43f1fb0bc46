import type { BoardDefinition } from "./types";

// nRF52840: two programs per word between erases. The region sits just below Storage; getFree() must confirm it.
export const board: BoardDefinition = {
  name: "JOLTJS",
  chip: "nRF52840",
  flash: [{ addr: 0x87000, size: 4096, count: 110 }],
  programUnit: 4,
  reprogram: { kind: "word-writes", max: 2 },
  storage: { addr: 0x91000, size: 0x64000 },
  backend: "flash",
  region: { addr: 0x87000, size: 0xa000, find: "getFree", verified: false },
  storagePageSize: 4096,
  retained: { kind: "nrf52-ram", addr: 0, size: 256, verified: false },
  resetReason: { kind: "nrf52", register: 0x40000400 },
  jsVars: 12000,
  varBytes: 14,
  timing: { programWordUs: 41, eraseMs: [{ bytes: 4096, ms: 85 }], readBytesPerMs: 8000, endurance: 10000, jsCompressBytesPerMs: 2 },
  codec: "heatshrink",
  lz4HashBits: 10,
  features: { retained: true, ftrace: true },
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 2, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 3, policy: "ring" },
    { name: "pmsg", types: ["pmsg"], pages: 2, policy: "ring" },
    { name: "ftrace", types: ["ftrace"], pages: 3, policy: "ring" },
  ],
};
