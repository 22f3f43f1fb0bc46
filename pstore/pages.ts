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
export class FlashPages implements PageDevice {
  readonly pageCount: number;
  constructor(
    private flash: FlashHal,
    private units: PageUnit[],
  ) {
    this.pageCount = units.length;
  }
  pageSize(i: number): number {
    return this.units[i].size;
  }
  read(i: number, off: number, len: number): Uint8Array {
    return this.flash.read(this.units[i].addr + off, len);
  }
  program(i: number, off: number, data: Uint8Array): void {
    this.flash.program(this.units[i].addr + off, data);
  }
  erase(i: number): void {
    this.flash.erase(this.units[i].addr);
  }
}

/**
 * One pre-allocated Storage file per page, `pst0`, `pst1`, … A missing file reads as erased; it is created
 * (0xFF-filled) on first program, and erasing re-creates it.
 */
export class StoragePages implements PageDevice {
  constructor(
    private storage: StorageHal,
    readonly pageCount: number,
    private size: number,
  ) {}
  pageSize(): number {
    return this.size;
  }
  read(i: number, off: number, len: number): Uint8Array {
    const b = this.storage.read("pst" + i, off, len);
    if (b && b.length === len) return b;
    const out = new Uint8Array(len);
    out.fill(255);
    if (b) out.set(b);
    return out;
  }
  program(i: number, off: number, data: Uint8Array): void {
    if (!this.storage.read("pst" + i, 0, 1)) this.storage.create("pst" + i, this.size);
    this.storage.write("pst" + i, off, data);
  }
  erase(i: number): void {
    this.storage.create("pst" + i, this.size);
  }
}
