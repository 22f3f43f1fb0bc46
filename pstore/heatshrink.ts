// heatshrink (https://github.com/atomicobject/heatshrink) with Espruino's settings: window 8 bits, lookahead 6 bits.
// The device compresses with the native require("heatshrink"); this codec decodes those records on the host and
// produces them in tests and benchmarks. It keeps to the device subset so the device could decode with it too.
//
// Stream: bits, most significant first. 1 + 8 bits = literal byte; 0 + 8 bits (offset - 1) + 6 bits (length - 1)
// = copy `length` bytes from `offset` back. The last byte is padded with zero bits.

import { copy } from "./bytes";

enum Heatshrink {
  OffsetBits = 8,
  LengthBits = 6,
  Window = 256,
  MaxMatch = 64,
  /** A 15-bit back-reference beats literals (9 bits each) from 2 bytes on; the C encoder uses the same rule. */
  MinMatch = 2,
}

/**
 * Compresses like the C encoder: greedy, longest match, nearest offset on ties, and (as the C code does) the
 * window before the first byte reads as zeros.
 */
export function heatshrinkCompress(src: Uint8Array): Uint8Array {
  const n = src.length;
  const out = new Uint8Array(((n * 9 + 7) >> 3) + 1);
  let bitPos = 0;
  const put = function (value: number, bits: number) {
    while (bits--) {
      if ((value >> bits) & 1) out[bitPos >> 3] |= 0x80 >> (bitPos & 7);
      bitPos++;
    }
  };
  let i = 0;
  while (i < n) {
    const maxLength = n - i < Heatshrink.MaxMatch ? n - i : Heatshrink.MaxMatch;
    let best = 0;
    let bestOffset = 0;
    for (let offset = 1; offset <= Heatshrink.Window && best < maxLength; offset++) {
      let length = 0;
      while (length < maxLength && (i + length - offset < 0 ? 0 : src[i + length - offset]) === src[i + length]) length++;
      if (length > best) {
        best = length;
        bestOffset = offset;
      }
    }
    if (best >= Heatshrink.MinMatch) {
      put(0, 1);
      put(bestOffset - 1, Heatshrink.OffsetBits);
      put(best - 1, Heatshrink.LengthBits);
      i += best;
    } else {
      put(0x100 | src[i++], 9);
    }
  }
  return copy(out, 0, (bitPos + 7) >> 3);
}

/**
 * Decodes a heatshrink stream. Throws an Error naming the fault when the output would exceed `maxLength` bytes
 * or the stream ends inside a symbol (anything but zero padding in the last byte). Each symbol takes at least
 * 9 bits, so decoding always ends. A stream cut at a symbol boundary decodes shorter: compare the length.
 */
export function heatshrinkDecompress(src: Uint8Array, maxLength: number): Uint8Array {
  const totalBits = src.length * 8;
  // Output per input bit is at most MaxMatch / 15 (a back-reference), so 35 bytes per input byte always suffice.
  const bound = src.length * 35;
  const out = new Uint8Array(maxLength < bound ? maxLength : bound);
  let bitPos = 0;
  let op = 0;
  const take = function (bits: number): number {
    if (bitPos + bits > totalBits) return -1;
    let value = 0;
    while (bits--) {
      value = (value << 1) | ((src[bitPos >> 3] >> (7 - (bitPos & 7))) & 1);
      bitPos++;
    }
    return value;
  };
  for (;;) {
    const symbolStart = bitPos;
    const flag = take(1);
    const value = flag < 0 ? -1 : take(Heatshrink.OffsetBits);
    const length = flag === 0 && value >= 0 ? take(Heatshrink.LengthBits) + 1 : 1;
    if (value < 0 || length === 0) {
      const rest = totalBits - symbolStart;
      if (!rest || (rest < 8 && !(src[src.length - 1] & ((1 << rest) - 1)))) return copy(out, 0, op);
      throw new Error("heatshrink: stream ends inside a symbol at bit " + symbolStart + " of " + totalBits);
    }
    if (op + length > maxLength) throw new Error("heatshrink: output exceeds the limit of " + maxLength + " bytes");
    if (flag) {
      out[op++] = value;
    } else {
      for (let k = 0; k < length; k++, op++) out[op] = op > value ? out[op - value - 1] : 0;
    }
  }
}
