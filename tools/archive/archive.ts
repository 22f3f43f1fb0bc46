// The archive folder, as systemd-pstore keeps /var/lib/systemd/pstore: DIR/<device>/<boot>/ holds each record
// as a file named like the record, a rebuilt dmesg.txt, and records.jsonl. Everything goes through DurableWriter,
// so once `store` returns, the record survives a power cut and may be erased on the device.

import { join } from "node:path";
import { Flag, reasonName, typeName } from "../../pstore/format";
import { DurableWriter } from "./durable";
import { buildDmesgText, DMESG_FILE } from "./dmesg-text";
import type { DecodedRecord } from "./record";
import { codecName, flagNames } from "./record";
import { RecordIndex, type IndexEntry } from "./record-index";
import { deviceFolderName, pathInside } from "./safe-names";

export interface StoredRecord {
  entry: IndexEntry;
  /** The record's boot folder. */
  folder: string;
  /** False when the record was already in the archive and nothing was written. */
  written: boolean;
}

export class Archive {
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
    const entry: IndexEntry = {
      device: deviceId,
      boot,
      seq,
      name: record.name,
      type: header ? typeName(header.type) : "unknown",
      reason: header ? reasonName(header.reason) : "unknown",
      codec: header ? codecName(header.codec) : "unknown",
      flags: header ? flagNames(header.flags) : [],
      parts: header ? header.parts : 0,
      time: header && header.flags & Flag.TimeValid ? new Date(header.time * 1000).toISOString() : null,
      uptimeMs: header ? header.uptime : 0,
      storedBytes: record.storedLength,
      originalBytes: header ? header.originalLength : 0,
      outcome: record.outcome,
      ...(record.problem ? { problem: record.problem } : {}),
      files: record.files.map((f) => f.name),
      archivedAt: new Date().toISOString(),
    };
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
