// The pull pipeline, shared by `pstore pull` (a device) and `pstore decode` (an image file): every listed record is
// fetched, verified, decoded and archived durably; then, once every view is rebuilt, the records whose content the
// archive holds are erased on the source. A device or archive failure stops the pipeline at once; whatever was
// archived stays, and nothing is erased. The one device answer that does not stop it: a listed record the device
// no longer has (a ring page given up by a write while the pull ran) is gone, not failed.

import { CliError, ExitCode } from "../cli/errors";
import { ProtocolError } from "../protocol/errors";
import { decodeRecord, type DecodedRecord } from "./record";
import type { IndexEntry } from "./record-json";
import { checkRecordName, describeName } from "./safe-names";

/** One record as a source lists it (the core's RecordMeta, as far as the pipeline needs it). */
export interface SourceRecord {
  name: string;
  boot: number;
  seq: number;
  parts: number;
  storedLength: number;
  /** Every part's image when the listing delivered the record itself (the bulk stream): fetch is not asked then. */
  images?: Uint8Array[];
}

export interface RecordSource {
  /** Board and serial number, e.g. "PUCKJS 7f3a1c…": names the archive's device folder. */
  deviceId: string;
  /**
   * Why records of this source may not be erased even when archived (the device cannot be told apart from another
   * one, so its folder is shared): undefined when it may.
   */
  eraseRefusal?: string;
  list(): Promise<SourceRecord[]>;
  /** The stored bytes of every part, header first; `progress` gets bytes done of `total` for this record. */
  fetch(record: SourceRecord, progress: (done: number, total: number) => void): Promise<Uint8Array[]>;
  /** False when the source no longer had the record. Absent for sources that cannot erase (image files). */
  erase?(name: string): Promise<boolean>;
}

export interface StoredRecord {
  entry: IndexEntry;
  /** The record's boot folder. */
  folder: string;
  /** False when the store held this content already and nothing was written. */
  written: boolean;
}

/** Where collected records go: the archive folder (Archive), or the App Loader page's memory (PageArchive). */
export interface RecordStore {
  /** Called before anything is fetched, so an unusable store fails first. */
  prepare(): void;
  /** Keeps the record, unless the store holds this content already; durable at the next flush or finish. */
  store(deviceId: string, record: DecodedRecord, fallbackBoot?: number): StoredRecord;
  /** Makes every record stored so far durable: only then does it count as archived. */
  flush(): Promise<void>;
  /** Flushes and rebuilds each touched boot folder's views (dmesg.txt). */
  finish(): Promise<void>;
}

export interface CollectOptions {
  erase: boolean;
  signal?: AbortSignal;
  onProgress?: (name: string, done: number, total: number) => void;
}

export interface CollectedRecord {
  entry: IndexEntry;
  folder: string;
  /** Decoded text (text records and traces), for the summary. */
  text?: string;
  /** False when the archive held this content already (an earlier pull). */
  written: boolean;
  erased: boolean;
}

export interface CollectResult {
  records: CollectedRecord[];
  /** Records not archived, with the reason (a refused name). They stay on the device. */
  refused: string[];
  /** Names of listed records the device overwrote (ring or priority zone) before they could be fetched. */
  gone: string[];
  /** Archived records left on the device although erasing was asked for, with the reason. */
  notErased: string[];
}

export class InterruptedError extends CliError {
  constructor() {
    super("interrupted: records archived so far are complete, nothing else was erased", ExitCode.Interrupted);
  }
}

/** Records stored between two flushes: one file-system commit for many records, little lost to a cut-off pull. */
const FLUSH_EVERY = 256;

export async function collectRecords(source: RecordSource, archive: RecordStore, options: CollectOptions): Promise<CollectResult> {
  archive.prepare();
  const listed = await source.list();
  const result: CollectResult = { records: [], refused: [], gone: [], notErased: [] };
  /** Per name: whether every listed record of that name is archived by its own content (so erasing it loses nothing). */
  const safeToErase = new Map<string, boolean>();
  const timesListed = new Map<string, number>();
  for (const record of listed) timesListed.set(record.name, (timesListed.get(record.name) ?? 0) + 1);
  const unsafe = (name: string) => safeToErase.set(name, false);
  let sinceFlush = 0;
  try {
    for (const record of listed) {
      if (options.signal?.aborted) throw new InterruptedError();
      try {
        checkRecordName(record.name);
      } catch (error) {
        result.refused.push((error as Error).message);
        continue;
      }
      if (!safeToErase.has(record.name)) safeToErase.set(record.name, true);
      // The device reads and erases by name: a second record of that name comes back as the first (so it cannot be
      // archived), and erasing the name would erase both. Neither is erased.
      if (timesListed.get(record.name)! > 1) unsafe(record.name);
      let parts: Uint8Array[];
      try {
        parts = record.images ?? (await source.fetch(record, (done, total) => options.onProgress?.(record.name, done, total)));
      } catch (error) {
        if (!goneFromDevice(error, record.name)) throw error;
        result.gone.push(record.name);
        unsafe(record.name);
        continue;
      }
      if (options.signal?.aborted) throw new InterruptedError();
      const decoded = decodeRecord(record.name, parts);
      if (decoded.header && (decoded.header.boot !== record.boot || decoded.header.seq !== record.seq)) {
        result.refused.push(
          `${describeName(record.name)}: listed as boot ${record.boot} seq ${record.seq} but its header says boot ${decoded.header.boot} seq ${decoded.header.seq}`,
        );
        unsafe(record.name);
        continue;
      }
      const stored = archive.store(source.deviceId, decoded, record.boot);
      if (++sinceFlush === FLUSH_EVERY) {
        sinceFlush = 0;
        await archive.flush();
      }
      if (stored.entry.outcome === "corrupt") unsafe(record.name);
      result.records.push({ entry: stored.entry, folder: stored.folder, text: decoded.text, written: stored.written, erased: false });
    }
  } catch (error) {
    // What was stored stays archived; the first failure is the one to report.
    await archive.finish().catch(() => {});
    throw error;
  }
  await archive.finish();
  if (options.erase && source.erase) await eraseArchived(source, result, safeToErase, timesListed, options.signal);
  return result;
}

/** Erases, name by name, what the archive now holds; says why any archived record stays on the device. */
async function eraseArchived(
  source: RecordSource,
  result: CollectResult,
  safeToErase: Map<string, boolean>,
  timesListed: Map<string, number>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const archivedNames = [...new Set(result.records.filter((r) => r.entry.outcome !== "corrupt").map((r) => r.entry.name))];
  if (source.eraseRefusal) {
    if (archivedNames.length) result.notErased.push(`${archivedNames.length} archived record${archivedNames.length === 1 ? "" : "s"} left on the device: ${source.eraseRefusal}`);
    return;
  }
  const byName = new Map<string, CollectedRecord[]>();
  for (const r of result.records) byName.set(r.entry.name, [...(byName.get(r.entry.name) ?? []), r]);
  for (const name of archivedNames) {
    if (!safeToErase.get(name)) {
      const times = timesListed.get(name)!;
      result.notErased.push(`${name}: ${times > 1 ? `listed ${times} times and not every copy could be archived` : "a listed copy of it was not archived"}: left on the device`);
      continue;
    }
    if (signal?.aborted) throw new InterruptedError();
    const erased = await source.erase!(name);
    for (const r of byName.get(name)!) r.erased = erased;
  }
}

/** True when the device answered that it has no such part of `name` (the service's "no part N of record NAME"). */
function goneFromDevice(error: unknown, name: string): boolean {
  return error instanceof ProtocolError && error.code === "device-error" && new RegExp(`: no part [0-9]+ of record ${name}"?$`).test(error.message);
}
