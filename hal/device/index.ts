// The Hal on a real board. Each part lives in its own module so a bundle that needs only some of them can import
// those directly and leave the rest out.

import type { BoardDefinition } from "../../boards/types";
import type { Hal } from "../types";
import { createDeviceClock } from "./clock";
import { createDeviceFlash } from "./flash";
import { createDeviceReset } from "./reset";
import { createDeviceRetained } from "./retained";
import { createDeviceStorage } from "./storage";

export function deviceCrc32(data: Uint8Array): number {
  return E.CRC32(data) >>> 0;
}

export function deviceLog(text: string): void {
  console.log(text);
}

export function createDeviceHal(board: BoardDefinition): Hal {
  const hal: Hal = {
    crc32: deviceCrc32,
    clock: createDeviceClock(),
    reset: createDeviceReset(board.resetReason.kind, board.resetReason.register),
    storage: createDeviceStorage(),
    log: deviceLog,
  };
  if (board.region) hal.flash = createDeviceFlash();
  if (board.retained && board.features.retained) hal.retained = createDeviceRetained(board.retained);
  return hal;
}
