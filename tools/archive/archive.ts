// The archive folder, as systemd-pstore keeps /var/lib/systemd/pstore: DIR/<device>/<boot>/ holds each record
// as a file named like the record, a rebuilt dmesg.txt, and records.jsonl. Everything goes through DurableWriter,
// so once `store` returns, the record survives a power cut and may be erased on the device.

import { join } from "node:path";
import { DurableWriter } from "./durable";
import { buildDmesgText, DMESG_FILE } from "./dmesg-text";
import { indexEntryOf, type DecodedRecord } from "./record";
import { RecordIndex, type IndexEntry } from "./record-index";
import type { RecordStore, StoredRecord } from "./collect";
import { deviceFolderName } from "./safe-names";
import { pathInside } from "./paths";

export class Archive implements RecordStore {
  private readonly indexes = new Map<string, RecordIndex>();

  constructor(
    readonly root: string,
    private readonly writer: DurableWriter = new DurableWriter(),
  ) {}

  /** Creates the archive folder now, so an unusable one fails before anything is fetched. */
  prepare(): void {
    this.writer.ensureFolder(this.root);
  }

  /** The archived entry for device + boot + sequence (a corrupt copy does not count), if any. */
  archived(deviceId: string, boot: number, seq: number): IndexEntry | undefined {
    return this.index(deviceId, boot).archived(seq);
  }

  /** Writes the record's files, its index line and the boot's dmesg.txt, each durably, in that order. */
  store(deviceId: string, record: DecodedRecord, fallbackBoot = 0): StoredRecord {
    const header = record.header;
    const boot = header ? header.boot : fallbackBoot;
    const index = this.index(deviceId, boot);
    const seq = header ? header.seq : 0;
    const existing = header ? index.archived(seq) : undefined;
    if (existing) return { entry: existing, folder: this.folderOf(deviceId, boot), written: false };
    const folder = this.writer.ensureFolder(this.root, deviceFolderName(deviceId), String(boot >>> 0));

    for (const file of record.files) this.writer.writeFile(folder, file.name, file.data);
    const entry = indexEntryOf(deviceId, record, boot);
    index.put(entry);
    this.writer.writeFile(folder, DMESG_FILE, buildDmesgText(deviceId, boot, index.all(), (name) => this.writer.readText(join(folder, name))));
    return { entry, folder, written: true };
  }

  folderOf(deviceId: string, boot: number): string {
    return pathInside(this.root, deviceFolderName(deviceId), String(boot >>> 0));
  }

  private index(deviceId: string, boot: number): RecordIndex {
    const key = `${deviceFolderName(deviceId)}/${boot >>> 0}`;
    let index = this.indexes.get(key);
    if (!index) {
      index = new RecordIndex(this.writer, this.folderOf(deviceId, boot));
      this.indexes.set(key, index);
    }
    return index;
  }
}
