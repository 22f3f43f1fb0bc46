import type { BoardDefinition } from "./types";
import { STM32F4, STM32F4_TIMING } from "./chips";

// STM32F401CD. The only free flash is one 128 KB sector (an erase takes seconds), so a single keep-first zone holds everything.
export const board: BoardDefinition = {
  ...STM32F4,
  name: "PICO",
  chip: "STM32F401CD",
  flash: [
    { addr: 0x08004000, size: 0x4000, count: 3 },
    { addr: 0x08060000, size: 0x20000, count: 1 },
  ],
  storage: { addr: 0x08004000, size: 0xc000 },
  region: { addr: 0x08060000, size: 0x20000, find: "fixed", verified: true },
  jsVars: 5100,
  timing: { ...STM32F4_TIMING, jsCompressBytesPerMs: 3 },
  lz4HashBits: 9,
  zones: [{ name: "all", types: ["dmesg", "event", "console", "pmsg", "ftrace"], pages: 1, policy: "keep-first" }],
};
