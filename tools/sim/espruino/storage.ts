// Espruino's Storage file system (jsflash.c) on the simulated flash, in its on-flash layout, so files persist in a
// flash image, every write goes through the chip rules, and a power cut leaves what it would leave on the chip.
// Layout: each file is a 32-byte header (u32 size | flags << 24, 28-byte zero-padded name) then its data, the next
// header at the next 4-byte boundary. Deleting programs the first name word to 0. Compaction (when a new file does
// not fit) rewrites the live files from the start of the area: like the firmware's, it is not power-fail safe.
// Simplified: compaction copies everything through RAM; no filename table; no StorageFile (`open`).

import type { SimFlash } from "../../../hal/sim/flash";
import { flashWrite } from "./flash-write";

const HEADER = 32;
const NAME = 28;
const UNSET = 0xffffffff;

export enum FileFlags {
  None = 0,
  StorageFile = 64,
  Compressed = 128,
}

interface Header {
  addr: number;
  size: number;
  flags: number;
  name: string;
  deleted: boolean;
}

export interface StorageStats {
  totalBytes: number;
  freeBytes: number;
  fileBytes: number;
  fileCount: number;
  trashBytes: number;
  trashCount: number;
}

/** Thrown where the firmware raises a JS exception (jsExceptionHere); the device turns it into a context Error. */
export class StorageError extends Error {}

export function toLatin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode.apply(null, Array.from(bytes.subarray(i, i + 8192)));
  return out;
}

export function fromLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

export class EspruinoStorage {
  private readonly start: number;
  private readonly end: number;
  private readonly align: number;

  constructor(
    private readonly flash: SimFlash,
    area: { addr: number; size: number },
    /** Console output of the firmware's own messages ("Compacting..."). */
    private readonly say: (text: string) => void,
  ) {
    this.start = area.addr;
    this.end = area.addr + area.size;
    this.align = Math.max(4, flash.board.programUnit);
  }

  // ---- the Storage API ----

  read(name: string, offset = 0, length = 0): Uint8Array | undefined {
    const file = this.find(name);
    if (!file) return undefined;
    let off = Math.max(0, offset | 0);
    if (off > file.size) off = file.size;
    let len = length > 0 ? length | 0 : file.size;
    if (off + len > file.size) len = file.size - off;
    if (len <= 0) return new Uint8Array(0);
    return this.flash.read(file.addr + HEADER + off, len);
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
    } else if (file && offset === 0 && (file.flags !== flags || file.size !== fileSize || !this.isErased(file.addr + HEADER, fileSize))) {
      if (file.size === fileSize && file.flags === flags && data.length === fileSize && equal(this.flash.read(file.addr + HEADER, fileSize), data)) {
        return true;
      }
      this.eraseHeader(file);
      file = this.create(name, fileSize, flags);
    }
    if (!file) throw new StorageError("Unable to find or create file");
    fileSize = file.size;
    if (offset + data.length > fileSize) throw new StorageError("Too much data for file size");
    const at = file.addr + HEADER + offset;
    if (!this.isErased(at, data.length)) throw new StorageError("File already written with different data");
    flashWrite(this.flash, at, data);
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
      const bytes = this.alignUp(h.size) + HEADER;
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

  compact(): boolean {
    const live: Array<{ header: Uint8Array; data: Uint8Array }> = [];
    let trash = false;
    for (const h of this.headers()) {
      if (!isReal(h)) {
        trash = true;
        continue;
      }
      live.push({ header: this.flash.read(h.addr, HEADER), data: this.flash.read(h.addr + HEADER, this.alignUp(h.size)) });
    }
    if (!trash) return false;
    this.say("Compacting...\n");
    this.eraseAll();
    let at = this.start;
    for (const f of live) {
      flashWrite(this.flash, at, f.header);
      const used = trimErased(f.data);
      if (used.length > 0) flashWrite(this.flash, at + HEADER, used);
      at += HEADER + f.data.length;
    }
    return true;
  }

  /** jsfIsStorageValid(JSFSTT_NORMAL): the chain of headers ends in an erased header (or a full area). */
  isValid(): boolean {
    let stop = this.start;
    let full = false;
    for (const h of this.headers((next) => {
      stop = next;
      full = next + HEADER > this.end;
    })) {
      stop = h.addr;
    }
    if (full) return true;
    const probe = this.flash.read(stop, Math.min(HEADER, this.end - stop));
    if (!probe.every((b) => b === 0xff)) return false;
    return stop !== this.start || this.isErased(this.start, this.end - this.start);
  }

  // ---- internals ----

  private alignUp(n: number): number {
    return Math.ceil(n / this.align) * this.align;
  }

  private units(): Array<{ addr: number; size: number }> {
    return this.flash.units().filter((u) => u.addr >= this.start && u.addr < this.end);
  }

  private headerAt(addr: number): Header | undefined {
    if (addr + HEADER > this.end) return undefined;
    const raw = this.flash.read(addr, HEADER);
    const word = (raw[0] | (raw[1] << 8) | (raw[2] << 16) | (raw[3] << 24)) >>> 0;
    const size = word & 0xffffff;
    if (word === UNSET || word === 0 || addr + HEADER + size > this.end) return undefined;
    const nameBytes = raw.subarray(4, 4 + NAME);
    const deleted = nameBytes[0] === 0 && nameBytes[1] === 0 && nameBytes[2] === 0 && nameBytes[3] === 0;
    const zero = nameBytes.indexOf(0);
    return { addr, size, flags: word >>> 24, name: toLatin1(nameBytes.subarray(0, zero < 0 ? NAME : zero)), deleted };
  }

  /** Every header, as jsfGetNextFileHeader(GNFH_GET_ALL) walks them; `onStop` gets the address where the walk ended. */
  private *headers(onStop?: (next: number) => void): Generator<Header> {
    let h = this.headerAt(this.start);
    if (!h) {
      onStop?.(this.start);
      return;
    }
    for (;;) {
      yield h;
      const next = this.alignUp(h.addr + HEADER + h.size);
      if (next + HEADER > this.end) {
        onStop?.(next);
        return;
      }
      let found = this.headerAt(next);
      if (!found) {
        const page = this.nextPage(next);
        found = page ? this.headerAt(page) : undefined;
        if (!found) {
          onStop?.(next);
          return;
        }
      }
      h = found;
    }
  }

  private nextPage(addr: number): number | undefined {
    const unit = this.flash.unitAt(addr);
    const next = unit.addr + unit.size;
    return next < this.end ? next : undefined;
  }

  private find(name: string): Header | undefined {
    for (const h of this.headers()) if (!h.deleted && h.name === name) return h;
    return undefined;
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
  private create(name: string, size: number, flags: number): Header | undefined {
    const required = this.alignUp(size) + HEADER;
    for (let attempt = 0; attempt < 2; attempt++) {
      let free = 0;
      let trash = 0;
      let addr: number | undefined = this.start;
      while (addr !== undefined) {
        let h = this.headerAt(addr);
        while (h) {
          if (h.deleted) trash += h.size;
          const next = this.alignUp(h.addr + HEADER + h.size);
          if (next + HEADER > this.end) {
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

  private writeHeader(addr: number, name: string, size: number, flags: number): Header {
    const raw = new Uint8Array(HEADER);
    new DataView(raw.buffer).setUint32(0, (size | (flags << 24)) >>> 0, true);
    raw.set(fromLatin1(name), 4);
    flashWrite(this.flash, addr, raw);
    return { addr, size, flags, name, deleted: false };
  }

  /** Programs the first name word to zero. STM32F1 accepts a 0x0000 half-word over anything, unlike other values. */
  private eraseHeader(h: Header): void {
    const zero = new Uint8Array(4);
    if (this.flash.board.reprogram.kind === "halfword-once") this.flash.poke(h.addr + 4, zero);
    else flashWrite(this.flash, h.addr + 4, zero);
  }
}

function isReal(h: Header): boolean {
  return !h.deleted && (h.flags === FileFlags.None || h.flags === FileFlags.StorageFile || h.flags === FileFlags.Compressed);
}

function checkName(name: string): void {
  if (name.length === 0 || name.length > NAME) throw new StorageError(`Storage file name must be 1..${NAME} characters, got "${name}"`);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Drops trailing 0xFF bytes, which need no programming (a pre-allocated file stays fillable). */
function trimErased(data: Uint8Array): Uint8Array {
  let n = data.length;
  while (n > 0 && data[n - 1] === 0xff) n--;
  return data.subarray(0, n);
}
