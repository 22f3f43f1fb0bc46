import type { BoardDefinition } from "./types";
import { NRF52832_SMALL } from "./chips";

// nRF52832 with Storage one page higher than Puck.js; the firmware end is build dependent, so getFree() must confirm it.
// Old Pixl.js bootloaders clear RESETREAS before the firmware starts, so the reset reason may read 0.
export const board: BoardDefinition = {
  ...NRF52832_SMALL,
  name: "PIXLJS",
  flash: [{ addr: 0x63000, size: 4096, count: 19 }],
  storage: { addr: 0x6d000, size: 0x9000 },
  region: { addr: 0x63000, size: 0xa000, find: "getFree", verified: false },
  jsVars: 2950,
};
