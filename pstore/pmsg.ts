// pmsg frontend: messages the application stores on purpose. pmsg() returns only once the record is committed
// and throws when it cannot keep the message (too large, too frequent, zone full): never a silent drop.
// The rate limit (`perMinute` messages in any 60 s) protects the flash from a loop that logs too eagerly.

import { Reason, RecordType } from "./format";
import { textToBytes } from "./codec";
import { FrontendContext, saveRecord } from "./frontend";

export interface Pmsg {
  /** Stores `message`; returns its record name once committed. Throws naming why it cannot keep it. */
  write(message: string | Uint8Array): string;
}

/** A closure rather than a class: in the resident module every `this.` costs bytes. */
export function createPmsg(ctx: FrontendContext, perMinute: number, now: () => number): Pmsg {
  /** Uptimes (ms) of the last `perMinute` messages, oldest at `next`. */
  const times: number[] = [];
  let next = 0;
  const refuse = function (why: string): never {
    throw new Error("pstore.pmsg: " + why);
  };
  return {
    write: function (message) {
      const data = typeof message === "string" ? textToBytes(message) : message;
      if (!(data instanceof Uint8Array)) refuse("message must be a string or a Uint8Array");
      const t = now();
      const wait = times.length < perMinute ? 0 : times[next] + 60000 - t;
      if (wait > 0) refuse("rate limit of " + perMinute + " messages per minute reached, next in " + Math.ceil(wait / 1000) + " s");
      const unstored = "message of " + data.length + " bytes not stored: ";
      let name: string | undefined;
      try {
        name = saveRecord(ctx, RecordType.Pmsg, Reason.User, data, false, 0);
      } catch (e: any) {
        refuse(unstored + (e && e.message ? e.message : e));
      }
      if (!name) return refuse(unstored + "no pmsg zone, or the zone is full");
      if (times.length < perMinute) times.push(t);
      else {
        times[next] = t;
        next = (next + 1) % perMinute;
      }
      return name;
    },
  };
}
