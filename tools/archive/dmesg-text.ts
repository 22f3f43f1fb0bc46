// dmesg.txt: the story of one boot, rebuilt from every text record archived in its folder (events, the dmesg
// log ring, the console tail, application messages), oldest first. Rewritten whole once per pull in each folder a
// record landed in, so pulling in several goes gives the same file as pulling once. Traces stay in their own files.

import type { IndexEntry } from "./record-json";
import { formatWhen } from "../cli/table";

export const DMESG_FILE = "dmesg.txt";

const STORY_TYPES = ["event", "dmesg", "console", "pmsg"];

export function buildDmesgText(
  deviceId: string,
  boot: number,
  entries: readonly IndexEntry[],
  readFile: (name: string) => string | undefined,
): string {
  const lines = [`pstore records of ${deviceId}, boot ${boot} (${entries.length} record${entries.length === 1 ? "" : "s"}), oldest first`];
  const ordered = [...entries].sort((a, b) => (a.seq - b.seq) | 0 || (a.archivedAs < b.archivedAs ? -1 : a.archivedAs > b.archivedAs ? 1 : 0));
  for (const e of ordered) {
    const when = formatWhen(e.time, e.uptimeMs);
    lines.push("", `--- ${e.archivedAs}: ${e.type}, reason ${e.reason}, ${when}${e.flags.length ? `, ${e.flags.join(" ")}` : ""} ---`);
    if (e.outcome === "dropped") {
      lines.push(`(not kept: the zone was full, only a drop marker for ${e.originalBytes} bytes was stored)`);
    } else if (e.outcome !== "ok") {
      lines.push(`(${e.outcome}: ${e.problem ?? "no detail"}; raw bytes kept in ${e.files.join(", ")})`);
    } else if (STORY_TYPES.includes(e.type)) {
      const text = readFile(e.archivedAs);
      lines.push(text === undefined ? `(missing file ${e.archivedAs})` : text.replace(/\n$/, ""));
    } else {
      lines.push(`(decoded in ${e.archivedAs})`);
    }
  }
  return lines.join("\n") + "\n";
}
