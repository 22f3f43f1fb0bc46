// Host archive section: a pull of N records into a real folder on this machine's disk, as `pstore pull` archives
// them (tools/archive: verify, decode, durable writes, index, dmesg.txt, then erase), from an in-memory source so
// only the archive is timed. Counts the file writes too: appends to records.jsonl, whole-file rewrites, dmesg.txt.

import * as fs from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "../../hal/sim/crc";
import { Codec, encodeRecord, Reason, recordName, RecordType } from "../../pstore/format";
import { Archive } from "../archive/archive";
import { collectRecords, type RecordSource, type SourceRecord } from "../archive/collect";
import { DurableWriter, type ArchiveFs } from "../archive/durable";

export interface ArchiveRow {
  records: number;
  /** Milliseconds for the whole pull (archive and erase calls). */
  ms: number;
  msPerRecord: number;
  /** Files written whole (record files, dmesg.txt, a rewritten index). */
  fileWrites: number;
  /** Lines appended to records.jsonl. */
  indexAppends: number;
  dmesgWrites: number;
}

/** Records of one boot, 120..270 bytes of log text each, as the bulk stream delivers them. */
function records(count: number, text: Uint8Array): SourceRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const length = 120 + ((i * 37) % 151);
    const start = (i * 997) % Math.max(1, text.length - length);
    const payload = text.subarray(start, start + length);
    const seq = i + 1;
    const image = encodeRecord(crc32, { type: RecordType.Pmsg, reason: Reason.User, codec: Codec.Raw, flags: 0, part: 0, parts: 1, seq, boot: 1, time: 0, uptime: seq, storedLength: payload.length, originalLength: payload.length }, payload);
    return { name: recordName(RecordType.Pmsg, "flash", seq), boot: 1, seq, parts: 1, storedLength: payload.length, images: [image] };
  });
}

/** node:fs, counting what the archive writes. */
function countingFs(counts: { fileWrites: number; indexAppends: number; dmesgWrites: number }): ArchiveFs {
  return {
    ...fs,
    openSync: ((path: string, flags: number, mode?: number) => {
      if (flags & fs.constants.O_APPEND) counts.indexAppends++;
      else if (flags & fs.constants.O_WRONLY) {
        counts.fileWrites++;
        if (/\.dmesg\.txt\.tmp-/.test(path)) counts.dmesgWrites++;
      }
      return fs.openSync(path, flags, mode);
    }) as ArchiveFs["openSync"],
  };
}

export async function benchArchive(counts: number[], text: Uint8Array): Promise<ArchiveRow[]> {
  const rows: ArchiveRow[] = [];
  for (const count of counts) {
    const root = mkdtempSync(join(tmpdir(), "pstore-bench-archive-"));
    const listed = records(count, text);
    const source: RecordSource = {
      deviceId: "BENCH 0001",
      list: async () => listed,
      fetch: async () => {
        throw new Error("the bench source delivers every record with its images");
      },
      erase: async () => true,
    };
    const writes = { fileWrites: 0, indexAppends: 0, dmesgWrites: 0 };
    const started = performance.now();
    await collectRecords(source, new Archive(root, new DurableWriter(countingFs(writes))), { erase: true });
    const ms = performance.now() - started;
    rmSync(root, { recursive: true, force: true });
    rows.push({ records: count, ms, msPerRecord: ms / count, ...writes });
  }
  return rows;
}
