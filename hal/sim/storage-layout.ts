// Espruino Storage's on-flash file headers (jsflash.c, docs/FORMAT.md "Storage files") and the walk the firmware
// makes over them, on any byte source: the simulated flash and image files read the area through it alike.

export const STORAGE_HEADER_BYTES = 32;
export const STORAGE_NAME_BYTES = 28;
const UNSET = 0xffffffff;

/** A file header found in the area. */
export interface StoredFile {
  /** Absolute address of the header. */
  addr: number;
  size: number;
  flags: number;
  name: string;
  deleted: boolean;
}

/** A Storage area as the walk reads it. */
export interface StorageArea {
  start: number;
  end: number;
  /** The firmware's write alignment (jsfAlignAddress): max(4, the chip's program unit). */
  align: number;
  read(addr: number, length: number): Uint8Array;
  /** Start of the erase unit after the one holding `addr`, or undefined when that is past the area. */
  nextPage(addr: number): number | undefined;
}

/** jsfGetFileHeader: the header at `addr`, undefined when erased, zero, or running past `end`. */
export function parseStorageHeader(raw: Uint8Array, addr: number, end: number): StoredFile | undefined {
  if (raw.length < STORAGE_HEADER_BYTES) return undefined;
  const word = (raw[0] | (raw[1] << 8) | (raw[2] << 16) | (raw[3] << 24)) >>> 0;
  const size = word & 0xffffff;
  if (word === UNSET || word === 0 || addr + STORAGE_HEADER_BYTES + size > end) return undefined;
  const nameBytes = raw.subarray(4, 4 + STORAGE_NAME_BYTES);
  const deleted = nameBytes[0] === 0 && nameBytes[1] === 0 && nameBytes[2] === 0 && nameBytes[3] === 0;
  const zero = nameBytes.indexOf(0);
  const name = Buffer.from(nameBytes.subarray(0, zero < 0 ? STORAGE_NAME_BYTES : zero)).toString("latin1");
  return { addr, size, flags: word >>> 24, name, deleted };
}

export function storageHeaderAt(area: StorageArea, addr: number): StoredFile | undefined {
  if (addr + STORAGE_HEADER_BYTES > area.end) return undefined;
  return parseStorageHeader(area.read(addr, STORAGE_HEADER_BYTES), addr, area.end);
}

export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** Every header, as jsfGetNextFileHeader(GNFH_GET_ALL) walks them; `onStop` gets the address where the walk ended. */
export function* walkStorage(area: StorageArea, onStop?: (next: number) => void): Generator<StoredFile> {
  let h = storageHeaderAt(area, area.start);
  if (!h) {
    onStop?.(area.start);
    return;
  }
  for (;;) {
    yield h;
    const next = alignUp(h.addr + STORAGE_HEADER_BYTES + h.size, area.align);
    if (next + STORAGE_HEADER_BYTES > area.end) {
      onStop?.(next);
      return;
    }
    let found = storageHeaderAt(area, next);
    if (!found) {
      const page = area.nextPage(next);
      found = page ? storageHeaderAt(area, page) : undefined;
      if (!found) {
        onStop?.(next);
        return;
      }
    }
    h = found;
  }
}
