// dmesg frontend (Linux's kmsg_dump): when something goes wrong, the cause and the tail of the console ring go to
// flash as one dmesg record, written on the crash path (prepared space only, no erase).
//
// Payload text: "<headline>\n--- console ---\n<console tail>", where the headline is what the firmware would have
// printed, e.g. "Uncaught Error: boom\n    at f (:1:40)\n...". The headline is cut at `headlineMax` characters
// (flag Truncated), so a crash never allocates more than headlineMax + ring size.
// `maxReason` works as Linux's max_reason: only reasons <= maxReason are dumped (lower = more important).

import { Flag, Reason, RecordType } from "./format";
import type { ConsoleRing } from "./console";
import { textToBytes } from "./codec";
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

export class Dmesg {
  constructor(
    private ctx_: FrontendContext,
    private ring_: ConsoleRing,
    public maxReason_: Reason,
    private headlineMax_: number,
  ) {}

  /** Dumps `headline` and the console tail under `reason`. Returns the record name, or undefined (filtered, dropped). */
  dump(reason: Reason, headline: string): string | undefined {
    if (reason > this.maxReason_) return undefined;
    let flags = 0;
    if (headline.length > this.headlineMax_) {
      headline = headline.substr(0, this.headlineMax_);
      flags = Flag.Truncated;
    }
    const tail = this.ring_.tail(this.ring_.bytes.length, 0);
    const head = headline + CONSOLE_SEPARATOR;
    const payload = new Uint8Array(head.length + tail.bytes.length);
    textToBytes(head, payload, 0);
    payload.set(tail.bytes, head.length);
    return saveRecord(this.ctx_, RecordType.Dmesg, reason, payload, true, flags);
  }
}
