// dmesg frontend (Linux's kmsg_dump): when something goes wrong, the cause and the tail of the console ring go to
// flash as one dmesg record, written on the crash path (prepared space only, no erase).
//
// Payload text: "<headline>\n--- console ---\n<console tail>", where the headline is what the firmware would have
// printed, e.g. "Uncaught Error: boom\n    at f (:1:40)\n...". The headline is cut at `headlineMax` characters
// (flag Truncated), so a crash never allocates more than headlineMax + ring size.
// `maxReason` works as Linux's max_reason: only reasons <= maxReason are dumped (lower = more important).

import { Flag, Reason, RecordType } from "./format";
import type { ConsoleRing } from "./console";
import { joinBytes } from "./codec";
import { FrontendContext, saveRecord } from "./frontend";

const CONSOLE_SEPARATOR = "\n--- console ---\n";
const REJECTION_PREFIX = "Unhandled promise rejection: ";

/**
 * What Espruino prints for an uncaught error: "Uncaught " + String(e), then the stack frames. An unhandled
 * rejection reaches process.on('uncaughtException') as an Error whose message starts "Unhandled promise rejection: ".
 */
export function describeUncaught(e: any): { reason: Reason; text: string } {
  const message = e && typeof e.message === "string" ? e.message : "";
  const stack = e && typeof e.stack === "string" ? e.stack : "";
  const text = "Uncaught " + String(e) + (stack ? "\n" + stack.replace(/\n+$/, "") : "");
  return { reason: message.indexOf(REJECTION_PREFIX) === 0 ? Reason.Rejection : Reason.Exception, text: text };
}

/**
 * Dumps `headline` (cut to `headlineMax`) and the console tail under `reason`. Returns the record name, or undefined
 * (dropped). A function, not an object: the resident module keeps no state for it.
 */
export function dumpDmesg(ctx: FrontendContext, ring: ConsoleRing, headlineMax: number, reason: Reason, headline: string): string | undefined {
  let flags = 0;
  if (headline.length > headlineMax) {
    headline = headline.substr(0, headlineMax);
    flags = Flag.Truncated;
  }
  const payload = joinBytes(headline + CONSOLE_SEPARATOR, ring.tail(ring.bytes.length, 0).bytes);
  return saveRecord(ctx, RecordType.Dmesg, reason, payload, true, flags);
}
