// The entries of records.jsonl, in memory, keyed by content: a record whose content (the CRC of every part) is in
// them is archived already, and a different record under a name already used (counters restarted after a wipe)
// gets a suffixed name. The archive folder keeps them durably (record-index.ts); the App Loader page keeps them
// for its downloads.

import type { IndexEntry } from "./record-json";

export const INDEX_FILE = "records.jsonl";

export class IndexEntries {
  private readonly entries: IndexEntry[] = [];
  private readonly bySeq = new Map<number, IndexEntry[]>();
  private readonly byArchivedName = new Map<string, IndexEntry>();

  all(): readonly IndexEntry[] {
    return this.entries;
  }

  /** The entry holding exactly this content (same sequence number and part CRCs, not corrupt), if any. */
  holding(seq: number, crcs: readonly string[]): IndexEntry | undefined {
    return this.bySeq
      .get(seq)
      ?.find((e) => e.outcome !== "corrupt" && e.crcs.length === crcs.length && e.crcs.every((crc, i) => crc === crcs[i]));
  }

  /**
   * The name to archive a new record `name` under: `name` itself, or `name~2`, `name~3`… when another record's
   * content already has it. A corrupt copy's name is reused: the new copy replaces its index line.
   */
  archiveNameFor(name: string): string {
    for (let k = 1; ; k++) {
      const candidate = k === 1 ? name : `${name}~${k}`;
      const taken = this.byArchivedName.get(candidate);
      if (!taken || taken.outcome === "corrupt") return candidate;
    }
  }

  /** Adds the entry; true when it replaced a corrupt copy's entry under the same archived name. */
  put(entry: IndexEntry): boolean {
    const replaced = this.byArchivedName.get(entry.archivedAs);
    if (replaced) {
      this.entries.splice(this.entries.indexOf(replaced), 1);
      const same = this.bySeq.get(replaced.seq)!;
      same.splice(same.indexOf(replaced), 1);
    }
    this.entries.push(entry);
    this.byArchivedName.set(entry.archivedAs, entry);
    const same = this.bySeq.get(entry.seq);
    if (same) same.push(entry);
    else this.bySeq.set(entry.seq, [entry]);
    return replaced !== undefined;
  }

  /** records.jsonl: one JSON line per entry. */
  text(): string {
    return this.entries.map((e) => JSON.stringify(e) + "\n").join("");
  }
}
