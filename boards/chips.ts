// Facts that belong to a chip (or a family of boards built on it) rather than to one board: each board file spreads
// the ones it shares and adds its own map, region and memory. Host-only data: the build bundles boards/device.ts's
// subset of the finished definition, never this file.

import type { BoardDefinition } from "./types";

type Shared = Partial<BoardDefinition>;

const NRF52_RESET = { kind: "nrf52", register: 0x40000400 } as const;
/** RAM above the stack end: not cleared by soft or watchdog resets in practice, but no region is reserved for it. */
const NRF52_RETAINED = { kind: "nrf52-ram", addr: 0, size: 256, verified: false } as const;
export const NRF52_TIMING = { programWordUs: 41, eraseMs: [{ bytes: 4096, ms: 85 }], readBytesPerMs: 8000, endurance: 10000, jsCompressBytesPerMs: 2 };

/** nRF52832 boards (Puck.js, Pixl.js, MDBT42Q): 2,600–2,950 variables, ten 4 KB pages below Storage. */
export const NRF52832_SMALL = {
  chip: "nRF52832",
  programUnit: 4,
  reprogram: { kind: "block-writes", block: 512, max: 181 },
  backend: "flash",
  storagePageSize: 4096,
  retained: NRF52_RETAINED,
  resetReason: NRF52_RESET,
  varBytes: 13,
  timing: NRF52_TIMING,
  codec: "heatshrink",
  lz4HashBits: 8,
  features: { retained: false, ftrace: false },
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 3, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 4, policy: "ring" },
    { name: "pmsg", types: ["pmsg"], pages: 3, policy: "ring" },
  ],
} satisfies Shared;

/** nRF52840 (Bangle.js 2, Jolt.js): 12,000 variables of 14 bytes. */
export const NRF52840 = {
  resetReason: NRF52_RESET,
  retained: NRF52_RETAINED,
  jsVars: 12000,
  varBytes: 14,
  codec: "heatshrink",
  lz4HashBits: 10,
  features: { retained: true, ftrace: true },
} satisfies Shared;

/** STM32F4 (Pico, WiFi): 16/64/128 KB sectors, RTC backup registers BKP1R–BKP19R (BKP0R is Espruino's). */
export const STM32F4 = {
  programUnit: 4,
  reprogram: { kind: "clear-only" },
  backend: "flash",
  storagePageSize: 4096,
  retained: { kind: "stm32f4-bkp", addr: 0x40002854, size: 76, verified: true },
  resetReason: { kind: "stm32f4", register: 0x40023874 },
  varBytes: 13,
  codec: "heatshrink",
  features: { retained: true, ftrace: true },
} satisfies Shared;

/** STM32F4 sector erase times: seconds, with the CPU stalled. */
export const STM32F4_TIMING = {
  programWordUs: 16,
  eraseMs: [{ bytes: 0x4000, ms: 400 }, { bytes: 0x10000, ms: 1200 }, { bytes: 0x20000, ms: 3000 }],
  readBytesPerMs: 8000,
  endurance: 10000,
};
