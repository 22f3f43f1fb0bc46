// A raw image file (a `pstore dump` or a simulator image) as a record source: the core's own zone engine scans the
// pages the image's layout names, read-only, so the host finds exactly the records the device would list.
// The whole store is scanned as one keep-first zone, whatever zones the device was configured with: a
// post-mortem reads every page and gives nothing up (a ring zone's boot scan may retire its oldest page).
// A format-2 image carries its layout; a format-1 image gets it from the board definition. An image cut short or
// partly damaged decodes as far as it goes, and `warnings` says what was lost.

import type { BoardDefinition, RecordTypeName, ZoneConfig } from "../../boards/types";
import { getBoard } from "../../boards/index";
import type { RetainedHal } from "../../hal/types";
import { decodeImagePartially, imageHeld, imageHolds, readImage, type FlashImage, type ImageLayout, type ImagePage } from "../../hal/sim/image";
import { describeLayout } from "../../hal/sim/image-layout";
import { STORAGE_HEADER_BYTES, parseStorageHeader } from "../../hal/sim/storage-layout";
import type { Backend } from "../../pstore/backend";
import type { PageDevice } from "../../pstore/pages";
import { createZonedBackend } from "../../pstore/zone";
import { RamBackend } from "../../pstore/backends/ram";
import { Codec, RecordType, encodeRecord, recordName, type RecordHeader } from "../../pstore/format";
import type { RecordSource, SourceRecord } from "../archive/collect";
import { crc32 } from "../../hal/sim/crc";
import { boardOption } from "../cli/command";
import { DataError } from "../cli/errors";

const ALL_TYPES: RecordTypeName[] = ["dmesg", "console", "ftrace", "pmsg", "event"];
/** The retained console tail is not a record yet (the next boot would commit it): it is archived under this seq. */
export const RETAINED_SEQ = 0;

function readOnly(what: string): never {
  throw new Error(`${what}: an image is read-only`);
}

export interface ImageSource extends RecordSource {
  /** The board the image names. */
  board: string;
  image: FlashImage;
  /** What the image lacks or holds that cannot be read (cut spans, pages, retained area), one sentence each. */
  warnings: string[];
}

/** `boardName` must agree with the image's own board when given. */
export function openImageSource(bytes: Uint8Array, path: string, boardName: string | undefined, deviceId: string | undefined): ImageSource {
  let image: FlashImage;
  const warnings: string[] = [];
  try {
    const partial = decodeImagePartially(bytes, path);
    image = partial.image;
    warnings.push(...partial.damage.map((d) => `${path}: ${d}`));
  } catch (error) {
    throw new DataError((error as Error).message);
  }
  if (boardName !== undefined && image.board !== boardOption(boardName).name) {
    throw new DataError(`${path}: image is of board ${image.board}, not ${boardName} (--board)`);
  }
  const layout = image.layout ?? layoutFromBoard(image, path);
  const pages = readablePages(image, layout, path, warnings);

  let backend: Backend | undefined;
  // No span at all is a dump that copied nothing; spans without pstore.p<N> files are a store that never wrote.
  if (image.spans.length === 0) warnings.push(`${path}: the image holds no flash spans, so no pstore pages`);
  if (pages.length > 0) {
    try {
      const zones: ZoneConfig[] = [{ name: "image", types: ALL_TYPES, pages: pages.length, policy: "keep-first" }];
      backend = createZonedBackend(image.kind, () => pageDevice(image, pages, path), crc32, zones, undefined);
      backend.open();
    } catch (error) {
      throw new DataError(`${path}: cannot scan the ${image.kind} pages of ${image.board}: ${(error as Error).message}`);
    }
  }
  const retained = retainedRecord(image, path, warnings);
  const records: SourceRecord[] = (backend ? backend.list() : []).map((m) => ({ name: m.name, boot: m.boot, seq: m.seq, parts: m.parts, storedLength: m.storedLength }));
  if (retained) records.push(retained.meta);

  return {
    board: image.board,
    image,
    warnings,
    deviceId: deviceId ?? `${image.board} image`,
    list: async () => records,
    fetch: async (record, progress) => {
      if (retained && record.name === retained.meta.name) return [retained.bytes];
      const parts: Uint8Array[] = [];
      for (let part = 0; part < record.parts; part++) {
        const bytes = backend?.read(record.seq, part);
        if (!bytes) throw new DataError(`${path}: part ${part} of ${record.name} is listed but cannot be read`);
        parts.push(bytes);
        progress(part + 1, record.parts);
      }
      return parts;
    },
  };
}

/** A format-1 image's layout, from the definition of the board it names. */
function layoutFromBoard(image: FlashImage, path: string): ImageLayout {
  let board: BoardDefinition;
  try {
    board = getBoard(image.board);
  } catch (error) {
    throw new DataError(`${path}: the format-1 image names board ${JSON.stringify(image.board)}, which this tool does not know (${(error as Error).message})`);
  }
  try {
    return describeLayout(board, image.kind, image.spans, image.data);
  } catch (error) {
    throw new DataError(`${path}: cannot find the ${image.kind} pages of ${board.name} in the image: ${(error as Error).message}`);
  }
}

/**
 * The layout's pages the image holds bytes of, each cut to the bytes held (so a forged size costs no work); a
 * warning for each page cut short, cut off, outside the spans or overlapping another.
 */
function readablePages(image: FlashImage, layout: ImageLayout, path: string, warnings: string[]): ImagePage[] {
  const out: ImagePage[] = [];
  const number = new Map<ImagePage, number>();
  const lost: string[] = [];
  const where = (page: ImagePage, i: number) => `page ${i} (${page.file ? page.file + ", " : ""}0x${page.addr.toString(16)}, ${page.size} bytes)`;
  layout.pages.forEach((page, i) => {
    const inside = image.spans.some((s) => page.addr >= s.addr && page.addr + page.size <= s.addr + s.size);
    if (!inside) {
      warnings.push(`${path}: ${where(page, i)} lies outside the image's spans: not scanned`);
      return;
    }
    const held = imageHeld(image, page.addr, page.size);
    if (held === 0) {
      lost.push(where(page, i));
      return;
    }
    if (held < page.size) warnings.push(`${path}: ${where(page, i)} is cut short after ${held} bytes: records in the rest are lost`);
    if (page.file !== undefined) checkStorageHeader(image, page, path, warnings);
    const readable = held < page.size ? { ...page, size: held } : page;
    number.set(readable, i);
    out.push(readable);
  });
  if (lost.length === 1) warnings.push(`${path}: ${lost[0]} is cut off the image: its records are lost`);
  if (lost.length > 1) warnings.push(`${path}: ${lost.length} pages are cut off the image: their records are lost (${lost.join(", ")})`);
  const overlapping = new Set<ImagePage>();
  const byAddr = [...out].sort((a, b) => a.addr - b.addr);
  let reach: ImagePage | undefined;
  for (const page of byAddr) {
    if (reach && page.addr < reach.addr + reach.size) {
      overlapping.add(page).add(reach);
      if (page.addr + page.size > reach.addr + reach.size) reach = page;
    } else reach = page;
  }
  if (overlapping.size) warnings.push(`${path}: ${overlapping.size} pages overlap one another: not scanned (${[...overlapping].map((p) => where(p, number.get(p)!)).join(", ")})`);
  return out.filter((p) => !overlapping.has(p));
}

/** A Storage page's own file header must say what the layout says; a mismatch is reported, the page still scanned. */
function checkStorageHeader(image: FlashImage, page: ImagePage, path: string, warnings: string[]): void {
  if (page.header === undefined || !imageHolds(image, page.header, STORAGE_HEADER_BYTES)) return;
  const file = parseStorageHeader(readImage(image, page.header, STORAGE_HEADER_BYTES), page.header, 0xffffffff);
  if (!file || file.deleted || file.name !== page.file || file.size !== page.size || page.header + STORAGE_HEADER_BYTES !== page.addr) {
    const found = file ? `${JSON.stringify(file.name)}${file.deleted ? " (deleted)" : ""} of ${file.size} bytes` : "no file header";
    warnings.push(`${path}: the Storage header at 0x${page.header.toString(16)} holds ${found}, not ${page.file} of ${page.size} bytes`);
  }
}

function pageDevice(image: FlashImage, pages: ImagePage[], path: string): PageDevice {
  return {
    pageCount: pages.length,
    pageSize: (i) => pages[i].size,
    read: (i, off, len) => readImage(image, pages[i].addr + off, len),
    program: () => readOnly(path),
    erase: () => readOnly(path),
  };
}

/**
 * The console tail and breadcrumb in the image's retained area (when valid), as the console record the next boot
 * would have committed: named `console-ram-0`, tagged with the boot that wrote it.
 */
function retainedRecord(image: FlashImage, path: string, warnings: string[]): { meta: SourceRecord; bytes: Uint8Array } | undefined {
  const area = image.retained;
  if (!area) return undefined;
  const memory: RetainedHal = { size: area.length, read: (o, n) => area.slice(o, o + n), write: () => readOnly(path) };
  const ram = new RamBackend(memory, crc32);
  try {
    ram.open();
  } catch (error) {
    warnings.push(`${path}: retained area not decoded: ${(error as Error).message}`);
    return undefined;
  }
  let found: { meta: SourceRecord; bytes: Uint8Array } | undefined;
  ram.commitTo({
    write: (type, reason, payload, opts) => {
      const header: RecordHeader = {
        type,
        reason,
        codec: Codec.Raw,
        flags: 0,
        part: 0,
        parts: 1,
        seq: RETAINED_SEQ,
        boot: opts.boot,
        time: 0,
        uptime: opts.uptime,
        storedLength: payload.length,
        originalLength: payload.length,
      };
      const name = recordName(RecordType.Console, "ram", RETAINED_SEQ);
      found = { meta: { name, boot: opts.boot, seq: RETAINED_SEQ, parts: 1, storedLength: payload.length }, bytes: encodeRecord(crc32, header, payload) };
      return name;
    },
  });
  return found;
}
