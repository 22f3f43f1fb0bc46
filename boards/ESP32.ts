import type { BoardDefinition } from "./types";

// SPI NOR behind the ESP32. The region is fixed: getFree() reports 0x360000, which overlaps Storage.
export const board: BoardDefinition = {
  name: "ESP32",
  chip: "ESP32",
  flash: [{ addr: 0x310000, size: 4096, count: 240 }],
  programUnit: 4,
  reprogram: { kind: "clear-only" },
  storage: { addr: 0x320000, size: 0xe0000 },
  backend: "flash",
  region: { addr: 0x310000, size: 0x10000, find: "fixed", verified: true },
  storagePageSize: 4096,
  retained: { kind: "esp32-rtc", addr: 0x50000000, size: 512, verified: false },
  resetReason: { kind: "none", register: 0 },
  jsVars: 16383,
  varBytes: 14,
  timing: { programWordUs: 11, eraseMs: [{ bytes: 4096, ms: 45 }], readBytesPerMs: 4000, endurance: 100000, jsCompressBytesPerMs: 6 },
  codec: "heatshrink",
  lz4HashBits: 10,
  features: { retained: true, ftrace: true },
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 4, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 5, policy: "ring" },
    { name: "pmsg", types: ["pmsg"], pages: 3, policy: "ring" },
    { name: "ftrace", types: ["ftrace"], pages: 4, policy: "ring" },
  ],
};
