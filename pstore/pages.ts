// Erase units seen as numbered pages, so the zone engine works the same over raw flash and over Storage files.

import type { FlashHal, StorageHal } from "../hal/types";

export interface PageDevice {
  readonly pageCount: number;
  pageSize(i: number): number;
  /**
   * `len` bytes of page i from `off`. Given `into` (`len` bytes long), a device that can read without allocating
   * (Storage) fills it and returns it, or nothing (a zero-length array) for a page file not created yet, which is
   * erased: the boot scan takes it as blank without 0xFF bytes made up to check. Others return a new array.
   */
  read(i: number, off: number, len: number, into?: Uint8Array): Uint8Array;
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
 * Storage name of page N without its number. It starts with the Bangle.js app's id, so the App Loader's data entry
 * `pstore.p*` removes the pages on uninstall and matches no other app's files.
 */
export const PAGE_FILE_PREFIX = "pstore.p";

/**
 * One pre-allocated Storage file per page, `pstore.p0`, `pstore.p1`, … A missing file reads as erased; it is created
 * (0xFF-filled) on first program, and erasing re-creates it.
 */
export function storagePages(storage: StorageHal, pageCount: number, size: number): PageDevice {
  const absent = function (i: number): boolean {
    return !storage.read(PAGE_FILE_PREFIX + i, 0, 1);
  };
  return {
    pageCount: pageCount,
    pageSize: function () {
      return size;
    },
    read: function (i, off, len, into) {
      const b = storage.read(PAGE_FILE_PREFIX + i, off, len, into);
      if (b && b.length === len) return b;
      if (!b && into) return into.subarray(0, 0);
      // Past the file's end, or no file: erased bytes.
      const out = into || new Uint8Array(len);
      if (b && !into) out.set(b);
      out.fill(255, b ? b.length : 0);
      return out;
    },
    program: function (i, off, data) {
      // A page's first program is its page header, at 0: only then can the file be missing (each check is a
      // search of Storage, and a record takes three programs).
      if (!off && absent(i)) storage.create(PAGE_FILE_PREFIX + i, size);
      storage.write(PAGE_FILE_PREFIX + i, off, data);
    },
    erase: function (i) {
      storage.create(PAGE_FILE_PREFIX + i, size);
    },
  };
}
