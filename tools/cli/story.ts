// What a set of collected records says happened, in one line ("watchdog reset after 'Uncaught Error: boom'"),
// and device text made safe to show: for the pull summary and the App Loader page alike.

import type { CollectResult } from "../archive/collect";

/** How each reason reads in the story, most telling first (lower Reason numbers are more important). */
const REASON_STORY: Record<string, string> = {
  panic: "panic",
  oom: "out of memory",
  exception: "uncaught exception",
  rejection: "unhandled promise rejection",
  watchdog: "watchdog reset",
  lockup: "lock-up (hard fault) reset",
  brownout: "brown-out reset",
  powerloss: "power loss",
  errorflag: "interpreter error flag",
  shutdown: "clean shutdown",
};
/** Reasons that say how the run ended (a reset cause) rather than what went wrong inside it. */
const RESET_REASONS = ["watchdog", "lockup", "brownout", "powerloss", "shutdown"];
const ERROR_LINE = /(Uncaught [^\r\n]*|OUT OF MEMORY[^\r\n]*|Unhandled promise rejection[^\r\n]*|[A-Za-z]*Error: [^\r\n]*)/;

/** Device text shown on the terminal: control characters (escape sequences included) become "?". */
export function printable(text: string, max = 100): string {
  const clean = text.replace(/[\x00-\x1f\x7f-\x9f]/g, "?").trim();
  return clean.length > max ? clean.slice(0, max - 1) + "…" : clean;
}

/** "PUCKJS 7f3a1c2b…" from a device id with a long serial number. */
export function shortDeviceId(deviceId: string): string {
  return printable(deviceId.replace(/^(\S+ [0-9a-fA-F]{4})[0-9a-fA-F]{5,}$/, "$1…"), 60);
}

/** The story of the records this pull archived (not those an earlier pull had): what happened last, and why. */
export function storyOf(result: CollectResult): string {
  const records = result.records.filter((r) => r.written).sort((a, b) => a.entry.boot - b.entry.boot || (a.entry.seq - b.entry.seq) | 0);
  const reasons = new Set(records.map((r) => r.entry.reason));
  const errorsIn = (list: typeof records) =>
    list.flatMap((r) => (r.text ? [...r.text.matchAll(new RegExp(ERROR_LINE, "g"))].map((m) => m[1]) : []));
  // The latest reset tells how the device last went down, when an error was written before it: the one that led to it.
  let resetAt = -1;
  records.forEach((r, i) => {
    if (RESET_REASONS.includes(r.entry.reason)) resetAt = i;
  });
  const leadingToReset = errorsIn(records.slice(0, Math.max(resetAt, 0))).pop();
  if (leadingToReset) return `${REASON_STORY[records[resetAt].entry.reason]} after '${printable(leadingToReset, 70)}'`;
  // Otherwise (no reset since the last error: the run that failed is still the one running) the worst reason tells.
  const error = errorsIn(records).pop();
  const worst = Object.keys(REASON_STORY).find((r) => reasons.has(r));
  if (error) return `${worst ? REASON_STORY[worst] + ": " : ""}'${printable(error, 70)}'`;
  if (worst) return REASON_STORY[worst];
  if (records.length) return "no crash recorded";
  return result.records.length ? "nothing new" : "nothing stored";
}

/** "2 later crashes not kept (zone full: drop markers dmesg-flash-9, dmesg-flash-14)", per record type; a long list of markers shows its ends. */
export function droppedLine(result: CollectResult): string | undefined {
  const dropped = result.records.filter((r) => r.entry.outcome === "dropped");
  if (!dropped.length) return undefined;
  const types = [...new Set(dropped.map((r) => r.entry.type))];
  const counts = types.map((type) => {
    const n = dropped.filter((r) => r.entry.type === type).length;
    const noun = type === "dmesg" ? (n === 1 ? "crash" : "crashes") : `${type} record${n === 1 ? "" : "s"}`;
    return `${n} later ${noun}`;
  });
  const names = dropped.map((r) => r.entry.name);
  const shown = names.length > 3 ? `${names[0]}, …, ${names[names.length - 1]}` : names.join(", ");
  return `${counts.join(", ")} not kept (zone full: drop marker${names.length === 1 ? "" : "s"} ${shown})`;
}
