// The "flash" backend: zones over the raw erase units of the board's pstore region.

import type { BoardDefinition, ZoneConfig } from "../../boards/types";
import type { Hal } from "../../hal/types";
import { pagesOf } from "../../boards/geometry";
import { FlashPages } from "../pages";
import { ZonedBackend } from "./zoned";

export function createFlashBackend(hal: Hal, board: BoardDefinition, zones: ZoneConfig[], log: ((s: string) => void) | undefined): ZonedBackend {
  return new ZonedBackend(
    "flash",
    function () {
      if (!hal.flash) throw new Error(board.name + ": no flash hal");
      return new FlashPages(hal.flash, pagesOf(board));
    },
    hal.crc32,
    zones,
    log,
  );
}
