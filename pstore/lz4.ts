// LZ4 block format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md), for boards without native
// heatshrink. Device code: the caller owns every buffer, so compressing a record allocates nothing.

enum Lz4 {
  MinMatch = 4,
  /** The block's last 5 bytes are always literals. */
  LastLiterals = 5,
  /** The last match starts at least 12 bytes before the block's end. */
  MatchFindLimit = 12,
  /** After 2^6 misses in a row the search step grows by one, so incompressible data is crossed quickly. */
  SkipTrigger = 6,
  MaxOffset = 65535,
}

/** Largest compressed size of `n` input bytes (every byte a literal, plus length bytes and the token). */
export function lz4CompressBound(n: number): number {
  return n + ((n / 255) | 0) + 16;
}

/** Extra bytes an LZ4 length field takes beyond the 4 bits in the token. */
function lengthBytes(length: number): number {
  return length < 15 ? 0 : (((length - 15) / 255) | 0) + 1;
}

function putLength(dst: Uint8Array, op: number, length: number): number {
  for (length -= 15; length >= 255; length -= 255) dst[op++] = 255;
  dst[op++] = length;
  return op;
}

/**
 * Writes one sequence (literals, then a match unless `matchLength` is 0) at `op`.
 * Returns the new output position, or -1 when it does not fit in `dst`.
 */
function putSequence(
  dst: Uint8Array,
  op: number,
  src: Uint8Array,
  anchor: number,
  literals: number,
  offset: number,
  matchLength: number,
): number {
  const extra = matchLength - Lz4.MinMatch;
  const need = 1 + lengthBytes(literals) + literals + (matchLength ? 2 + lengthBytes(extra) : 0);
  if (op + need > dst.length) return -1;
  const token = op++;
  dst[token] = (literals < 15 ? literals : 15) << 4;
  if (literals >= 15) op = putLength(dst, op, literals);
  dst.set(src.subarray(anchor, anchor + literals), op);
  op += literals;
  if (matchLength) {
    dst[op++] = offset & 255;
    dst[op++] = offset >> 8;
    dst[token] |= extra < 15 ? extra : 15;
    if (extra >= 15) op = putLength(dst, op, extra);
  }
  return op;
}

/**
 * Top `16 - shift` bits of (the 4 bytes at i, little-endian) * 2654435761 mod 2^32, the multiplier LZ4 itself
 * uses. Computed in 16-bit halves because the interpreter has no Math.imul and its numbers are doubles: every
 * product stays below 2^33, so it is exact, and only `%` touches values above 2^31.
 */
function hash4(src: Uint8Array, i: number, shift: number): number {
  const lo = src[i] | (src[i + 1] << 8);
  const hi = src[i + 2] | (src[i + 3] << 8);
  return ((((lo * 0x79b1) >>> 16) + lo * 0x9e37 + hi * 0x79b1) % 65536) >> shift;
}

/**
 * Compresses `src` as one LZ4 block into `dst`. `hashTable` (2^bits entries, bits 1..16) is the working memory:
 * a bigger table finds more matches. It is cleared here, so its earlier content does not matter.
 * Returns the compressed length, or -1 when the result does not fit in `dst` (store the data raw then);
 * `dst` of lz4CompressBound(src.length) bytes always suffices.
 */
export function lz4Compress(src: Uint8Array, dst: Uint8Array, hashTable: Uint16Array): number {
  const n = src.length;
  const lastMatchStart = n - Lz4.MatchFindLimit;
  const matchEndLimit = n - Lz4.LastLiterals;
  let shift = 16;
  for (let size = hashTable.length; size > 1; size >>= 1) shift--;
  hashTable.fill(0);
  let anchor = 0;
  let op = 0;
  let i = 0;
  let misses = 1 << Lz4.SkipTrigger;
  while (i <= lastMatchStart) {
    const h = hash4(src, i, shift);
    // The table keeps positions modulo 2^16, so it works for inputs of any length: a stale or aliased entry
    // only points at some earlier position within reach, and the 4-byte comparison below settles it.
    const offset = (i - hashTable[h]) & Lz4.MaxOffset;
    hashTable[h] = i;
    let m = i - offset;
    if (
      offset === 0 ||
      m < 0 ||
      src[m] !== src[i] ||
      src[m + 1] !== src[i + 1] ||
      src[m + 2] !== src[i + 2] ||
      src[m + 3] !== src[i + 3]
    ) {
      i += misses++ >> Lz4.SkipTrigger;
      continue;
    }
    misses = 1 << Lz4.SkipTrigger;
    while (i > anchor && m > 0 && src[i - 1] === src[m - 1]) {
      i--;
      m--;
    }
    let end = i + Lz4.MinMatch;
    while (end < matchEndLimit && src[end] === src[end - offset]) end++;
    op = putSequence(dst, op, src, anchor, i - anchor, offset, end - i);
    if (op < 0) return -1;
    anchor = i = end;
    // Remembering a position inside the match keeps the table fresh where the text repeats.
    hashTable[hash4(src, i - 2, shift)] = i - 2;
  }
  return putSequence(dst, op, src, anchor, n - anchor, 0, 0);
}

/**
 * Decodes one LZ4 block into `dst` and returns the number of bytes written. Throws an Error naming the fault for
 * input that is malformed or does not fit in `dst`; never reads or writes outside the arrays. A block cut at a
 * sequence boundary still decodes, only shorter: compare the result with the length you expect.
 */
export function lz4Decompress(src: Uint8Array, dst: Uint8Array): number {
  const srcEnd = src.length;
  const dstEnd = dst.length;
  let ip = 0;
  let op = 0;
  for (;;) {
    if (ip >= srcEnd) throw new Error("LZ4: input ends before the last literals (truncated at byte " + ip + ")");
    const token = src[ip++];
    let literals = token >> 4;
    let byte = 255;
    if (literals === 15) {
      while (byte === 255) {
        if (ip >= srcEnd) throw new Error("LZ4: literal length runs past the end of the input");
        byte = src[ip++];
        literals += byte;
      }
    }
    if (literals > srcEnd - ip) throw new Error("LZ4: " + literals + " literals at byte " + ip + " run past the input");
    if (literals > dstEnd - op) throw new Error("LZ4: " + literals + " literals at output " + op + " overflow the output");
    dst.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip === srcEnd) return op;
    if (ip + 2 > srcEnd) throw new Error("LZ4: match offset at byte " + ip + " is cut off");
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new Error("LZ4: match offset " + offset + " at output " + op + " is out of range");
    let length = token & 15;
    if (length === 15) {
      byte = 255;
      while (byte === 255) {
        if (ip >= srcEnd) throw new Error("LZ4: match length runs past the end of the input");
        byte = src[ip++];
        length += byte;
      }
    }
    length += Lz4.MinMatch;
    if (length > dstEnd - op) throw new Error("LZ4: match of " + length + " at output " + op + " overflows the output");
    let from = op - offset;
    if (offset >= length) {
      dst.set(dst.subarray(from, from + length), op);
      op += length;
    } else {
      // Overlapping match: a run that repeats the last `offset` bytes, copied byte by byte on purpose.
      while (length--) dst[op++] = dst[from++];
    }
  }
}
