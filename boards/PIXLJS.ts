import type { BoardDefinition } from "./types";

// nRF52832 with Storage one page higher than Puck.js; the firmware end is build dependent, so getFree() must confirm it.
// Old Pixl.js bootloaders clear RESETREAS before the firmware starts, so the reset reason may read 0.
export const board: BoardDefinition = {
  name: "PIXLJS",
  chip: "nRF52832",
  flash: [{ addr: 0x63000, size: 4096, count: 19 }],
  programUnit: 4,
  reprogram: { kind: "block-writes", block: 512, max: 181 },
  storage: { addr: 0x6d000, size: 0x9000 },
  backend: "flash",
  region: { addr: 0x63000, size: 0xa000, find: "getFree", verified: false },
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
