// The part of a board definition the device code reads. The build bundles only this subset (deviceBoard), so the
// simulation-only facts (chip, timing, re-programming rule, Storage area, ...) cost the module nothing.

import { Page, pagesOf } from "./geometry";
import type { BoardDefinition, BackendName, FlashSpan } from "./types";

export interface DeviceBoard {
  name: string;
  backend: BackendName;
  codec: BoardDefinition["codec"];
  zones: BoardDefinition["zones"];
  features: BoardDefinition["features"];
  /** Erase units covering the region: board definitions on the host (regionPages works the pages out from them). */
  flash?: FlashSpan[];
  /** The region's erase units in address order: worked out by the build for a device bundle (deviceBoard). */
  pages?: Page[];
  region?: { addr: number; size: number };
  /** The Storage area, on boards whose backend keeps its pages there: what `pstore dump` reads. */
  storage?: { addr: number; size: number };
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
    storagePageSize: board.storagePageSize,
    resetReason: board.resetReason,
    jsVars: board.jsVars,
    lz4HashBits: board.lz4HashBits,
    timing: { jsCompressBytesPerMs: board.timing.jsCompressBytesPerMs },
  };
  if (region) {
    out.region = { addr: region.addr, size: region.size };
    out.pages = pagesOf(board);
  }
  if (board.backend === "storage") out.storage = { addr: board.storage.addr, size: board.storage.size };
  if (board.retained && board.features.retained) out.retained = board.retained;
  return out;
}

/** Fields only boot-time code (the service module) reads: the resident module's board leaves them out (residentBoard). */
export type BootOnlyField = "zones" | "backend" | "codec" | "features" | "storage" | "storagePageSize" | "jsVars" | "lz4HashBits" | "timing" | "resetReason";

/** What the resident module (crash path, hooks, idle work) reads of the board; a DeviceBoard is one too. */
export type ResidentBoard = Omit<DeviceBoard, BootOnlyField> & Partial<Pick<DeviceBoard, BootOnlyField>>;

/**
 * The resident module's board: the boot-only fields are left out, except what the bundle's backend (Storage page
 * size) or codec (lz4's table size and speed) reads after boot.
 */
export function residentBoard(board: DeviceBoard): ResidentBoard {
  const out: ResidentBoard = { name: board.name };
  if (board.region) out.region = board.region;
  if (board.pages) out.pages = board.pages;
  if (board.retained) out.retained = board.retained;
  if (board.backend === "storage") out.storagePageSize = board.storagePageSize;
  if (board.codec === "lz4") {
    out.lz4HashBits = board.lz4HashBits;
    out.timing = board.timing;
  }
  return out;
}

/** The pages of the board's pstore region, in address order (empty when it has none). */
export function regionPages(board: ResidentBoard): Page[] {
  // A device bundle carries them ready-made, and so not the code that works them out.
  return typeof PSTORE_BOARD !== "undefined" ? board.pages || [] : pagesOf({ name: board.name, flash: board.flash || [], region: board.region });
}
