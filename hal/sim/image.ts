// Image files: a snapshot of simulated (or dumped) flash spans plus an optional retained area, and (format 2) the
// layout that says where pstore's pages lie in them, so an image decodes without the board definition.
// Layout (FORMAT.md, "Image files"): "PSIMG001", u32 JSON length, JSON header, span bytes in order, retained bytes.
// Kept free of SimFlash so the host `pstore decode` / `dump` tools can read and write images on their own.

import { readFileSync, writeFileSync } from "node:fs";

export const IMAGE_MAGIC = "PSIMG001";
/** The image header's `format`: 2 carries the layout; 1 (no `format` field) needs the board definition. */
export const IMAGE_FORMAT = 2;

export type ImageKind = "flash" | "storage";

export interface ImageSpan {
  addr: number;
  /** Bytes in this span. */
  size: number;
}

/** A run of `count` erase units of `size` bytes from `addr` (the board's geometry over the spans). */
export interface ImageUnits {
  addr: number;
  size: number;
  count: number;
}

/** One of pstore's pages, in the store's own page order. */
export interface ImagePage {
  /** Absolute address of the page's first byte (for a Storage page: of the file's data). */
  addr: number;
  size: number;
  /** Storage kind: the Storage file that is this page, and the address of its 32-byte Storage header. */
  file?: string;
  header?: number;
}

export interface ImageLayout {
  units: ImageUnits[];
  pages: ImagePage[];
  /** Storage kind: the board's Storage area. */
  storage?: { addr: number; size: number };
}

export interface FlashImage {
  board: string;
  kind: ImageKind;
  spans: ImageSpan[];
  /** One array per span, `spans[i].size` bytes each (fewer in an image read with `decodeImagePartially`). */
  data: Uint8Array[];
  /** Retained-area bytes, absent when the image has none. */
  retained?: Uint8Array;
  /** Format 2's layout; absent in a format-1 image. */
  layout?: ImageLayout;
}

interface ImageHeader {
  format?: number;
  board: string;
  spans: ImageSpan[];
  retained: number;
  kind: ImageKind;
  units?: ImageUnits[];
  pages?: ImagePage[];
  storage?: { addr: number; size: number };
}

export function encodeImage(image: FlashImage): Uint8Array {
  if (image.spans.length !== image.data.length) {
    throw new Error(`image of ${image.board}: ${image.spans.length} spans but ${image.data.length} data arrays`);
  }
  image.spans.forEach((span, i) => {
    if (image.data[i].length !== span.size) {
      throw new Error(`image of ${image.board}: span ${i} at 0x${span.addr.toString(16)} is ${span.size} bytes but has ${image.data[i].length}`);
    }
  });
  const header: ImageHeader = {
    ...(image.layout ? { format: IMAGE_FORMAT } : {}),
    board: image.board,
    kind: image.kind,
    spans: image.spans.map((s) => ({ addr: s.addr, size: s.size })),
    retained: image.retained ? image.retained.length : 0,
    ...(image.layout ? layoutFields(image.layout) : {}),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const total = 12 + json.length + image.spans.reduce((n, s) => n + s.size, 0) + header.retained;
  const out = new Uint8Array(total);
  out.set(new TextEncoder().encode(IMAGE_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  let at = 12 + json.length;
  for (const part of image.data) {
    out.set(part, at);
    at += part.length;
  }
  if (image.retained) out.set(image.retained, at);
  return out;
}

function layoutFields(layout: ImageLayout): Pick<ImageHeader, "units" | "pages" | "storage"> {
  return {
    units: layout.units.map((u) => ({ addr: u.addr, size: u.size, count: u.count })),
    pages: layout.pages.map((p) => (p.file === undefined ? { addr: p.addr, size: p.size } : { addr: p.addr, size: p.size, file: p.file, header: p.header })),
    ...(layout.storage ? { storage: { addr: layout.storage.addr, size: layout.storage.size } } : {}),
  };
}

/** A whole image; `source` (a file name) is only used in error messages. Throws when the file is cut or too long. */
export function decodeImage(bytes: Uint8Array, source = "image"): FlashImage {
  const { image, damage } = decodeImagePartially(bytes, source);
  if (damage.length) throw new Error(`${source}: ${damage.join("; ")}`);
  return image;
}

/**
 * An image as far as the file holds it: a span the file ends inside is kept up to the end, later spans are left
 * empty, a retained area the file does not hold whole is left out, and `damage` says what was cut or left over. Throws only when the header itself
 * cannot be read.
 */
export function decodeImagePartially(bytes: Uint8Array, source = "image"): { image: FlashImage; damage: string[] } {
  const header = readHeader(bytes, source);
  const damage: string[] = [];
  let at = header.dataStart;
  const data = header.spans.map((span, i) => {
    const part = bytes.slice(at, Math.min(at + span.size, bytes.length));
    if (part.length < span.size) damage.push(`the file ends ${part.length} bytes into span ${i} (${hex(span.addr)}, ${span.size} bytes): ${span.size - part.length} bytes of it are missing`);
    at += span.size;
    return part;
  });
  const image: FlashImage = { board: header.board, kind: header.kind, spans: header.spans, data };
  if (header.layout) image.layout = header.layout;
  if (header.retained > 0) {
    // A ring read at another size would come out scrambled: a cut area is left out whole.
    const held = Math.max(0, Math.min(header.retained, bytes.length - at));
    if (held === header.retained) image.retained = bytes.slice(at, at + held);
    else damage.push(`the retained area holds ${held} of its ${header.retained} bytes: not decoded`);
  }
  const expected = at + header.retained;
  if (bytes.length > expected) damage.push(`${bytes.length - expected} bytes follow the end the header describes (${expected})`);
  return { image, damage };
}

interface ParsedHeader {
  board: string;
  kind: ImageKind;
  spans: ImageSpan[];
  retained: number;
  layout?: ImageLayout;
  dataStart: number;
}

/** The image header's JSON and where the span bytes start. */
function headerJson(bytes: Uint8Array, source: string): { header: ImageHeader; dataStart: number } {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== IMAGE_MAGIC) {
    throw new Error(`${source}: not a pstore image (missing "${IMAGE_MAGIC}" at offset 0)`);
  }
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + jsonLength > bytes.length) {
    throw new Error(`${source}: header length ${jsonLength} at offset 8 runs past the end of the file (${bytes.length} bytes)`);
  }
  try {
    return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))), dataStart: 12 + jsonLength };
  } catch (e) {
    throw new Error(`${source}: header JSON at offset 12 does not parse: ${(e as Error).message}`);
  }
}

/** The board an image file's header names, even when the rest of the header is unusable; undefined when none. */
export function imageBoardName(bytes: Uint8Array): string | undefined {
  try {
    const board = headerJson(bytes, "image").header?.board;
    return typeof board === "string" ? board : undefined;
  } catch {
    return undefined;
  }
}

function readHeader(bytes: Uint8Array, source: string): ParsedHeader {
  const { header, dataStart } = headerJson(bytes, source);
  const bad = (what: string): never => {
    throw new Error(`${source}: header ${what}`);
  };
  if (typeof header !== "object" || header === null) bad("is not a JSON object");
  const format = header.format ?? 1;
  if (format !== 1 && format !== IMAGE_FORMAT) bad(`has format ${JSON.stringify(format)}; this tool reads formats 1 and ${IMAGE_FORMAT}`);
  if (typeof header.board !== "string" || !Array.isArray(header.spans) || (header.kind !== "flash" && header.kind !== "storage")) {
    bad(`needs "board" (string), "spans" (array) and "kind" ("flash" or "storage")`);
  }
  const spans = header.spans.map((s, i) => ({ addr: u32(s?.addr, `spans[${i}].addr`, bad), size: u32(s?.size, `spans[${i}].size`, bad) }));
  const retained = header.retained === undefined ? 0 : u32(header.retained, "retained", bad);
  const parsed: ParsedHeader = { board: header.board, kind: header.kind, spans, retained, dataStart };
  if (format === IMAGE_FORMAT) parsed.layout = readLayout(header, bad);
  return parsed;
}

function readLayout(header: ImageHeader, bad: (what: string) => never): ImageLayout {
  if (!Array.isArray(header.units)) bad(`of format ${IMAGE_FORMAT} needs "units" (array)`);
  if (!Array.isArray(header.pages)) bad(`of format ${IMAGE_FORMAT} needs "pages" (array)`);
  const units = header.units!.map((u, i) => ({ addr: u32(u?.addr, `units[${i}].addr`, bad), size: u32(u?.size, `units[${i}].size`, bad), count: u32(u?.count, `units[${i}].count`, bad) }));
  const pages = header.pages!.map((p, i) => {
    const page: ImagePage = { addr: u32(p?.addr, `pages[${i}].addr`, bad), size: u32(p?.size, `pages[${i}].size`, bad) };
    if (header.kind === "storage") {
      if (typeof p.file !== "string") bad(`pages[${i}].file is not a Storage file name`);
      page.file = p.file;
      page.header = u32(p.header, `pages[${i}].header`, bad);
    }
    return page;
  });
  const layout: ImageLayout = { units, pages };
  if (header.kind === "storage") {
    const s = header.storage;
    layout.storage = { addr: u32(s?.addr, "storage.addr", bad), size: u32(s?.size, "storage.size", bad) };
  }
  return layout;
}

function u32(value: unknown, what: string, bad: (what: string) => never): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 0xffffffff) bad(`${what} ${JSON.stringify(value)} is not a 32-bit unsigned integer`);
  return value as number;
}

/**
 * Bytes at an absolute address of an image; throws naming the address when no span holds the range. Bytes a span of
 * a partly read image lacks read as 0xFF (erased), so no CRC of anything cut can hold.
 */
export function readImage(image: FlashImage, addr: number, length: number): Uint8Array {
  const index = image.spans.findIndex((s) => addr >= s.addr && addr + length <= s.addr + s.size);
  if (index < 0) {
    throw new Error(`image of ${image.board}: 0x${addr.toString(16)}..0x${(addr + length).toString(16)} is not inside one span`);
  }
  const offset = addr - image.spans[index].addr;
  const data = image.data[index];
  if (offset + length <= data.length) return data.slice(offset, offset + length);
  const out = new Uint8Array(length).fill(0xff);
  if (offset < data.length) out.set(data.subarray(offset));
  return out;
}

/** How many bytes of the range, from `addr` on, the image holds (fewer when cut off a partly read one; 0 outside the spans). */
export function imageHeld(image: FlashImage, addr: number, length: number): number {
  const index = image.spans.findIndex((s) => addr >= s.addr && addr + length <= s.addr + s.size);
  return index < 0 ? 0 : Math.max(0, Math.min(length, image.data[index].length - (addr - image.spans[index].addr)));
}

/** Whether every byte of the range is in the image. */
export function imageHolds(image: FlashImage, addr: number, length: number): boolean {
  return imageHeld(image, addr, length) === length;
}

export function saveImageFile(path: string, image: FlashImage): void {
  writeFileSync(path, encodeImage(image));
}

export function loadImageFile(path: string): FlashImage {
  return decodeImage(new Uint8Array(readFileSync(path)), path);
}

function hex(n: number): string {
  return "0x" + n.toString(16);
}
