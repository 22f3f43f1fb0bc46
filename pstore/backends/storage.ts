// The "storage" backend: zones over pre-allocated Storage files pst0, pst1, … of board.storagePageSize bytes.

import type { BoardDefinition, ZoneConfig } from "../../boards/types";
import type { Hal } from "../../hal/types";
import { zonePageCount } from "../../boards/geometry";
import { StoragePages } from "../pages";
import { ZonedBackend } from "./zoned";

export function createStorageBackend(hal: Hal, board: BoardDefinition, zones: ZoneConfig[], log: ((s: string) => void) | undefined): ZonedBackend {
  return new ZonedBackend(
    "storage",
    function () {
      if (!hal.storage) throw new Error(board.name + ": no storage hal");
      return new StoragePages(hal.storage, zonePageCount(zones), board.storagePageSize);
    },
    hal.crc32,
    zones,
    log,
  );
}
