// The part of a board definition the device code reads. The build bundles only this subset (deviceBoard), so the
// simulation-only facts (chip, timing, re-programming rule, Storage area, ...) cost the module nothing.

import type { BoardDefinition, BackendName, FlashSpan } from "./types";

export interface DeviceBoard {
  name: string;
  backend: BackendName;
  codec: BoardDefinition["codec"];
  zones: BoardDefinition["zones"];
  features: BoardDefinition["features"];
  /** Erase units covering the region (the flash backend's pages). */
  flash: FlashSpan[];
  region?: { addr: number; size: number };
  storagePageSize: number;
  retained?: BoardDefinition["retained"];
  resetReason: BoardDefinition["resetReason"];
  jsVars: number;
  lz4HashBits: number;
  timing: { jsCompressBytesPerMs: number };
}

/** The subset of `board` a bundle built for `backend` reads; spans and fields it cannot use are left out. */
export function deviceBoard(board: BoardDefinition): DeviceBoard {
  const region = board.backend === "flash" ? board.region : undefined;
  const out: DeviceBoard = {
    name: board.name,
    backend: board.backend,
    codec: board.codec,
    zones: board.zones,
    features: board.features,
    flash: region ? board.flash.filter((s) => s.addr < region.addr + region.size && s.addr + s.size * s.count > region.addr) : [],
    storagePageSize: board.storagePageSize,
    resetReason: board.resetReason,
    jsVars: board.jsVars,
    lz4HashBits: board.lz4HashBits,
    timing: { jsCompressBytesPerMs: board.timing.jsCompressBytesPerMs },
  };
  if (region) out.region = { addr: region.addr, size: region.size };
  if (board.retained && board.features.retained) out.retained = board.retained;
  return out;
}
