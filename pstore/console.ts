// console frontend: a fixed RAM ring of everything the console printed. Fed by the firmware's LoopbackA capture
// (firmware/module.ts), so it also holds the interpreter's own "Uncaught ..." and "OUT OF MEMORY" lines.
// `mirror` (the ram backend's appendConsole, on boards with retained RAM) gets the same bytes, so the tail
// survives a watchdog reset or hard fault that no JavaScript sees.
//
// Flushing writes the bytes printed since the previous flush as a console record. Periodic flushes cost flash
// wear; the default interval (firmware/config.ts, consoleFlushSeconds 3600) comes from this arithmetic: a ring
// zone of P pages of S bytes erases each page once per P*S bytes written, so with at most R bytes per flush
// (ring size + 52 header bytes) every T seconds, pages rated for E erases last E*P*S/R flushes = E*P*S*T/R s.
// PUCKJS: E 10,000, P*S = 4 x 4 KB, R = 1,076, T = 1 h: 10,000 * 16,384 / 1,076 = 152,000 flushes = 17 years,
// even if the console prints a full ring every hour (T = 10 min: 2.9 years). An idle console writes nothing;
// flushes at crashes and shutdowns come on top, one each.

import { Flag, Reason, RecordType } from "./format";
import { FrontendContext, saveRecord } from "./frontend";
import { joinBytes, textToBytes } from "./codec";

/** A closure rather than a class: in the resident module every `this.` costs bytes. */
export interface ConsoleRing {
  readonly bytes: Uint8Array;
  /** Bytes ever appended (mod 2^32). */
  written: number;
  /** `written` at the last flush. */
  flushed_: number;
  append(text: string): void;
  /** Bytes not yet flushed. */
  pending(): number;
  /**
   * The last `max` bytes (at most the ring size), oldest first: a view of the ring while they do not wrap (valid
   * until the next append: the crash path and the flush use it at once), else a new array. `lost` tells whether
   * more than that was printed since `from` (a `written` value), i.e. the bytes do not reach back to `from`.
   */
  tail(max: number, from: number): { bytes: Uint8Array; lost: boolean };
}

export function createConsoleRing(size: number, mirror?: (chunk: Uint8Array) => void): ConsoleRing {
  const bytes = new Uint8Array(size);
  /** Index the next byte goes to (kept apart from `written`, which wraps at 2^32). */
  let head = 0;
  const ring: ConsoleRing = {
    bytes: bytes,
    written: 0,
    flushed_: 0,
    append: function (text) {
      // Only the last `size` characters can survive; skip the rest without touching them.
      const skip = text.length > size ? text.length - size : 0;
      const src = textToBytes(skip ? text.substr(skip) : text);
      const n = src.length;
      let at = (head + skip) % size;
      const start = at;
      // Up to the ring's end, then the rest from its start.
      const first = size - at < n ? size - at : n;
      bytes.set(src.subarray(0, first), at);
      if (n > first) bytes.set(src.subarray(first, n), 0);
      at = (at + n) % size;
      head = at;
      ring.written = (ring.written + text.length) >>> 0;
      if ((typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED) && mirror && text.length) {
        if (at > start) mirror(bytes.subarray(start, at));
        else {
          mirror(bytes.subarray(start));
          mirror(bytes.subarray(0, at));
        }
      }
    },
    pending: function () {
      return (ring.written - ring.flushed_) >>> 0;
    },
    tail: function (max, from) {
      const since = (ring.written - from) >>> 0;
      let n = since < size ? since : size;
      if (n > max) n = max;
      const first = (head - n + size) % size;
      return { bytes: first + n <= size ? bytes.subarray(first, first + n) : joinBytes(bytes.subarray(first), bytes.subarray(0, head)), lost: since > n };
    },
  };
  return ring;
}

/**
 * Writes what was printed since the last flush as a console record (nothing when nothing was printed).
 * Flag Truncated marks a record that does not reach back to the previous flush because the ring overflowed.
 */
export function flushConsole(ctx: FrontendContext, ring: ConsoleRing, reason: Reason, crash: boolean): string | undefined {
  if (!ring.pending()) return undefined;
  const t = ring.tail(ring.bytes.length, ring.flushed_);
  const name = saveRecord(ctx, RecordType.Console, reason, t.bytes, crash, t.lost ? Flag.Truncated : 0);
  // A record the store did not keep is not retried: the next flush carries on from here, like a ring would.
  ring.flushed_ = ring.written;
  return name;
}
