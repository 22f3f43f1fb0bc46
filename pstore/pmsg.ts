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

/**
 * The rate limiter counts messages per slot of uptime, not one entry per message: its state is the same few bytes
 * whatever perMinute is. A message counts against the limit until its slot is `Slots` slots old, i.e. for 60 to
 * 65 s: never more than perMinute messages in any 60 s, and a refused sender may wait up to 5 s longer than a
 * per-message record would make it.
 */
enum Window {
  Slots = 12,
  SlotMs = 5000,
  /** The slots of the last minute and the one in progress. */
  Kept = 13,
}

/** A closure rather than a class: in the resident module every `this.` costs bytes. */
export function createPmsg(ctx: FrontendContext, perMinute: number, now: () => number): Pmsg {
  /** Messages stored per slot, slot k (uptime / SlotMs) at k % Kept. */
  const counts = new Uint32Array(Window.Kept);
  /** The latest slot a message was counted in, and the sum of `counts`. */
  let slot = 0;
  let total = 0;
  const refuse = function (why: string): never {
    throw new Error("pstore.pmsg: " + why);
  };
  return {
    write: function (message) {
      const data = typeof message === "string" ? textToBytes(message) : message;
      if (!(data instanceof Uint8Array)) refuse("message must be a string or a Uint8Array");
      const t = now();
      const k = Math.floor(t / Window.SlotMs);
      // Empty the slots that left the window since; once nothing is counted the rest are empty already.
      while (slot < k && total) {
        slot++;
        total -= counts[slot % Window.Kept];
        counts[slot % Window.Kept] = 0;
      }
      // A clock that went back counts in the latest slot.
      if (slot < k) slot = k;
      if (total >= perMinute) {
        // The oldest counted slot frees its messages once it is Slots slots old. (A negative index throws on Espruino.)
        let oldest = slot > Window.Slots ? slot - Window.Slots : 0;
        while (oldest < slot && !counts[oldest % Window.Kept]) oldest++;
        const wait = (oldest + Window.Kept) * Window.SlotMs - t;
        refuse("rate limit of " + perMinute + " messages per minute reached, next in " + Math.ceil(wait / 1000) + " s");
      }
      const unstored = "message of " + data.length + " bytes not stored: ";
      let name: string | undefined;
      try {
        name = saveRecord(ctx, RecordType.Pmsg, Reason.User, data, false, 0);
      } catch (e: any) {
        refuse(unstored + (e && e.message ? e.message : e));
      }
      if (!name) return refuse(unstored + "no pmsg zone, or the zone is full");
      counts[slot % Window.Kept]++;
      total++;
      return name;
    },
  };
}
