// What `pull` and `decode` share: run the pipeline into DIR with a progress bar, then print the summary.

import { resolve } from "node:path";
import { Archive } from "../archive/archive";
import { collectRecords, type CollectResult, type RecordSource } from "../archive/collect";
import type { CliIo } from "./command";
import { ExitCode } from "./errors";
import { jsonDocument } from "../json/schema";
import { ProgressBar } from "./progress";
import { formatSummary } from "./summary";

export interface ArchiveRunOptions {
  out: string;
  erase: boolean;
  json: boolean;
  /** What the JSON report says it is. */
  kind: "pull" | "decode";
}

export async function archiveFrom(source: RecordSource, options: ArchiveRunOptions, io: CliIo): Promise<ExitCode> {
  const root = resolve(options.out);
  const bar = new ProgressBar(io.stderr);
  let result: CollectResult;
  try {
    result = await collectRecords(source, new Archive(root), {
      erase: options.erase,
      signal: io.signal,
      onProgress: (name, done, total) => bar.update(name, done, total),
    });
  } finally {
    bar.clear();
  }
  if (options.json) {
    const report = jsonDocument(options.kind, {
      device: source.deviceId,
      archive: root,
      records: result.records.map((r) => ({ ...r.entry, written: r.written, erased: r.erased, folder: r.folder })),
      refused: result.refused,
      gone: result.gone,
      notErased: result.notErased,
    });
    io.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    io.stdout.write(formatSummary(source.deviceId, result, root));
  }
  const incomplete = result.refused.length > 0 || result.notErased.length > 0 || result.records.some((r) => r.entry.outcome === "corrupt");
  return incomplete ? ExitCode.Data : ExitCode.Ok;
}
