// Erase units of a board: which unit holds an address, and the pages of the pstore region in order.

import type { BoardDefinition, FlashSpan, ZoneConfig } from "./types";

export interface Page {
  addr: number;
  size: number;
}

/** The erase unit holding `addr`, or undefined when no flash span of the board covers it. */
export function unitAt(spans: FlashSpan[], addr: number): Page | undefined {
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i];
    if (addr >= s.addr && addr < s.addr + s.size * s.count) {
      return { addr: s.addr + Math.floor((addr - s.addr) / s.size) * s.size, size: s.size };
    }
  }
  return undefined;
}

/**
 * Erase units covering `addr .. addr+size`, in address order; undefined when that range does not start and end on
 * unit boundaries or leaves the known spans.
 */
export function unitsIn(spans: FlashSpan[], addr: number, size: number): Page[] | undefined {
  const pages: Page[] = [];
  let at = addr;
  while (at < addr + size) {
    const unit = unitAt(spans, at);
    if (!unit || unit.addr !== at) return undefined;
    pages.push(unit);
    at += unit.size;
  }
  return at === addr + size ? pages : undefined;
}

/** Pages of the board's pstore region (empty when the board has none). */
export function pagesOf(board: Pick<BoardDefinition, "name" | "flash"> & { region?: { addr: number; size: number } }): Page[] {
  const region = board.region;
  if (!region) return [];
  const pages = unitsIn(board.flash, region.addr, region.size);
  if (!pages) throw new Error(board.name + ": region is not made of whole erase units");
  return pages;
}

/** Pages the zones take, in total. */
export function zonePageCount(zones: ZoneConfig[]): number {
  let n = 0;
  for (let i = 0; i < zones.length; i++) n += zones[i].pages;
  return n;
}
