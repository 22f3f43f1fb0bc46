// Espruino's Storage on the host, laid out in the simulated flash's Storage area so that every file operation is
// a counted, rule-checked, power-cuttable flash operation. The semantics pstore depends on (ESPRUINO.md §4):
// pre-allocated files are 0xFF-filled; writing onto bytes that are not 0xFF throws; replacing a file marks the old
// one deleted first; running out of space compacts the area, which is not power-fail safe; a corrupt area found at
// boot is wiped (except on Bangle.js).
//
// Layout (simplified from Espruino's): files one after another from the area start, each a 32-byte header
// (u32 data size, u32 state 0xFFFFFFFF live / 0 deleted, 24-byte NUL-padded name) then the data, padded to 4 bytes.
// A header whose size word is 0xFFFFFFFF marks the start of free space.

import type { BoardDefinition } from "../../boards/types";
import type { StorageHal } from "../types";
import type { SimFlash } from "./flash";

export const STORAGE_HEADER_BYTES = 32;
export const STORAGE_NAME_BYTES = 24;
const FREE = 0xffffffff;

export interface StoredFile {
  name: string;
  /** Absolute address of the file's header. */
  addr: number;
  size: number;
  live: boolean;
}

export interface StorageScan {
  files: StoredFile[];
  /** Absolute address where free space starts (the area end when full or corrupt). */
  end: number;
  /** Address of a header that makes no sense, when one was found. */
  corruptAt?: number;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

function decodeName(bytes: Uint8Array): string | undefined {
  let name = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 0) break;
    if (c < 0x20 || c > 0x7e) return undefined;
    name += String.fromCharCode(c);
  }
  return name.length > 0 ? name : undefined;
}

/** Lists the files in the bytes of a Storage area starting at `base` (used by SimStorage and by image decoders). */
export function scanStorage(area: Uint8Array, base: number): StorageScan {
  const files: StoredFile[] = [];
  let at = 0;
  while (at + STORAGE_HEADER_BYTES <= area.length) {
    const size = u32(area, at);
    if (size === FREE) return { files, end: base + at };
    const state = u32(area, at + 4);
    const name = decodeName(area.subarray(at + 8, at + STORAGE_HEADER_BYTES));
    const next = at + STORAGE_HEADER_BYTES + pad4(size);
    if (next > area.length || name === undefined || (state !== FREE && state !== 0)) {
      return { files, end: base + area.length, corruptAt: base + at };
    }
    files.push({ name, addr: base + at, size, live: state === FREE });
    at = next;
  }
  return { files, end: base + area.length };
}

/** Data of the live files found in a Storage area's bytes, by name. */
export function readStorageFiles(area: Uint8Array, base: number): { [name: string]: Uint8Array } {
  const out: { [name: string]: Uint8Array } = {};
  for (const f of scanStorage(area, base).files) {
    if (!f.live) continue;
    const at = f.addr - base + STORAGE_HEADER_BYTES;
    out[f.name] = area.slice(at, at + f.size);
  }
  return out;
}

export interface SimStorageOptions {
  /** Erase the whole area when a corrupt header is found at mount (Espruino does, except on Bangle.js). */
  wipeWhenCorrupt?: boolean;
}

export class SimStorage implements StorageHal {
  private readonly base: number;
  private readonly areaSize: number;
  private files: StoredFile[] = [];
  private end = 0;
  private readonly wipeWhenCorrupt: boolean;
  /** Times the area was compacted or wiped, for tests and the cost model. */
  compactions = 0;
  wipes = 0;

  constructor(
    private readonly flash: SimFlash,
    private readonly board: BoardDefinition,
    options: SimStorageOptions = {},
  ) {
    this.base = board.storage.addr;
    this.areaSize = board.storage.size;
    this.wipeWhenCorrupt = options.wipeWhenCorrupt ?? !board.name.startsWith("BANGLE");
    this.mount();
  }

  /** Re-reads the area as the firmware does at boot (call after a power cut and `flash.powerOn()`). */
  mount(): void {
    const scan = scanStorage(this.flash.peek(this.base, this.areaSize), this.base);
    if (scan.corruptAt !== undefined && this.wipeWhenCorrupt) {
      this.wipes++;
      this.eraseArea();
      this.files = [];
      this.end = this.base;
      return;
    }
    this.files = scan.files;
    this.end = scan.end;
  }

  read(name: string, offset: number, length: number): Uint8Array | undefined {
    const file = this.find(name);
    if (!file) return undefined;
    const start = Math.min(Math.max(offset, 0), file.size);
    const stop = Math.min(start + Math.max(length, 0), file.size);
    return this.flash.read(file.addr + STORAGE_HEADER_BYTES + start, stop - start);
  }

  create(name: string, size: number): void {
    const nameBytes = this.encodeName(name);
    if (!(size >= 0) || Math.floor(size) !== size) throw new Error(`Storage.write: size of "${name}" must be a whole number, got ${size}`);
    this.remove(name);
    const needed = STORAGE_HEADER_BYTES + pad4(size);
    if (this.end + needed > this.base + this.areaSize) this.compact();
    if (this.end + needed > this.base + this.areaSize) {
      throw new Error(`Storage.write: not enough free space for "${name}" (${needed} bytes, ${this.base + this.areaSize - this.end} free)`);
    }
    const header = new Uint8Array(STORAGE_HEADER_BYTES).fill(0xff);
    new DataView(header.buffer).setUint32(0, size, true);
    header.fill(0, 8);
    header.set(nameBytes, 8);
    const addr = this.end;
    this.flash.program(addr, header);
    this.files.push({ name, addr, size, live: true });
    this.end = addr + needed;
  }

  write(name: string, offset: number, data: Uint8Array): void {
    const file = this.find(name);
    if (!file) throw new Error(`Storage.write: file "${name}" does not exist (create it with a size first)`);
    if (offset < 0 || offset + data.length > file.size) {
      throw new Error(`Storage.write: ${data.length} bytes at offset ${offset} do not fit in "${name}" (${file.size} bytes)`);
    }
    const addr = file.addr + STORAGE_HEADER_BYTES + offset;
    const current = this.flash.peek(addr, data.length);
    for (let i = 0; i < current.length; i++) {
      if (current[i] !== 0xff) throw new Error(`Storage.write: re-writing written bytes of "${name}" at offset ${offset + i}`);
    }
    // Like the firmware, an unaligned head or tail is read, merged and programmed again as a whole unit.
    const unit = this.board.programUnit;
    const start = addr - (addr % unit);
    const stop = Math.ceil((addr + data.length) / unit) * unit;
    const merged = this.flash.peek(start, stop - start);
    merged.set(data, addr - start);
    this.flash.program(start, merged);
  }

  remove(name: string): void {
    const file = this.find(name);
    if (!file) return;
    this.flash.program(file.addr + 4, new Uint8Array(4));
    file.live = false;
  }

  /** Live file names, in the order they were created. */
  list(): string[] {
    return this.files.filter((f) => f.live).map((f) => f.name);
  }

  /** Bytes left at the end of the area before a compaction would be needed. */
  freeBytes(): number {
    return this.base + this.areaSize - this.end;
  }

  /** Moves every live file to the start of the area. Not power-fail safe, like the firmware's. */
  compact(): void {
    const live = this.files
      .filter((f) => f.live)
      .map((f) => ({ file: f, header: this.flash.peek(f.addr, STORAGE_HEADER_BYTES), data: this.flash.peek(f.addr + STORAGE_HEADER_BYTES, pad4(f.size)) }));
    this.compactions++;
    this.files = [];
    this.end = this.base;
    this.eraseArea();
    for (const entry of live) {
      const addr = this.end;
      this.flash.program(addr, entry.header);
      // Only the written part is copied; the rest stays erased so the file can still be filled.
      let used = entry.data.length;
      while (used > 0 && entry.data[used - 1] === 0xff) used--;
      used = pad4(used);
      if (used > 0) this.flash.program(addr + STORAGE_HEADER_BYTES, entry.data.subarray(0, used));
      this.files.push({ name: entry.file.name, addr, size: entry.file.size, live: true });
      this.end = addr + STORAGE_HEADER_BYTES + entry.data.length;
    }
  }

  private eraseArea(): void {
    for (let at = this.base; at < this.base + this.areaSize; ) {
      const unit = this.flash.unitAt(at);
      this.flash.erase(unit.addr);
      at = unit.addr + unit.size;
    }
  }

  private find(name: string): StoredFile | undefined {
    for (let i = this.files.length - 1; i >= 0; i--) if (this.files[i].live && this.files[i].name === name) return this.files[i];
    return undefined;
  }

  private encodeName(name: string): Uint8Array {
    if (name.length === 0 || name.length > STORAGE_NAME_BYTES || decodeName(new TextEncoder().encode(name)) !== name) {
      throw new Error(`Storage: invalid file name "${name}" (1..${STORAGE_NAME_BYTES} printable ASCII characters)`);
    }
    return new TextEncoder().encode(name);
  }
}
