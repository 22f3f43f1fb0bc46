// Host decode section: how fast the host turns a full flash image into records, through the same path as
// `pstore decode` (tools/image/source: the core's boot scan over the image; tools/archive/record: verify, join,
// decompress, decode traces), without the archive's disk writes. The image is made by filling every zone of a
// simulated board with corpus text compressed by the board's codec (and ftrace snapshots), as the device would.

import { pagesOf } from "../../boards/geometry";
import { boardNames, getBoard } from "../../boards/index";
import type { BoardDefinition } from "../../boards/types";
import { decodeRecord } from "../archive/record";
import { openImageSource } from "../image/source";
import { fillStore } from "./fill";
import { mbPerSecond, timeAsync } from "./measure";

export interface DecodeRow {
  board: string;
  codec: string;
  /** Size of the image file (it holds every flash span the board definition lists, or the whole Storage area). */
  imageBytes: number;
  /** Bytes of pstore's own pages (the region, or the Storage files of the zones). */
  regionBytes: number;
  records: number;
  /** Stored payload bytes of all records, as on flash. */
  storedBytes: number;
  /** Bytes after decoding (decompressed payloads). */
  decodedBytes: number;
  /** Host milliseconds to scan the image and decode every record, best round. */
  hostMs: number;
  /** Image file bytes per second through the whole decode. */
  imageMBps: number;
  /** pstore region bytes per second through the whole decode. */
  regionMBps: number;
}

async function decodeAll(image: Uint8Array): Promise<{ records: number; storedBytes: number; decodedBytes: number }> {
  const source = openImageSource(image, "bench image", undefined, undefined);
  const listed = await source.list();
  let storedBytes = 0;
  let decodedBytes = 0;
  for (const record of listed) {
    const decoded = decodeRecord(record.name, await source.fetch(record, () => {}));
    if (decoded.outcome !== "ok") throw new Error(`decode of ${record.name}: ${decoded.outcome}: ${decoded.problem}`);
    storedBytes += decoded.storedLength;
    decodedBytes += (decoded.files.find((f) => f.suffix === ".raw") ?? decoded.files[0]).data.length;
  }
  return { records: listed.length, storedBytes, decodedBytes };
}

function regionBytesOf(board: BoardDefinition): number {
  if (board.backend === "flash") return pagesOf(board).reduce((n, page) => n + page.size, 0);
  return board.zones.reduce((n, zone) => n + zone.pages, 0) * board.storagePageSize;
}

export interface DecodeOptions {
  boards?: string[];
  text: Uint8Array;
  minMs: number;
}

export async function benchDecode(options: DecodeOptions): Promise<DecodeRow[]> {
  const rows: DecodeRow[] = [];
  for (const boardName of options.boards ?? boardNames()) {
    const board = getBoard(boardName);
    const image = fillStore(board, options.text).toImage();
    const totals = await decodeAll(image);
    if (totals.records === 0) throw new Error(`${board.name}: the full image lists no record`);
    const hostMs = await timeAsync(async () => void (await decodeAll(image)), options.minMs);
    const regionBytes = regionBytesOf(board);
    rows.push({
      board: board.name,
      codec: board.codec,
      imageBytes: image.length,
      regionBytes,
      ...totals,
      hostMs,
      imageMBps: mbPerSecond(image.length, hostMs),
      regionMBps: mbPerSecond(regionBytes, hostMs),
    });
  }
  return rows;
}
