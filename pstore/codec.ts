// Payload encoding: which codec a record gets, and text <-> bytes for the text records.
//
// The rule (docs: README "Compression"):
// - A bundle carries at most one compressor, chosen at build time (PSTORE_CODEC, default the board's `codec`):
//   the firmware's native heatshrink where it has one, the JS LZ4 otherwise. `codec: "raw"` turns it off.
// - A record is stored raw when compression does not make it smaller (so a record never grows, and the host
//   always knows the original length from the header).
// - On the crash path the JS codec is skipped when its cost model says it would take longer than the budget
//   (default 100 ms): bytes / board.timing.jsCompressBytesPerMs > crashBudgetMs. At the nRF52 boards' 2 bytes/ms
//   (a PUCKJS bundle built with --codec lz4) that is anything above 200 bytes, so a crash write stays short and
//   never competes with a watchdog. Off the crash path (periodic flush, pmsg) the JS codec always runs.
//   Native heatshrink is C: its cost is negligible, it is always used.

import { view } from "./bytes";
import { Codec } from "./format";
import { lz4Compress, lz4Decompress } from "./lz4";

export interface PayloadCodec {
  codec: Codec;
  /** Compressed bytes, or undefined when the result would not be smaller than `src`. */
  compress(src: Uint8Array): Uint8Array | undefined;
  /** The original bytes of a record stored with this codec. Throws on damaged input. */
  decompress(src: Uint8Array, originalLength: number): Uint8Array;
  /** Cost model for the crash path: bytes compressed per millisecond, 0 for native (fast) codecs. */
  bytesPerMs: number;
}

/** The part of Espruino's `require("heatshrink")` pstore uses. */
export interface NativeHeatshrink {
  compress(data: Uint8Array): ArrayBuffer;
  decompress(data: Uint8Array): ArrayBuffer;
}

export function heatshrinkCodec(native: NativeHeatshrink): PayloadCodec {
  return {
    codec: Codec.Heatshrink,
    compress: function (src) {
      const out = new Uint8Array(native.compress(src));
      return out.length < src.length ? out : undefined;
    },
    decompress: function (src) {
      return new Uint8Array(native.decompress(src));
    },
    bytesPerMs: 0,
  };
}

/** JS LZ4; the hash table (2^hashBits u16 entries) is allocated on first use and kept, so crashes do not allocate it. */
export function lz4Codec(hashBits: number, bytesPerMs: number): PayloadCodec {
  let table: Uint16Array | undefined;
  return {
    codec: Codec.Lz4,
    compress: function (src) {
      if (!table) table = new Uint16Array(1 << hashBits);
      const dst = new Uint8Array(src.length - 1 > 0 ? src.length - 1 : 0);
      const n = lz4Compress(src, dst, table);
      return n < 0 ? undefined : dst.subarray(0, n);
    },
    decompress: function (src, originalLength) {
      const dst = new Uint8Array(originalLength);
      const n = lz4Decompress(src, dst);
      if (n !== originalLength) throw new Error("LZ4 record decodes to " + n + " bytes, header says " + originalLength);
      return dst;
    },
    bytesPerMs: bytesPerMs,
  };
}

export interface EncodedPayload {
  codec: Codec;
  bytes: Uint8Array;
}

/** Applies the rule above. `impl` undefined means raw (no compressor in this bundle, or turned off). */
export function encodePayload(impl: PayloadCodec | undefined, data: Uint8Array, crash: boolean, crashBudgetMs: number): EncodedPayload {
  if (impl && data.length > 0 && !(crash && impl.bytesPerMs > 0 && data.length / impl.bytesPerMs > crashBudgetMs)) {
    const packed = impl.compress(data);
    if (packed) return { codec: impl.codec, bytes: packed };
  }
  return { codec: Codec.Raw, bytes: data };
}

/** The original bytes of a stored payload. Names the codec when this bundle cannot decode it. */
export function decodePayload(impl: PayloadCodec | undefined, codec: Codec, data: Uint8Array, originalLength: number): Uint8Array {
  if (codec === Codec.Raw) return data;
  if (!impl || impl.codec !== codec) throw new Error("codec " + codec + " is not built into this bundle: read the record with the host tool");
  return impl.decompress(data, originalLength);
}

/**
 * Latin-1 bytes of a string (Espruino strings are byte strings, so nothing is lost), into `into` at `at` when given.
 * On the device one native call: a loop over the characters would be JavaScript per byte of every console line.
 */
export function textToBytes(text: string, into?: Uint8Array, at?: number): Uint8Array {
  // An if/else, not an early return: the bundler drops a branch it knows untaken, not code after a return.
  if (typeof PSTORE_BOARD !== "undefined") {
    const bytes = E.toUint8Array(text);
    if (!into) return bytes;
    into.set(bytes, at || 0);
    return into;
  } else {
    const out = into || new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[(at || 0) + i] = text.charCodeAt(i);
    return out;
  }
}

/**
 * `head` (text as Latin-1 bytes) followed by `tail` in one new array. On the device one native call: a new array
 * filled by set() costs the interpreter some 600 instructions per byte, three times as much.
 */
export function joinBytes(head: string | Uint8Array, tail: Uint8Array): Uint8Array {
  if (typeof PSTORE_BOARD !== "undefined") {
    return E.toUint8Array(head, tail);
  } else {
    const out = new Uint8Array(head.length + tail.length);
    if (typeof head === "string") textToBytes(head, out, 0);
    else out.set(head);
    out.set(tail, head.length);
    return out;
  }
}

export function bytesToText(bytes: Uint8Array): string {
  let text = "";
  // Chunks keep apply() within the argument limits of both Espruino and V8.
  for (let i = 0; i < bytes.length; i += 256) text += String.fromCharCode.apply(null, view(bytes, i, i + 256) as any);
  return text;
}
