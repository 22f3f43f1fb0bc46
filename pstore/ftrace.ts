// ftrace frontend: traced functions append {function id, caller id, timestamp} to a fixed binary ring; a crash
// saves the ring with a table of names, so the host prints a call history instead of numbers.
//
// Ring entry, 8 bytes: u16 function id, u16 caller id (the traced function running when this one was called,
// 0 = none), u32 uptime in ms (low 32 bits).
// Record payload (type ftrace, flag FtraceNames), little-endian:
//   0  u16  entry size = 8
//   2  u16  n, entries that follow
//   4  u32  calls recorded since start (mod 2^32); calls - n were overwritten
//   8  n x 8 entries, oldest first
//   8+8n    name table: names as text, joined by "\n"; line k-1 names id k
// Ids are given in order of trace() calls, starting at 1.

import { putU32 } from "./format";
import { textToBytes } from "./codec";

enum Ftrace {
  EntrySize = 8,
  HeaderSize = 8,
  /** Deeper nesting still runs; callers are then attributed to the deepest frame kept. */
  MaxDepth = 16,
}

export class Tracer {
  readonly ring: Uint8Array;
  /** Calls recorded since start (mod 2^32). */
  calls = 0;
  private names: string[] = [];
  private stack = new Uint16Array(Ftrace.MaxDepth);
  private depth = 0;
  /** Ring slot the next entry goes to. */
  private next = 0;
  /** Slots holding an entry (stops growing once the ring is full; `calls` may wrap). */
  private used = 0;

  constructor(entries: number, private now: () => number) {
    this.ring = new Uint8Array(entries * Ftrace.EntrySize);
  }

  /** Returns `fn` wrapped so every call is recorded under `name`. */
  trace<F extends Function>(fn: F, name: string): F {
    if (typeof fn !== "function") throw new Error("pstore.trace: " + (typeof name === "string" ? name : JSON.stringify(fn)) + " is not a function");
    // The name is what the host prints for the call: an empty one would say nothing.
    if (typeof name !== "string" || !name) throw new Error("pstore.trace: needs a name for the function, got " + JSON.stringify(name));
    if (this.names.length >= 0xffff) throw new Error("pstore.trace: too many traced functions (65535)");
    this.names.push(name);
    const id = this.names.length;
    const self = this;
    return function (this: any) {
      self.enter(id);
      try {
        return fn.apply(this, arguments);
      } finally {
        self.depth--;
      }
    } as any;
  }

  /** Replaces each function-valued property of `obj` with its traced version, named `prefix + key`. */
  traceObject(obj: any, prefix: string): any {
    if (!obj || (typeof obj !== "object" && typeof obj !== "function")) throw new Error("pstore.traceObject: " + prefix + " is not an object, got " + JSON.stringify(obj));
    const keys = Object.keys(obj);
    for (let i = 0; i < keys.length; i++) {
      if (typeof obj[keys[i]] === "function") obj[keys[i]] = this.trace(obj[keys[i]], prefix + keys[i]);
    }
    return obj;
  }

  private enter(id: number): void {
    const d = this.depth < Ftrace.MaxDepth ? this.depth : Ftrace.MaxDepth;
    const caller = d > 0 ? this.stack[d - 1] : 0;
    if (this.depth < Ftrace.MaxDepth) this.stack[this.depth] = id;
    this.depth++;
    const at = this.next * Ftrace.EntrySize;
    const r = this.ring;
    this.next = at + Ftrace.EntrySize < r.length ? this.next + 1 : 0;
    if (this.used * Ftrace.EntrySize < r.length) this.used++;
    r[at] = id & 255;
    r[at + 1] = id >> 8;
    r[at + 2] = caller & 255;
    r[at + 3] = caller >> 8;
    putU32(r, at + 4, this.now());
    this.calls = (this.calls + 1) >>> 0;
  }

  /** The record payload (layout above), or undefined when nothing was traced. */
  snapshot(): Uint8Array | undefined {
    const n = this.used;
    if (!n) return undefined;
    const full = n * Ftrace.EntrySize === this.ring.length;
    const table = this.names.join("\n");
    const out = new Uint8Array(Ftrace.HeaderSize + n * Ftrace.EntrySize + table.length);
    out[0] = Ftrace.EntrySize;
    out[2] = n & 255;
    out[3] = n >> 8;
    putU32(out, 4, this.calls);
    // Until the ring wraps, the entries start at slot 0; afterwards the oldest is the next to be overwritten.
    const split = full ? this.next * Ftrace.EntrySize : 0;
    const older = this.ring.subarray(split, n * Ftrace.EntrySize);
    out.set(older, Ftrace.HeaderSize);
    out.set(this.ring.subarray(0, split), Ftrace.HeaderSize + older.length);
    textToBytes(table, out, Ftrace.HeaderSize + n * Ftrace.EntrySize);
    return out;
  }
}
