// The entries of records.jsonl, in memory: one per record, by sequence number, corrupt copies replaceable. The
// archive folder keeps them durably (record-index.ts); the App Loader page keeps them for its downloads.

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

export class IndexEntries {
  constructor(private readonly entries: IndexEntry[] = []) {}

  all(): readonly IndexEntry[] {
    return this.entries;
  }

  /** The archived entry for a sequence number, ignoring corrupt copies (those are replaced when fetched again). */
  archived(seq: number): IndexEntry | undefined {
    return this.entries.find((e) => e.seq === seq && e.outcome !== "corrupt");
  }

  /** Adds or replaces the entry with the same sequence number, keeping them in sequence order. */
  put(entry: IndexEntry): void {
    const at = this.entries.findIndex((e) => e.seq === entry.seq);
    if (at >= 0) this.entries[at] = entry;
    else this.entries.push(entry);
    this.entries.sort((a, b) => (a.seq - b.seq) | 0);
  }

  /** records.jsonl: one JSON line per entry. */
  text(): string {
    return this.entries.map((e) => JSON.stringify(e)).join("\n") + "\n";
  }
}
