// records.jsonl: one line of metadata per archived record, in the record's boot folder. It is the archive's
// memory: a record already in it (same device, boot and sequence) is not archived again, so pulling twice
// never duplicates. Rewritten whole through DurableWriter, so a power cut leaves the old or the new index.

import { join } from "node:path";
import { ArchiveError } from "../cli/errors";
import type { DurableWriter } from "./durable";

export const INDEX_FILE = "records.jsonl";

/** How a record came out of verification and decoding. */
export type RecordOutcome =
  /** Verified and decoded: the archive file holds the decoded content. */
  | "ok"
  /** CRC holds but it would not decompress or decode: archived as stored, under a name that says so. */
  | "undecoded"
  /** The record CRC does not hold: archived as received, and left on the device (a new pull may fetch it intact). */
  | "corrupt"
  /** A drop marker: a keep-first or priority zone was full, so the record was not kept. Indexed, no file. */
  | "dropped";

export interface IndexEntry {
  device: string;
  boot: number;
  seq: number;
  name: string;
  type: string;
  reason: string;
  codec: string;
  flags: string[];
  parts: number;
  /** ISO time of the write when the device clock was set, otherwise null. */
  time: string | null;
  uptimeMs: number;
  storedBytes: number;
  originalBytes: number;
  outcome: RecordOutcome;
  /** Why the outcome is not "ok". */
  problem?: string;
  /** Archive files written for this record, relative to its boot folder. */
  files: string[];
  archivedAt: string;
}

export class RecordIndex {
  private readonly entries: IndexEntry[];

  constructor(
    private readonly writer: DurableWriter,
    private readonly folder: string,
  ) {
    const path = join(folder, INDEX_FILE);
    const text = writer.readText(path) ?? "";
    this.entries = text
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line, i) => {
        try {
          return JSON.parse(line) as IndexEntry;
        } catch {
          throw new ArchiveError(`${path} line ${i + 1} is not JSON: fix or move the file before pulling again`);
        }
      });
  }

  all(): readonly IndexEntry[] {
    return this.entries;
  }

  /** The archived entry for a sequence number, ignoring corrupt copies (those are replaced when fetched again). */
  archived(seq: number): IndexEntry | undefined {
    return this.entries.find((e) => e.seq === seq && e.outcome !== "corrupt");
  }

  /** Adds or replaces the entry with the same sequence number and writes the index durably. */
  put(entry: IndexEntry): void {
    const at = this.entries.findIndex((e) => e.seq === entry.seq);
    if (at >= 0) this.entries[at] = entry;
    else this.entries.push(entry);
    this.entries.sort((a, b) => (a.seq - b.seq) | 0);
    this.writer.writeFile(this.folder, INDEX_FILE, this.entries.map((e) => JSON.stringify(e)).join("\n") + "\n");
  }
}
