// Espruino's Storage file system (jsflash.c) on the simulated flash, in its on-flash layout, so files persist in a
// flash image, every write is a counted, rule-checked, power-cuttable flash operation, and a power cut leaves what
// it would leave on the chip. The semantics pstore depends on (ESPRUINO.md §4): pre-allocated files are 0xFF-filled;
// writing onto bytes that are not 0xFF throws; replacing a file marks the old one deleted first; running out of
// space compacts the area, which is not power-fail safe; a corrupt area found at boot is wiped (except on Bangle.js).
//
// Layout: each file is a 32-byte header (u32 size | flags << 24, 28-byte zero-padded name) then its data, the next
// header at the next word boundary. Deleting programs the first name word to 0. Compaction (when a new file does not
// fit) rewrites the live files from the start of the area.
// Simplified: compaction copies everything through RAM; no filename table; no StorageFile (`open`).
//
// Two thin layers sit on it: `SimStorage` (the StorageHal the core's `storage` backend runs on) and the simulated
// Espruino's `require("Storage")` (tools/sim/espruino/storage.ts).

import type { BoardDefinition } from "../../boards/types";
import type { StorageHal } from "../types";
import { firmwareFlashWrite, firmwareWordSize, SimFlash } from "./flash";
import { STORAGE_HEADER_BYTES, STORAGE_NAME_BYTES, alignUp, storageHeaderAt, walkStorage, type StorageArea, type StoredFile } from "./storage-layout";

export { STORAGE_HEADER_BYTES, STORAGE_NAME_BYTES, type StoredFile } from "./storage-layout";
/** The firmware's exception when a file fits nowhere, even after compaction. */
const NO_SPACE = "Unable to find or create file";

export enum FileFlags {
  None = 0,
  StorageFile = 64,
  Compressed = 128,
}

export interface StorageStats {
  totalBytes: number;
  freeBytes: number;
  fileBytes: number;
  fileCount: number;
  trashBytes: number;
  trashCount: number;
}

/** Thrown where the firmware raises a JS exception (jsExceptionHere), with the firmware's message. */
export class StorageError extends Error {}

export interface EspruinoStorageOptions {
  /** Console output of the firmware's own messages ("Compacting...", "Storage is corrupt."). */
  say?: (text: string) => void;
  /** Erase the whole area when it is found corrupt at boot (Espruino does, except on Bangle.js). */
  wipeWhenCorrupt?: boolean;
}

export class EspruinoStorage {
  /** Times the area was compacted or wiped, for tests and the cost model. */
  compactions = 0;
  wipes = 0;
  private readonly start: number;
  private readonly end: number;
  private readonly align: number;
  private readonly say: (text: string) => void;
  private readonly wipeWhenCorrupt: boolean;
  private readonly removals = new Map<string, number>();

  constructor(
    readonly flash: SimFlash,
    options: EspruinoStorageOptions = {},
  ) {
    const board = flash.board;
    this.start = board.storage.addr;
    this.end = board.storage.addr + board.storage.size;
    this.align = firmwareWordSize(flash);
    this.say = options.say ?? (() => {});
    this.wipeWhenCorrupt = options.wipeWhenCorrupt ?? !board.name.startsWith("BANGLEJS");
  }

  // ---- the Storage API ----

  /** Bytes of a file from `offset`; `length` 0 reads to the end. */
  read(name: string, offset = 0, length = 0): Uint8Array | undefined {
    const file = this.find(name);
    if (!file) return undefined;
    let off = Math.max(0, offset | 0);
    if (off > file.size) off = file.size;
    let len = length > 0 ? length | 0 : file.size;
    if (off + len > file.size) len = file.size - off;
    if (len <= 0) return new Uint8Array(0);
    return this.flash.read(file.addr + STORAGE_HEADER_BYTES + off, len);
  }

  /** jsfWriteFile: creates, replaces, or fills a pre-allocated file at `offset`. */
  write(name: string, data: Uint8Array, offset = 0, size = 0, flags = FileFlags.None): true {
    checkName(name);
    if (offset < 0 || size < 0) throw new StorageError("Offset and size must be positive");
    let fileSize = size > 0 ? size : data.length;
    if (fileSize === 0) throw new StorageError("Can't create zero length file");
    let file = this.find(name);
    if (!file && offset === 0) {
      file = this.create(name, fileSize, flags);
    } else if (file && offset === 0 && (file.flags !== flags || file.size !== fileSize || !this.isErased(file.addr + STORAGE_HEADER_BYTES, fileSize))) {
      if (file.size === fileSize && file.flags === flags && data.length === fileSize && equal(this.flash.read(file.addr + STORAGE_HEADER_BYTES, fileSize), data)) {
        return true;
      }
      this.eraseHeader(file);
      file = this.create(name, fileSize, flags);
    }
    if (!file) throw new StorageError(NO_SPACE);
    fileSize = file.size;
    if (offset + data.length > fileSize) throw new StorageError("Too much data for file size");
    const at = file.addr + STORAGE_HEADER_BYTES + offset;
    if (!this.isErased(at, data.length)) throw new StorageError("File already written with different data");
    firmwareFlashWrite(this.flash, at, data);
    return true;
  }

  erase(name: string): void {
    const file = this.find(name);
    if (file) this.eraseHeader(file);
  }

  eraseAll(): void {
    for (const unit of this.units()) this.flash.erase(unit.addr);
  }

  list(): string[] {
    const out: string[] = [];
    for (const h of this.headers()) if (isReal(h) && !(h.flags & FileFlags.StorageFile)) out.push(h.name);
    return out;
  }

  stats(): StorageStats {
    const s: StorageStats = { totalBytes: this.end - this.start, freeBytes: 0, fileBytes: 0, fileCount: 0, trashBytes: 0, trashCount: 0 };
    let last = this.start;
    for (const h of this.headers()) {
      const bytes = this.alignUp(h.size) + STORAGE_HEADER_BYTES;
      last = h.addr + bytes;
      if (h.deleted) {
        s.trashBytes += bytes;
        s.trashCount++;
      } else {
        s.fileBytes += bytes;
        s.fileCount++;
      }
    }
    s.freeBytes = this.end - last;
    return s;
  }

  /** Rewrites the live files from the start of the area; false when there was nothing deleted to drop. */
  compact(): boolean {
    const live: Array<{ header: Uint8Array; data: Uint8Array }> = [];
    let trash = false;
    for (const h of this.headers()) {
      if (!isReal(h)) {
        trash = true;
        continue;
      }
      live.push({ header: this.flash.read(h.addr, STORAGE_HEADER_BYTES), data: this.flash.read(h.addr + STORAGE_HEADER_BYTES, this.alignUp(h.size)) });
    }
    if (!trash) return false;
    this.say("Compacting... \n");
    this.compactions++;
    this.eraseAll();
    let at = this.start;
    for (const f of live) {
      firmwareFlashWrite(this.flash, at, f.header);
      // Only the written part is copied; the rest stays erased so a pre-allocated file can still be filled.
      const used = trimErased(f.data);
      if (used.length > 0) firmwareFlashWrite(this.flash, at + STORAGE_HEADER_BYTES, used);
      at += STORAGE_HEADER_BYTES + f.data.length;
    }
    return true;
  }

  /** jsfIsStorageValid(JSFSTT_NORMAL): the chain of headers ends in an erased header (or a full area). */
  isValid(): boolean {
    let stop = this.start;
    let full = false;
    for (const h of this.headers((next) => {
      stop = next;
      full = next + STORAGE_HEADER_BYTES > this.end;
    })) {
      stop = h.addr;
    }
    if (full) return true;
    const probe = this.flash.read(stop, Math.min(STORAGE_HEADER_BYTES, this.end - stop));
    if (!probe.every((b) => b === 0xff)) return false;
    return stop !== this.start || this.isErased(this.start, this.end - this.start);
  }

  /** The check at boot (jsiSemiInit): a corrupt area is erased where the firmware does so. True when it was wiped. */
  checkAtBoot(): boolean {
    if (!this.wipeWhenCorrupt || this.isValid()) return false;
    this.say("Storage is corrupt.\nErasing Storage Area...\n");
    this.eraseAll();
    this.say("Erase complete.\n");
    this.wipes++;
    return true;
  }

  /** The live file called `name`. */
  find(name: string): StoredFile | undefined {
    for (const h of this.headers()) if (!h.deleted && h.name === name) return h;
    return undefined;
  }

  /** Every header the firmware's walk finds, deleted ones included. */
  files(): StoredFile[] {
    return [...this.headers()];
  }

  // ---- internals ----

  private alignUp(n: number): number {
    return alignUp(n, this.align);
  }

  private units(): Array<{ addr: number; size: number }> {
    return this.flash.units().filter((u) => u.addr >= this.start && u.addr < this.end);
  }

  private headerAt(addr: number): StoredFile | undefined {
    return storageHeaderAt(this.reader, addr);
  }

  /** Every header, as jsfGetNextFileHeader(GNFH_GET_ALL) walks them; `onStop` gets the address where the walk ended. */
  private headers(onStop?: (next: number) => void): Generator<StoredFile> {
    return walkStorage(this.reader, onStop);
  }

  private get reader(): StorageArea {
    return { start: this.start, end: this.end, align: this.align, read: (a, n) => this.flash.read(a, n), nextPage: (a) => this.nextPage(a) };
  }

  private nextPage(addr: number): number | undefined {
    const unit = this.flash.unitAt(addr);
    const next = unit.addr + unit.size;
    return next < this.end ? next : undefined;
  }

  private isErased(addr: number, length: number): boolean {
    return length === 0 || this.flash.read(addr, length).every((b) => b === 0xff);
  }

  private spaceLeftInPage(addr: number): number {
    let next = this.nextPage(addr) ?? this.end;
    if (next < this.end && !this.headerAt(next)) next = this.end;
    return next - addr;
  }

  /** _jsfCreateFile: first hole big enough, page by page; compacts once if the trash would make room. */
  private create(name: string, size: number, flags: number): StoredFile | undefined {
    const required = this.alignUp(size) + STORAGE_HEADER_BYTES;
    for (let attempt = 0; attempt < 2; attempt++) {
      let free = 0;
      let trash = 0;
      let addr: number | undefined = this.start;
      while (addr !== undefined) {
        let h = this.headerAt(addr);
        while (h) {
          if (h.deleted) trash += h.size;
          const next = this.alignUp(h.addr + STORAGE_HEADER_BYTES + h.size);
          if (next + STORAGE_HEADER_BYTES > this.end) {
            addr = undefined;
            break;
          }
          addr = next;
          h = this.headerAt(next);
        }
        if (addr === undefined) break;
        const space = this.spaceLeftInPage(addr);
        free += space;
        if (space >= required) return this.writeHeader(addr, name, size, flags);
        addr = this.nextPage(addr);
      }
      if (attempt > 0 || required >= free + trash || !this.compact()) return undefined;
    }
    return undefined;
  }

  private writeHeader(addr: number, name: string, size: number, flags: number): StoredFile {
    const raw = new Uint8Array(STORAGE_HEADER_BYTES);
    new DataView(raw.buffer).setUint32(0, (size | (flags << 24)) >>> 0, true);
    raw.set(Buffer.from(name, "latin1"), 4);
    firmwareFlashWrite(this.flash, addr, raw);
    return { addr, size, flags, name, deleted: false };
  }

  /** Programs the first name word to zero (on STM32F1 too: the chip takes 0x0000 over any half-word). */
  private eraseHeader(h: StoredFile): void {
    firmwareFlashWrite(this.flash, h.addr + 4, new Uint8Array(4));
    this.removals.set(h.name, this.removal(h.name) + 1);
  }

  /** How many times a file of this name was erased or replaced since the simulation started (code from it is dead). */
  removal(name: string): number {
    return this.removals.get(name) ?? 0;
  }
}

function isReal(h: StoredFile): boolean {
  return !h.deleted && (h.flags === FileFlags.None || h.flags === FileFlags.StorageFile || h.flags === FileFlags.Compressed);
}

function checkName(name: string): void {
  if (name.length === 0 || name.length > STORAGE_NAME_BYTES) {
    throw new StorageError(`Storage file name must be 1..${STORAGE_NAME_BYTES} characters, got "${name}"`);
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Drops trailing 0xFF bytes, which need no programming. */
function trimErased(data: Uint8Array): Uint8Array {
  let n = data.length;
  while (n > 0 && data[n - 1] === 0xff) n--;
  return data.subarray(0, n);
}

/** Data of the live files in the bytes of a board's Storage area (an image's), by name, as the firmware finds them. */
export function readStorageFiles(area: Uint8Array, board: BoardDefinition): { [name: string]: Uint8Array } {
  const flash = new SimFlash(board);
  flash.poke(board.storage.addr, area);
  const storage = new EspruinoStorage(flash);
  const out: { [name: string]: Uint8Array } = {};
  for (const name of storage.list()) out[name] = storage.read(name)!;
  return out;
}

export interface SimStorageOptions {
  /** Erase the whole area when it is found corrupt at mount (default: as the board's firmware does). */
  wipeWhenCorrupt?: boolean;
}

/**
 * The StorageHal over Espruino's Storage, calling it as the device HAL (hal/device/storage.ts) does, and refusing
 * what the HAL contract forbids with an error that names the file.
 */
export class SimStorage implements StorageHal {
  /** The Storage area the files live in. */
  readonly area: EspruinoStorage;

  constructor(flash: SimFlash, options: SimStorageOptions = {}) {
    this.area = new EspruinoStorage(flash, { wipeWhenCorrupt: options.wipeWhenCorrupt });
    this.mount();
  }

  get compactions(): number {
    return this.area.compactions;
  }

  get wipes(): number {
    return this.area.wipes;
  }

  /** The firmware's check at boot (call after a power cut and `flash.powerOn()`). */
  mount(): void {
    this.area.checkAtBoot();
  }

  read(name: string, offset: number, length: number, into?: Uint8Array): Uint8Array | undefined {
    if (length <= 0) return this.area.find(name) ? new Uint8Array(0) : undefined;
    const bytes = this.area.read(name, offset, length);
    if (!bytes || !into) return bytes;
    into.set(bytes);
    return bytes.length < length ? into.subarray(0, bytes.length) : into;
  }

  create(name: string, size: number): void {
    if (!(size > 0) || Math.floor(size) !== size) throw new Error(`Storage.write: size of "${name}" must be a whole number above 0, got ${size}`);
    // Writing one 0xFF byte with a size allocates the whole file, 0xFF-filled, replacing any previous one.
    this.call(
      `Storage.write("${name}", size ${size})`,
      () => this.area.write(name, new Uint8Array([0xff]), 0, size),
      () => `not enough free space for "${name}" (${size} bytes and a header, ${this.area.stats().freeBytes} bytes free after compaction)`,
    );
  }

  write(name: string, offset: number, data: Uint8Array): void {
    const file = this.area.find(name);
    if (!file) throw new Error(`Storage.write: file "${name}" does not exist (create it with a size first)`);
    if (!(offset >= 0) || offset + data.length > file.size) {
      throw new Error(`Storage.write: ${data.length} bytes at offset ${offset} do not fit in "${name}" (${file.size} bytes)`);
    }
    if (data.length === 0) return;
    if (offset === 0 && !this.area.flash.peek(file.addr + STORAGE_HEADER_BYTES, file.size).every((b) => b === 0xff)) {
      // jsfWriteFile at offset 0 re-creates a file that is not all 0xFF: the data already there would be lost.
      throw new Error(`Storage.write: "${name}" already holds data, so the firmware would re-create it on a write at offset 0 (write offset 0 first)`);
    }
    // The size makes an offset-0 write fill the pre-allocated file rather than replace it by one of data's length.
    this.call(`Storage.write("${name}", ${data.length} bytes at offset ${offset})`, () => this.area.write(name, data, offset, offset === 0 ? file.size : 0));
  }

  remove(name: string): void {
    this.area.erase(name);
  }

  /** Live file names, in the order they are stored. */
  list(): string[] {
    return this.area.list();
  }

  /** Runs a Storage call, turning the firmware's exception into an Error that says which call failed. */
  private call(what: string, run: () => void, noSpace?: () => string): void {
    try {
      run();
    } catch (error) {
      if (!(error instanceof StorageError)) throw error;
      throw new Error(`${what}: ${error.message === NO_SPACE && noSpace ? noSpace() : error.message}`);
    }
  }
}
