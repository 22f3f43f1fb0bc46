// The "storage" backend: zones over pre-allocated Storage files pstore.p0, pstore.p1, … of board.storagePageSize bytes.

import type { ResidentBoard } from "../../boards/device";
import type { ZoneConfig } from "../../boards/types";
import type { Hal } from "../../hal/types";
import { zonePageCount } from "../../boards/geometry";
import type { Backend } from "../backend";
import { storagePages } from "../pages";
import { createZonedBackend } from "../zone";

export function createStorageBackend(hal: Hal, board: ResidentBoard, zones: ZoneConfig[], log: ((s: string) => void) | undefined): Backend {
  return createZonedBackend(
    "storage",
    function () {
      if (!hal.storage) throw new Error(board.name + ": no storage hal");
      return storagePages(hal.storage, zonePageCount(zones), board.storagePageSize!);
    },
    hal.crc32,
    zones,
    log,
  );
}
