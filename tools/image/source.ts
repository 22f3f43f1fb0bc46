// A raw image file (a `pstore dump` or a simulator image) as a record source: the core's own backends scan it
// through a read-only HAL over the image bytes, so the host finds exactly the records the device would list.
// The whole region is scanned as one keep-first zone, whatever zones the device was configured with: a
// post-mortem reads every page and gives nothing up (a ring zone's boot scan may retire its oldest page).

import type { BoardDefinition, RecordTypeName, ZoneConfig } from "../../boards/types";
import { getBoard } from "../../boards/index";
import { pagesOf } from "../../boards/geometry";
import type { Hal, RetainedHal, StorageHal } from "../../hal/types";
import { decodeImage, readImage, type FlashImage } from "../../hal/sim/image";
import { readStorageFiles } from "../../hal/sim/storage";
import type { Backend } from "../../pstore/backend";
import { PAGE_FILE_PREFIX } from "../../pstore/pages";
import { createFlashBackend } from "../../pstore/backends/flash";
import { createStorageBackend } from "../../pstore/backends/storage";
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

function imageHal(image: FlashImage, board: BoardDefinition, source: string): Hal {
  const hal: Hal = {
    crc32,
    clock: { uptimeMs: () => 0, wallSeconds: () => 0 },
    reset: { readRaw: () => -1, clear: () => {} },
    log: () => {},
    flash: {
      read: (addr, length) => readImage(image, addr, length),
      program: () => readOnly(source),
      erase: () => readOnly(source),
    },
  };
  if (image.kind === "storage") {
    const files = readStorageFiles(readImage(image, board.storage.addr, board.storage.size), board);
    const storage: StorageHal = {
      read: (name, offset, length) => files[name]?.slice(offset, offset + length),
      create: () => readOnly(source),
      write: () => readOnly(source),
      remove: () => readOnly(source),
    };
    hal.storage = storage;
  }
  return hal;
}

function storagePageCount(hal: Hal, board: BoardDefinition): number {
  let count = 0;
  for (let i = 0; i < 256; i++) if (hal.storage?.read(PAGE_FILE_PREFIX + i, 0, 1)) count = i + 1;
  return count || board.zones.reduce((n, z) => n + z.pages, 0);
}

export interface ImageSource extends RecordSource {
  board: BoardDefinition;
  image: FlashImage;
}

/** `boardName` must agree with the image's own board when given. */
export function openImageSource(bytes: Uint8Array, path: string, boardName: string | undefined, deviceId: string | undefined): ImageSource {
  let image: FlashImage;
  try {
    image = decodeImage(bytes, path);
  } catch (error) {
    throw new DataError((error as Error).message);
  }
  let board: BoardDefinition;
  if (boardName !== undefined) board = boardOption(boardName);
  else {
    try {
      board = getBoard(image.board);
    } catch (error) {
      throw new DataError(`${path}: the image names board ${JSON.stringify(image.board)}, which this tool does not know (${(error as Error).message})`);
    }
  }
  if (image.board !== board.name) throw new DataError(`${path}: image is of board ${image.board}, not ${board.name} (--board)`);

  let backend: Backend;
  try {
    const hal = imageHal(image, board, path);
    const pages = image.kind === "flash" ? pagesOf(board).length : storagePageCount(hal, board);
    const zones: ZoneConfig[] = [{ name: "image", types: ALL_TYPES, pages, policy: "keep-first" }];
    backend = image.kind === "flash" ? createFlashBackend(hal, board, zones, undefined) : createStorageBackend(hal, board, zones, undefined);
    backend.open();
  } catch (error) {
    throw new DataError(`${path}: cannot scan the ${image.kind} pages of ${board.name}: ${(error as Error).message}`);
  }
  const retained = retainedRecord(image, board, path);
  const listed = backend.list();
  const records: SourceRecord[] = listed.map((m) => ({ name: m.name, boot: m.boot, seq: m.seq, parts: m.parts, storedLength: m.storedLength }));
  if (retained) records.push(retained.meta);

  return {
    board,
    image,
    deviceId: deviceId ?? `${board.name} image`,
    list: async () => records,
    fetch: async (record, progress) => {
      if (retained && record.name === retained.meta.name) return [retained.bytes];
      const parts: Uint8Array[] = [];
      for (let part = 0; part < record.parts; part++) {
        const bytes = backend.read(record.seq, part);
        if (!bytes) throw new DataError(`${path}: part ${part} of ${record.name} is listed but cannot be read`);
        parts.push(bytes);
        progress(part + 1, record.parts);
      }
      return parts;
    },
  };
}

/**
 * The console tail and breadcrumb in the image's retained area (when valid), as the console record the next boot
 * would have committed: named `console-ram-0`, tagged with the boot that wrote it.
 */
function retainedRecord(image: FlashImage, board: BoardDefinition, path: string): { meta: SourceRecord; bytes: Uint8Array } | undefined {
  const area = image.retained;
  if (!area || !board.retained) return undefined;
  const memory: RetainedHal = { size: area.length, read: (o, n) => area.slice(o, o + n), write: () => readOnly(path) };
  const ram = new RamBackend(memory, crc32);
  try {
    ram.open();
  } catch (error) {
    throw new DataError(`${path}: retained area: ${(error as Error).message}`);
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
