import type { BoardDefinition } from "./types";
import { NRF52840 } from "./chips";

// nRF52840 with Storage on 8 MB of SPI NOR. Which internal pages are free is not known, so pstore uses Storage files;
// the simulated spans are the SPI NOR, whose only rule is that programming clears bits.
// Old Bangle.js bootloaders clear RESETREAS before the firmware starts, so the reset reason may read 0.
export const board: BoardDefinition = {
  ...NRF52840,
  name: "BANGLEJS2",
  chip: "nRF52840 + SPI NOR",
  flash: [{ addr: 0x60000000, size: 4096, count: 2048 }],
  programUnit: 4,
  reprogram: { kind: "clear-only" },
  storage: { addr: 0x60000000, size: 0x800000 },
  backend: "storage",
  storagePageSize: 4096,
  timing: { programWordUs: 11, eraseMs: [{ bytes: 4096, ms: 45 }], readBytesPerMs: 2000, endurance: 100000, jsCompressBytesPerMs: 2 },
  zones: [
    { name: "dmesg", types: ["dmesg", "event"], pages: 4, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 5, policy: "ring" },
    { name: "pmsg", types: ["pmsg"], pages: 3, policy: "ring" },
    { name: "ftrace", types: ["ftrace"], pages: 4, policy: "ring" },
  ],
};
