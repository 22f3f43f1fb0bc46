// The archive folder, as systemd-pstore keeps /var/lib/systemd/pstore: DIR/<device>/<boot>/ holds each record
// as a file named like the record, records.jsonl, and dmesg.txt rebuilt from them. Everything goes through
// DurableWriter, so once `store` returns, the record's content survives a power cut and may be erased on the device.
// A record counts as archived only by its content (the CRC of every part), never by its name or sequence number
// alone: after a wipe the device's counters start again, and a new record with an old name is kept beside the old.

import { join } from "node:path";
import { DurableWriter } from "./durable";
import { buildDmesgText, DMESG_FILE } from "./dmesg-text";
import { indexEntryOf, type DecodedRecord } from "./record";
import { RecordIndex } from "./record-index";
import type { RecordStore, StoredRecord } from "./collect";
import { pathInside } from "./paths";
import { deviceFolderName } from "./safe-names";

export class Archive implements RecordStore {
  /** By boot folder (device folder name and boot): two device ids that sanitize alike share one index. */
  private readonly indexes = new Map<string, { index: RecordIndex; deviceId: string; boot: number }>();
  /** Boot folders whose dmesg.txt must be rebuilt by finish(). */
  private readonly touched = new Set<string>();

  constructor(
    readonly root: string,
    private readonly writer: DurableWriter = new DurableWriter(),
  ) {}

  /** Creates the archive folder now, so an unusable one fails before anything is fetched; writes go in batches. */
  prepare(): void {
    this.writer.ensureFolder(this.root);
    this.writer.beginBatch();
  }

  /** Makes every record stored so far durable: only then does it count as archived. */
  flush(): Promise<void> {
    return this.writer.commit();
  }

  /**
   * Writes the record's files and its index line (durable at the next flush or finish), unless the archive holds
   * this content already (then only its entry comes back). A corrupt record (no verified content) is written every time.
   */
  store(deviceId: string, record: DecodedRecord, fallbackBoot = 0): StoredRecord {
    const header = record.header;
    const boot = header ? header.boot : fallbackBoot;
    const seq = header ? header.seq : 0;
    const key = this.key(deviceId, boot);
    const index = this.index(deviceId, boot);
    this.touched.add(key);
    const held = record.outcome === "corrupt" ? undefined : index.holding(seq, record.crcs);
    if (held) return { entry: held, folder: this.folderOf(deviceId, boot), written: false };
    const folder = this.writer.ensureFolder(this.root, deviceFolderName(deviceId), String(boot >>> 0));

    const archivedAs = index.archiveNameFor(record.name);
    for (const file of record.files) this.writer.writeFile(folder, archivedAs + file.suffix, file.data);
    const entry = indexEntryOf(deviceId, record, boot, archivedAs);
    index.put(entry);
    return { entry, folder, written: true };
  }

  /** Makes every stored record durable, then rebuilds dmesg.txt, once, in every boot folder a record landed in. */
  async finish(): Promise<void> {
    await this.flush();
    for (const key of this.touched) {
      const { index, deviceId, boot } = this.indexes.get(key)!;
      const folder = this.writer.ensureFolder(this.root, deviceFolderName(deviceId), String(boot));
      this.writer.writeFile(folder, DMESG_FILE, buildDmesgText(deviceId, boot, index.all(), (name) => this.writer.readText(join(folder, name))));
    }
    this.touched.clear();
    await this.flush();
  }

  folderOf(deviceId: string, boot: number): string {
    return pathInside(this.root, deviceFolderName(deviceId), String(boot >>> 0));
  }

  private key(deviceId: string, boot: number): string {
    return `${deviceFolderName(deviceId)}/${boot >>> 0}`;
  }

  private index(deviceId: string, boot: number): RecordIndex {
    const key = this.key(deviceId, boot);
    let known = this.indexes.get(key);
    if (!known) {
      // Checked folder by folder (no symlinks); a folder that exists is cleared of temporaries a killed run left.
      const folder = this.writer.findFolder(this.root, deviceFolderName(deviceId), String(boot >>> 0));
      if (folder) this.writer.removeStaleTemporaries(folder);
      known = { index: new RecordIndex(this.writer, this.folderOf(deviceId, boot), folder !== undefined), deviceId, boot: boot >>> 0 };
      this.indexes.set(key, known);
    }
    return known.index;
  }
}
