// records.jsonl: one line of metadata per archived record, in the record's boot folder. It is the archive's
// memory: a record whose content (the CRC of every part) is already in it is not archived again, so pulling twice
// never duplicates, and a different record under a name already used (counters restarted after a wipe) is kept
// beside it under a suffixed name. Lines are appended, each flushed before the record may be erased; a line torn
// by a power cut is dropped at the next load (its record was not erased, so it comes back).

import { join } from "node:path";
import { ArchiveError } from "../cli/errors";
import type { DurableWriter } from "./durable";
import { checkIndexEntry, type IndexEntry } from "./record-json";

export const INDEX_FILE = "records.jsonl";

export class RecordIndex {
  private readonly entries: IndexEntry[] = [];
  private readonly bySeq = new Map<number, IndexEntry[]>();
  private readonly byArchivedName = new Map<string, IndexEntry>();
  private readonly path: string;

  /** `exists`: whether the folder is there already (otherwise there is nothing to read yet). */
  constructor(
    private readonly writer: DurableWriter,
    private readonly folder: string,
    exists: boolean,
  ) {
    this.path = join(folder, INDEX_FILE);
    const text = exists ? writer.readText(this.path) : undefined;
    if (text === undefined || text === "") return;
    const lines = text.split("\n");
    const torn = lines.pop() !== "";
    lines.forEach((line, i) => {
      if (line.trim() !== "") this.add(this.parseLine(line, i + 1));
    });
    // A last line without its newline was cut by a power cut mid-append: its record was never erased, so drop it.
    if (torn) this.rewrite();
  }

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

  /** Adds the entry durably: appended as one line, or the index rewritten when it replaces a corrupt copy's line. */
  put(entry: IndexEntry): void {
    const replaced = this.byArchivedName.get(entry.archivedAs);
    if (replaced) {
      this.entries.splice(this.entries.indexOf(replaced), 1);
      const same = this.bySeq.get(replaced.seq)!;
      same.splice(same.indexOf(replaced), 1);
      this.add(entry);
      this.rewrite();
      return;
    }
    this.add(entry);
    this.writer.appendFile(this.folder, INDEX_FILE, JSON.stringify(entry) + "\n");
  }

  private add(entry: IndexEntry): void {
    this.entries.push(entry);
    this.byArchivedName.set(entry.archivedAs, entry);
    const same = this.bySeq.get(entry.seq);
    if (same) same.push(entry);
    else this.bySeq.set(entry.seq, [entry]);
  }

  private rewrite(): void {
    this.writer.writeFile(this.folder, INDEX_FILE, this.entries.map((e) => JSON.stringify(e) + "\n").join(""));
  }

  private parseLine(line: string, number: number): IndexEntry {
    const fix = "fix or move the file before pulling again";
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ArchiveError(`${this.path} line ${number} is not JSON: ${fix}`);
    }
    const problem = checkIndexEntry(value);
    if (problem) throw new ArchiveError(`${this.path} line ${number} is not a record line: ${problem}; ${fix}`);
    return value as IndexEntry;
  }
}
