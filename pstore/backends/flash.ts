// The "flash" backend: zones over the raw erase units of the board's pstore region.

import type { ResidentBoard } from "../../boards/device";
import type { ZoneConfig } from "../../boards/types";
import type { Hal } from "../../hal/types";
import { regionPages } from "../../boards/device";
import type { Backend } from "../backend";
import { flashPages } from "../pages";
import { createZonedBackend } from "../zone";

export function createFlashBackend(hal: Hal, board: ResidentBoard, zones: ZoneConfig[], log: ((s: string) => void) | undefined): Backend {
  return createZonedBackend(
    "flash",
    function () {
      if (!hal.flash) throw new Error(board.name + ": no flash hal");
      return flashPages(hal.flash, regionPages(board));
    },
    hal.crc32,
    zones,
    log,
  );
}
