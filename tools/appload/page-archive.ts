// Where the App Loader page keeps what it pulled: the archive's layout (one folder per device and boot, each
// record's files, the boot's records.jsonl and dmesg.txt) in memory, from which the user downloads files. Nothing
// is erased on the watch before its files were handed to the browser as downloads. A record counts as held by its
// content, as in the archive folder (index-entries.ts).

import type { RecordStore, StoredRecord } from "../archive/collect";
import { buildDmesgText, DMESG_FILE } from "../archive/dmesg-text";
import { IndexEntries, INDEX_FILE } from "../archive/index-entries";
import { indexEntryOf, type DecodedRecord } from "../archive/record";
import { deviceFolderName } from "../archive/safe-names";

/** A file the page hands to the browser, named within its boot folder. */
export interface PageFile {
  name: string;
  data: Uint8Array;
}

export interface BootFolder {
  /** `<device>_<boot>`: the prefix of every file downloaded from it. */
  key: string;
  deviceId: string;
  boot: number;
  index: IndexEntries;
  files: Map<string, Uint8Array>;
}

export class PageArchive implements RecordStore {
  private readonly folders = new Map<string, BootFolder>();

  prepare(): void {}

  /** Memory holds what the page stored as soon as it is stored; the downloads are the page's durable step. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }

  store(deviceId: string, record: DecodedRecord, fallbackBoot = 0): StoredRecord {
    const boot = record.header ? record.header.boot : fallbackBoot;
    const key = this.folderOf(deviceId, boot);
    let folder = this.folders.get(key);
    if (!folder) {
      folder = { key, deviceId, boot, index: new IndexEntries(), files: new Map() };
      this.folders.set(key, folder);
    }
    const seq = record.header ? record.header.seq : 0;
    const held = record.outcome === "corrupt" ? undefined : folder.index.holding(seq, record.crcs);
    if (held) return { entry: held, folder: key, written: false };
    const archivedAs = folder.index.archiveNameFor(record.name);
    for (const file of record.files) folder.files.set(archivedAs + file.suffix, file.data);
    const entry = indexEntryOf(deviceId, record, boot, archivedAs);
    folder.index.put(entry);
    return { entry, folder: key, written: true };
  }

  folderOf(deviceId: string, boot: number): string {
    return `${deviceFolderName(deviceId)}_${boot >>> 0}`;
  }

  /** Every boot folder, the latest boot first. */
  boots(): BootFolder[] {
    return [...this.folders.values()].sort((a, b) => b.boot - a.boot);
  }

  folder(key: string): BootFolder {
    const folder = this.folders.get(key);
    if (!folder) throw new Error(`no folder ${key}`);
    return folder;
  }

  /** The files of one record, as stored. */
  recordFiles(key: string, names: readonly string[]): PageFile[] {
    const folder = this.folder(key);
    return names.map((name) => ({ name, data: folder.files.get(name) ?? new Uint8Array(0) }));
  }

  /** dmesg.txt and records.jsonl of a boot folder, as `pstore pull` writes them. */
  bootFiles(key: string): PageFile[] {
    const folder = this.folder(key);
    const dmesg = buildDmesgText(folder.deviceId, folder.boot, folder.index.all(), (name) => {
      const data = folder.files.get(name);
      return data && new TextDecoder().decode(data);
    });
    return [
      { name: DMESG_FILE, data: new TextEncoder().encode(dmesg) },
      { name: INDEX_FILE, data: new TextEncoder().encode(folder.index.text()) },
    ];
  }
}
