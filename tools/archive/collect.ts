// The pull pipeline, shared by `pstore pull` (a device) and `pstore decode` (an image file): for each listed
// record, fetch its parts, verify and decode them, archive durably, and only then erase it on the source.
// A device or archive failure stops the pipeline at once; whatever was archived before stays, and nothing that
// is not durably archived is ever erased. The one device answer that does not stop it: a listed record the device
// no longer has (a ring page given up by a write while the pull ran) is gone, not failed.

import { CliError, ExitCode } from "../cli/errors";
import { ProtocolError } from "../protocol/errors";
import { decodeRecord, type DecodedRecord } from "./record";
import type { IndexEntry } from "./index-entries";
import { checkRecordName, describeName } from "./safe-names";

/** One record as a source lists it (the core's RecordMeta, as far as the pipeline needs it). */
export interface SourceRecord {
  name: string;
  boot: number;
  seq: number;
  parts: number;
  storedLength: number;
}

export interface RecordSource {
  /** Board and serial number, e.g. "PUCKJS 7f3a1c…": names the archive's device folder. */
  deviceId: string;
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
  /** False when the record was already in the archive and nothing was written. */
  written: boolean;
}

/** Where collected records go: the archive folder (Archive), or the App Loader page's memory. */
export interface RecordStore {
  /** Called before anything is fetched, so an unusable store fails first. */
  prepare(): void;
  /** The stored entry for device + boot + sequence (a corrupt copy does not count), if any. */
  archived(deviceId: string, boot: number, seq: number): IndexEntry | undefined;
  /** Keeps the record; once it returns, the record may be erased on the device. */
  store(deviceId: string, record: DecodedRecord, fallbackBoot?: number): StoredRecord;
  folderOf(deviceId: string, boot: number): string;
}

export interface CollectOptions {
  erase: boolean;
  signal?: AbortSignal;
  onProgress?: (name: string, done: number, total: number) => void;
}

export interface CollectedRecord {
  entry: IndexEntry;
  folder: string;
  /** Decoded text (text records and traces), for the summary; undefined when already archived earlier. */
  text?: string;
  /** False when an earlier pull had archived it already. */
  written: boolean;
  erased: boolean;
}

export interface CollectResult {
  records: CollectedRecord[];
  /** Records not archived, with the reason (a refused name). They stay on the device. */
  refused: string[];
  /** Names of listed records the device overwrote (ring or priority zone) before they could be fetched. */
  gone: string[];
}

export class InterruptedError extends CliError {
  constructor() {
    super("interrupted: records archived so far are complete, nothing else was erased", ExitCode.Interrupted);
  }
}

export async function collectRecords(source: RecordSource, archive: RecordStore, options: CollectOptions): Promise<CollectResult> {
  archive.prepare();
  const listed = await source.list();
  const result: CollectResult = { records: [], refused: [], gone: [] };
  for (const record of listed) {
    if (options.signal?.aborted) throw new InterruptedError();
    try {
      checkRecordName(record.name);
    } catch (error) {
      result.refused.push((error as Error).message);
      continue;
    }
    const known = archive.archived(source.deviceId, record.boot, record.seq);
    if (known && known.name === record.name) {
      result.records.push({ entry: known, folder: archive.folderOf(source.deviceId, record.boot), written: false, erased: await eraseIfAsked(source, options, record.name) });
      continue;
    }
    let parts: Uint8Array[];
    try {
      parts = await source.fetch(record, (done, total) => options.onProgress?.(record.name, done, total));
    } catch (error) {
      if (!goneFromDevice(error, record.name)) throw error;
      result.gone.push(record.name);
      continue;
    }
    if (options.signal?.aborted) throw new InterruptedError();
    const decoded = decodeRecord(record.name, parts);
    if (decoded.header && (decoded.header.boot !== record.boot || decoded.header.seq !== record.seq)) {
      result.refused.push(
        `${describeName(record.name)}: listed as boot ${record.boot} seq ${record.seq} but its header says boot ${decoded.header.boot} seq ${decoded.header.seq}`,
      );
      continue;
    }
    const stored = archive.store(source.deviceId, decoded, record.boot);
    const erasable = stored.entry.outcome !== "corrupt";
    result.records.push({
      entry: stored.entry,
      folder: stored.folder,
      text: decoded.text,
      written: stored.written,
      erased: erasable && (await eraseIfAsked(source, options, record.name)),
    });
  }
  return result;
}

/** True when the device answered that it has no such part of `name` (the service's "no part N of record NAME"). */
function goneFromDevice(error: unknown, name: string): boolean {
  return error instanceof ProtocolError && error.code === "device-error" && new RegExp(`: no part [0-9]+ of record ${name}$`).test(error.message);
}

async function eraseIfAsked(source: RecordSource, options: CollectOptions, name: string): Promise<boolean> {
  if (!options.erase || !source.erase) return false;
  if (options.signal?.aborted) throw new InterruptedError();
  return source.erase(name);
}
