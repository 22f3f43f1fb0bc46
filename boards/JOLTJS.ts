import type { BoardDefinition } from "./types";
import { NRF52840, NRF52_TIMING } from "./chips";

// nRF52840: two programs per word between erases. The region sits just below Storage; getFree() must confirm it.
export const board: BoardDefinition = {
  ...NRF52840,
  name: "JOLTJS",
  chip: "nRF52840",
  flash: [{ addr: 0x87000, size: 4096, count: 110 }],
  programUnit: 4,
  reprogram: { kind: "word-writes", max: 2 },
  storage: { addr: 0x91000, size: 0x64000 },
  backend: "flash",
  region: { addr: 0x87000, size: 0xa000, find: "getFree", verified: false },
  storagePageSize: 4096,
  timing: NRF52_TIMING,
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 2, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 3, policy: "ring" },
    { name: "pmsg", types: ["pmsg"], pages: 2, policy: "ring" },
    { name: "ftrace", types: ["ftrace"], pages: 3, policy: "ring" },
  ],
};
