// Where the App Loader page keeps what it pulled: the archive's layout (one folder per device and boot, each
// record's files, the boot's records.jsonl and dmesg.txt) in memory, from which the user downloads files. Nothing
// is erased on the watch before its files were handed to the browser as downloads.

import type { RecordStore, StoredRecord } from "../archive/collect";
import { buildDmesgText, DMESG_FILE } from "../archive/dmesg-text";
import { IndexEntries, INDEX_FILE } from "../archive/index-entries";
import { indexEntryOf, type DecodedRecord, type RecordFile } from "../archive/record";
import { deviceFolderName } from "../archive/safe-names";

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

  archived(deviceId: string, boot: number, seq: number) {
    return this.folders.get(this.folderOf(deviceId, boot))?.index.archived(seq);
  }

  store(deviceId: string, record: DecodedRecord, fallbackBoot = 0): StoredRecord {
    const boot = record.header ? record.header.boot : fallbackBoot;
    const key = this.folderOf(deviceId, boot);
    let folder = this.folders.get(key);
    if (!folder) {
      folder = { key, deviceId, boot, index: new IndexEntries(), files: new Map() };
      this.folders.set(key, folder);
    }
    const existing = record.header ? folder.index.archived(record.header.seq) : undefined;
    if (existing) return { entry: existing, folder: key, written: false };
    for (const file of record.files) folder.files.set(file.name, file.data);
    const entry = indexEntryOf(deviceId, record, boot);
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
  recordFiles(key: string, names: readonly string[]): RecordFile[] {
    const folder = this.folder(key);
    return names.map((name) => ({ name, data: folder.files.get(name) ?? new Uint8Array(0) }));
  }

  /** dmesg.txt and records.jsonl of a boot folder, as `pstore pull` writes them. */
  bootFiles(key: string): RecordFile[] {
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
