// The layout a format-2 image carries (FORMAT.md, "Image files"), worked out from the board definition and the
// spans' bytes: the erase units under the spans, and pstore's pages in store order (the region's units for the
// flash backend; the live Storage files pstore.p0, pstore.p1, … for the storage backend).

import type { BoardDefinition } from "../../boards/types";
import { pagesOf, unitAt } from "../../boards/geometry";
import { imageHolds, readImage, type FlashImage, type ImageKind, type ImageLayout, type ImagePage, type ImageSpan, type ImageUnits } from "./image";
import { PAGE_FILE_PREFIX } from "../../pstore/pages";
import { STORAGE_HEADER_BYTES, storageHeaderAt, walkStorage, type StorageArea, type StoredFile } from "./storage-layout";

const PAGE_FILE = new RegExp(`^${PAGE_FILE_PREFIX.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(0|[1-9][0-9]*)$`);

export function describeLayout(board: BoardDefinition, kind: ImageKind, spans: ImageSpan[], data: Uint8Array[]): ImageLayout {
  const image: FlashImage = { board: board.name, kind, spans, data };
  const units = unitsUnder(board, spans);
  if (kind === "flash") {
    const pages = pagesOf(board);
    const missing = pages.find((p) => !spans.some((s) => p.addr >= s.addr && p.addr + p.size <= s.addr + s.size));
    if (missing) throw new Error(`${board.name}: the spans do not hold the region's page at 0x${missing.addr.toString(16)} (${missing.size} bytes)`);
    return { units, pages: pages.map((p) => ({ addr: p.addr, size: p.size })) };
  }
  return { units, pages: storagePagesIn(board, image), storage: { addr: board.storage.addr, size: board.storage.size } };
}

/** The board's erase units overlapping each span, as runs of equal, adjacent units. */
function unitsUnder(board: BoardDefinition, spans: ImageSpan[]): ImageUnits[] {
  const runs: ImageUnits[] = [];
  for (const span of spans) {
    let at = span.addr;
    while (at < span.addr + span.size) {
      const unit = unitAt(board.flash, at);
      if (!unit) throw new Error(`${board.name}: span 0x${span.addr.toString(16)}+${span.size} reaches 0x${at.toString(16)}, outside the board's flash`);
      const last = runs[runs.length - 1];
      if (last && last.size === unit.size && last.addr + last.size * last.count === unit.addr) last.count++;
      else if (!last || last.addr + last.size * last.count <= unit.addr) runs.push({ addr: unit.addr, size: unit.size, count: 1 });
      at = unit.addr + unit.size;
    }
  }
  return runs;
}

/**
 * The live Storage files named pstore.p<N>, in N order: found by the firmware's walk from the start of the area where
 * the spans hold it, and by a header at the start of any span (a dump sends each file as header plus data).
 */
function storagePagesIn(board: BoardDefinition, image: FlashImage): ImagePage[] {
  const start = board.storage.addr;
  const end = start + board.storage.size;
  const area: StorageArea = {
    start,
    end,
    align: Math.max(4, board.programUnit),
    read: (addr, length) => (imageHolds(image, addr, length) ? readImage(image, addr, length) : new Uint8Array(length).fill(0xff)),
    nextPage: (addr) => {
      const unit = unitAt(board.flash, addr);
      return unit && unit.addr + unit.size < end ? unit.addr + unit.size : undefined;
    },
  };
  const found: StoredFile[] = [...walkStorage(area)];
  for (const span of image.spans) {
    if (span.addr < start || span.addr >= end || found.some((f) => f.addr === span.addr)) continue;
    const file = storageHeaderAt(area, span.addr);
    if (file) found.push(file);
  }
  const byIndex = new Map<number, StoredFile>();
  for (const file of found) {
    const m = PAGE_FILE.exec(file.name);
    if (!m || file.deleted || byIndex.has(+m[1])) continue;
    byIndex.set(+m[1], file);
  }
  return [...byIndex.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, f]) => ({ addr: f.addr + STORAGE_HEADER_BYTES, size: f.size, file: f.name, header: f.addr }));
}
