// The Hal on a real board. Each part lives in its own module so a bundle that needs only some of them can import
// those directly and leave the rest out; the build flags leave out the medium the bundle's backend does not use.

import type { ResidentBoard } from "../../boards/device";
import type { Hal } from "../types";
import { createDeviceClock } from "./clock";
import { createDeviceFlash } from "./flash";
import { createDeviceRetained } from "./retained";
import { createDeviceStorage } from "./storage";

export function deviceLog(text: string): void {
  console.log(text);
}

export function createDeviceHal(board: ResidentBoard): Hal {
  const hal: Hal = {
    // The native function itself (its result is unsigned): a JavaScript wrapper would cost a call per CRC.
    crc32: E.CRC32,
    clock: createDeviceClock(),
    log: deviceLog,
  };
  if (PSTORE_BACKEND === "storage") hal.storage = createDeviceStorage();
  else if (board.region) hal.flash = createDeviceFlash();
  // RAM above the stack needs the firmware to say where the stack ends (the Bangle.js 2 emulator does not).
  const retained = board.retained;
  if (PSTORE_RETAINED && retained && (retained.kind !== "nrf52-ram" || process.memory(false).stackEndAddress)) {
    hal.retained = createDeviceRetained(retained);
  }
  return hal;
}
