// records.jsonl: one line of metadata per archived record, in the record's boot folder. It is the archive's
// memory: a record whose content is already in it is not archived again, so pulling twice never duplicates
// (index-entries.ts). Lines are appended, each flushed before the record may be erased; a line torn by a power
// cut is dropped at the next load (its record was not erased, so it comes back).

import { join } from "node:path";
import { ArchiveError } from "../cli/errors";
import { schemaProblem } from "../json/schema";
import type { DurableWriter } from "./durable";
import { INDEX_FILE, IndexEntries } from "./index-entries";
import type { IndexEntry } from "./record-json";

export { INDEX_FILE };

/** The entries of one boot folder, each change written durably to its records.jsonl. */
export class RecordIndex extends IndexEntries {
  private readonly path: string;

  /** `exists`: whether the folder is there already (otherwise there is nothing to read yet). */
  constructor(
    private readonly writer: DurableWriter,
    private readonly folder: string,
    exists: boolean,
  ) {
    super();
    this.path = join(folder, INDEX_FILE);
    const text = exists ? writer.readText(this.path) : undefined;
    if (text === undefined || text === "") return;
    const lines = text.split("\n");
    const torn = lines.pop() !== "";
    lines.forEach((line, i) => {
      if (line.trim() !== "") super.put(this.parseLine(line, i + 1));
    });
    // A last line without its newline was cut by a power cut mid-append: its record was never erased, so drop it.
    if (torn) this.rewrite();
  }

  /** Adds the entry durably: appended as one line, or the index rewritten when it replaces a corrupt copy's line. */
  override put(entry: IndexEntry): boolean {
    const replaced = super.put(entry);
    if (replaced) this.rewrite();
    else this.writer.appendFile(this.folder, INDEX_FILE, JSON.stringify(entry) + "\n");
    return replaced;
  }

  private rewrite(): void {
    this.writer.writeFile(this.folder, INDEX_FILE, this.text());
  }

  private parseLine(line: string, number: number): IndexEntry {
    const fix = "fix or move the file before pulling again";
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new ArchiveError(`${this.path} line ${number} is not JSON: ${fix}`);
    }
    const problem = schemaProblem("indexLine", value);
    if (problem) throw new ArchiveError(`${this.path} line ${number} is not a record line: ${problem}; ${fix}`);
    return value as IndexEntry;
  }
}
