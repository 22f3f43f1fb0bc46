// The end of a pull: one line telling what happened ("3 records from PUCKJS 7f3a…: watchdog reset after
// 'Uncaught Error: boom'"), then a table of the records and where they went.

import { relative } from "node:path";
import type { CollectResult } from "../archive/collect";
import { droppedLine, printable, shortDeviceId, storyOf } from "./story";
import { formatBytes, formatTable, formatWhen } from "./table";

export function formatSummary(deviceId: string, result: CollectResult, archiveRoot: string): string {
  const fresh = result.records.filter((r) => r.written).length;
  const count = result.records.length;
  const head = `${count} record${count === 1 ? "" : "s"} from ${shortDeviceId(deviceId)}: ${storyOf(result)}`;
  const lines = [head];
  if (count) {
    lines.push(
      formatTable(
        ["NAME", "TYPE", "REASON", "TIME", "SIZE", "RESULT", "ARCHIVED AS"],
        result.records.map((r) => [
          r.entry.name,
          r.entry.type,
          r.entry.reason,
          formatWhen(r.entry.time, r.entry.uptimeMs),
          formatBytes(r.entry.originalBytes),
          (r.written ? r.entry.outcome : "already archived") + (r.erased ? ", erased" : ""),
          r.entry.outcome === "dropped" ? "(index only)" : relative(archiveRoot, `${r.folder}/${r.entry.files[0]}`),
        ]),
      ).trimEnd(),
    );
  }
  if (fresh !== count) lines.push(`${count - fresh} of them were already in ${archiveRoot}`);
  const drops = droppedLine(result);
  if (drops) lines.push(drops);
  for (const problem of result.refused) lines.push(`not archived: ${printable(problem, 200)}`);
  for (const problem of result.notErased) lines.push(`not erased: ${printable(problem, 200)}`);
  if (result.gone.length) {
    const n = result.gone.length;
    lines.push(`${n} listed record${n === 1 ? " was" : "s were"} overwritten on the device before ${n === 1 ? "it" : "they"} could be fetched: ${result.gone.join(", ")}`);
  }
  for (const r of result.records) {
    if (r.written && r.entry.problem && r.entry.outcome !== "dropped") lines.push(`${r.entry.outcome}: ${printable(r.entry.problem, 200)}`);
  }
  return lines.join("\n") + "\n";
}
