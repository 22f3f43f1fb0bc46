import type { BoardDefinition } from "./types";

// nRF52832 module, same flash map as Puck.js; the firmware end is build dependent, so getFree() must confirm the region.
export const board: BoardDefinition = {
  name: "MDBT42Q",
  chip: "nRF52832",
  flash: [{ addr: 0x62000, size: 4096, count: 20 }],
  programUnit: 4,
  reprogram: { kind: "block-writes", block: 512, max: 181 },
  storage: { addr: 0x6c000, size: 0xa000 },
  backend: "flash",
  region: { addr: 0x62000, size: 0xa000, find: "getFree", verified: false },
  storagePageSize: 4096,
  retained: { kind: "nrf52-ram", addr: 0, size: 256, verified: false },
  resetReason: { kind: "nrf52", register: 0x40000400 },
  jsVars: 2950,
  varBytes: 13,
  timing: { programWordUs: 41, eraseMs: [{ bytes: 4096, ms: 85 }], readBytesPerMs: 8000, endurance: 10000, jsCompressBytesPerMs: 2 },
  codec: "heatshrink",
  lz4HashBits: 8,
  features: { retained: false, ftrace: false },
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 3, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 4, policy: "ring" },
    { name: "pmsg", types: ["pmsg"], pages: 3, policy: "ring" },
  ],
};
