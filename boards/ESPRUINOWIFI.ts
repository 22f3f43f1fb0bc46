import type { BoardDefinition } from "./types";
import { STM32F4, STM32F4_TIMING } from "./chips";

// STM32F411CE. Three free 16 KB sectors: too few for a ring per type, so console, pmsg and ftrace share one ring.
export const board: BoardDefinition = {
  ...STM32F4,
  name: "ESPRUINOWIFI",
  chip: "STM32F411CE",
  flash: [
    { addr: 0x08004000, size: 0x4000, count: 3 },
    { addr: 0x08010000, size: 0x10000, count: 1 },
  ],
  storage: { addr: 0x08010000, size: 0x10000 },
  region: { addr: 0x08004000, size: 0xc000, find: "fixed", verified: true },
  jsVars: 8190,
  timing: { ...STM32F4_TIMING, jsCompressBytesPerMs: 4 },
  lz4HashBits: 10,
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 1, policy: "keep-first" },
    { name: "log", types: ["console", "pmsg", "ftrace"], pages: 2, policy: "ring" },
  ],
};
