// Image files: a snapshot of simulated (or dumped) flash spans plus an optional retained area.
// Layout (FORMAT.md, "Image files"): "PSIMG001", u32 JSON length, JSON header, span bytes in order, retained bytes.
// Kept free of SimFlash so the host `pstore decode` / `dump` tools can read and write images on their own.

import { readFileSync, writeFileSync } from "node:fs";

export const IMAGE_MAGIC = "PSIMG001";

export type ImageKind = "flash" | "storage";

export interface ImageSpan {
  addr: number;
  /** Bytes in this span. */
  size: number;
}

export interface FlashImage {
  board: string;
  kind: ImageKind;
  spans: ImageSpan[];
  /** One array per span, `spans[i].size` bytes each. */
  data: Uint8Array[];
  /** Retained-area bytes, absent when the image has none. */
  retained?: Uint8Array;
}

interface ImageHeader {
  board: string;
  spans: ImageSpan[];
  retained: number;
  kind: ImageKind;
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
    board: image.board,
    spans: image.spans.map((s) => ({ addr: s.addr, size: s.size })),
    retained: image.retained ? image.retained.length : 0,
    kind: image.kind,
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

/** `source` (a file name) is only used in error messages. */
export function decodeImage(bytes: Uint8Array, source = "image"): FlashImage {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== IMAGE_MAGIC) {
    throw new Error(`${source}: not a pstore image (missing "${IMAGE_MAGIC}" at offset 0)`);
  }
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + jsonLength > bytes.length) {
    throw new Error(`${source}: header length ${jsonLength} at offset 8 runs past the end of the file (${bytes.length} bytes)`);
  }
  let header: ImageHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength)));
  } catch (e) {
    throw new Error(`${source}: header JSON at offset 12 does not parse: ${(e as Error).message}`);
  }
  if (typeof header.board !== "string" || !Array.isArray(header.spans) || (header.kind !== "flash" && header.kind !== "storage")) {
    throw new Error(`${source}: header needs "board" (string), "spans" (array) and "kind" ("flash" or "storage")`);
  }
  const retainedLength = header.retained || 0;
  const expected = 12 + jsonLength + header.spans.reduce((n, s) => n + s.size, 0) + retainedLength;
  if (expected !== bytes.length) {
    throw new Error(`${source}: header describes ${expected} bytes but the file has ${bytes.length}`);
  }
  let at = 12 + jsonLength;
  const data = header.spans.map((span) => {
    const part = bytes.slice(at, at + span.size);
    at += span.size;
    return part;
  });
  const image: FlashImage = {
    board: header.board,
    kind: header.kind,
    spans: header.spans.map((s) => ({ addr: s.addr, size: s.size })),
    data,
  };
  if (retainedLength > 0) image.retained = bytes.slice(at, at + retainedLength);
  return image;
}

/** Bytes at an absolute address of an image; throws naming the address when the image does not hold all of them. */
export function readImage(image: FlashImage, addr: number, length: number): Uint8Array {
  const index = image.spans.findIndex((s) => addr >= s.addr && addr + length <= s.addr + s.size);
  if (index < 0) {
    throw new Error(`image of ${image.board}: 0x${addr.toString(16)}..0x${(addr + length).toString(16)} is not inside one span`);
  }
  const offset = addr - image.spans[index].addr;
  return image.data[index].slice(offset, offset + length);
}

export function saveImageFile(path: string, image: FlashImage): void {
  writeFileSync(path, encodeImage(image));
}

export function loadImageFile(path: string): FlashImage {
  return decodeImage(new Uint8Array(readFileSync(path)), path);
}
