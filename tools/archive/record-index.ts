// records.jsonl: one line of metadata per archived record, in the record's boot folder. It is the archive's
// memory: a record already in it (same device, boot and sequence) is not archived again, so pulling twice
// never duplicates. Rewritten whole through DurableWriter, so a power cut leaves the old or the new index.

import { join } from "node:path";
import { ArchiveError } from "../cli/errors";
import type { DurableWriter } from "./durable";
import { INDEX_FILE, IndexEntries, type IndexEntry } from "./index-entries";

export { INDEX_FILE, type IndexEntry, type RecordOutcome } from "./index-entries";

/** The entries of one boot folder, each change written durably to its records.jsonl. */
export class RecordIndex extends IndexEntries {
  constructor(
    private readonly writer: DurableWriter,
    private readonly folder: string,
  ) {
    const path = join(folder, INDEX_FILE);
    const text = writer.readText(path) ?? "";
    super(
      text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line, i) => {
          try {
            return JSON.parse(line) as IndexEntry;
          } catch {
            throw new ArchiveError(`${path} line ${i + 1} is not JSON: fix or move the file before pulling again`);
          }
        }),
    );
  }

  /** Adds or replaces the entry with the same sequence number and writes the index durably. */
  override put(entry: IndexEntry): void {
    super.put(entry);
    this.writer.writeFile(this.folder, INDEX_FILE, this.text());
  }
}
