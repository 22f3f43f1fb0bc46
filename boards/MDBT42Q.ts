import type { BoardDefinition } from "./types";
import { NRF52832_SMALL } from "./chips";

// nRF52832 module, same flash map as Puck.js; the firmware end is build dependent, so getFree() must confirm the region.
export const board: BoardDefinition = {
  ...NRF52832_SMALL,
  name: "MDBT42Q",
  flash: [{ addr: 0x62000, size: 4096, count: 20 }],
  storage: { addr: 0x6c000, size: 0xa000 },
  region: { addr: 0x62000, size: 0xa000, find: "getFree", verified: false },
  jsVars: 2950,
};
