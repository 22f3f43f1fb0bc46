// Erase units seen as numbered pages, so the zone engine works the same over raw flash and over Storage files.

import type { FlashHal, StorageHal } from "../hal/types";

export interface PageDevice {
  readonly pageCount: number;
  pageSize(i: number): number;
  read(i: number, off: number, len: number): Uint8Array;
  /** Programs whole, 4-byte-aligned, never-programmed words. */
  program(i: number, off: number, data: Uint8Array): void;
  erase(i: number): void;
}

export interface PageUnit {
  addr: number;
  size: number;
}

/** Raw flash pages: the erase units of the board's pstore region, in address order. */
export function flashPages(flash: FlashHal, units: PageUnit[]): PageDevice {
  return {
    pageCount: units.length,
    pageSize: function (i) {
      return units[i].size;
    },
    read: function (i, off, len) {
      return flash.read(units[i].addr + off, len);
    },
    program: function (i, off, data) {
      flash.program(units[i].addr + off, data);
    },
    erase: function (i) {
      flash.erase(units[i].addr);
    },
  };
}

/**
 * One pre-allocated Storage file per page, `pst0`, `pst1`, … A missing file reads as erased; it is created
 * (0xFF-filled) on first program, and erasing re-creates it.
 */
export function storagePages(storage: StorageHal, pageCount: number, size: number): PageDevice {
  return {
    pageCount: pageCount,
    pageSize: function () {
      return size;
    },
    read: function (i, off, len) {
      const b = storage.read("pst" + i, off, len);
      if (b && b.length === len) return b;
      const out = new Uint8Array(len);
      out.fill(255);
      if (b) out.set(b);
      return out;
    },
    program: function (i, off, data) {
      if (!storage.read("pst" + i, 0, 1)) storage.create("pst" + i, size);
      storage.write("pst" + i, off, data);
    },
    erase: function (i) {
      storage.create("pst" + i, size);
    },
  };
}
