// The on-media format, version 1 (docs/FORMAT.md). Pure functions: the device core and the host decoder share them,
// so parsing never throws on garbage; it returns undefined instead.

export enum RecordType {
  Dmesg = 1,
  Console = 2,
  Ftrace = 3,
  Pmsg = 4,
  Event = 5,
}

export enum Codec {
  Raw = 0,
  Lz4 = 1,
  Heatshrink = 2,
}

/** Lower is more important: `maxReason` keeps reasons <= max, priority zones displace only less important records. */
export enum Reason {
  None = 0,
  Panic = 1,
  Oom = 2,
  Exception = 3,
  Rejection = 4,
  Watchdog = 5,
  Lockup = 6,
  Brownout = 7,
  PowerLoss = 8,
  ErrorFlag = 9,
  Shutdown = 10,
  Reset = 11,
  Periodic = 12,
  User = 13,
}

export enum Flag {
  TimeValid = 1,
  Truncated = 2,
  /** Header-only record standing for a record a full keep-first zone did not keep. */
  Drop = 4,
  FtraceNames = 8,
}

export const FORMAT_VERSION = 1;
export const PAGE_MAGIC = 0x47505350;
export const RECORD_MAGIC = 0x52545350;
export const COMMIT_WORD = 0x21544d43;
export const RETAINED_MAGIC = 0x42525350;
export const PAGE_HEADER_SIZE = 24;
export const RECORD_HEADER_SIZE = 48;
/** Header plus commit word: the size of a record with an empty payload. */
export const RECORD_OVERHEAD = 52;
/** Offsets inside a record header. */
export const HEADER_CRC_OFFSET = 36;
export const RECORD_CRC_OFFSET = 40;
export const ERASE_MARK_OFFSET = 44;
/** The same offsets in words, and the header's length in words: written out, as the bundler leaves `44 / 4` to run. */
export const HEADER_CRC_WORD = 9;
export const RECORD_CRC_WORD = 10;
export const ERASE_MARK_WORD = 11;
export const HEADER_WORDS = 12;

export type Crc32 = (data: Uint8Array) => number;

export interface RecordHeader {
  type: RecordType;
  reason: Reason;
  codec: Codec;
  flags: number;
  part: number;
  parts: number;
  seq: number;
  boot: number;
  time: number;
  uptime: number;
  storedLength: number;
  originalLength: number;
}

export interface DecodedRecordHeader extends RecordHeader {
  recordCrc: number;
  /** The erase mark was programmed: the record was erased by name. */
  erased: boolean;
}

export interface PageHeader {
  eraseCount: number;
  seqMark: number;
  bootMark: number;
}

export function getU32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

export function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 255;
  b[o + 1] = (v >>> 8) & 255;
  b[o + 2] = (v >>> 16) & 255;
  b[o + 3] = (v >>> 24) & 255;
}

export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Bytes a record with `payloadLength` stored bytes takes on the media. */
export function recordSize(payloadLength: number): number {
  return RECORD_OVERHEAD + pad4(payloadLength);
}

/**
 * The complete media image of one record part, ready to program: header (both CRCs filled, erase mark 0xFF),
 * payload, 0xFF padding, commit word. Both CRCs are computed over the same buffer while bytes 36..47 are still 0xFF.
 */
export function encodeRecord(crc: Crc32, h: RecordHeader, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const img = new Uint8Array(recordSize(n));
  const w = words(img);
  const last = w.length - 1;
  w[0] = RECORD_MAGIC;
  w[1] = FORMAT_VERSION | (h.type << 8) | (h.reason << 16) | (h.codec << 24);
  // Byte 11: the header's length in words.
  w[2] = h.flags | (h.part << 8) | (h.parts << 16) | (RECORD_HEADER_SIZE << 22);
  w[3] = h.seq;
  w[4] = h.boot;
  w[5] = h.time;
  w[6] = h.uptime;
  w[7] = n;
  w[8] = h.originalLength;
  // The CRC fields and the erase mark read unprogrammed while the record CRC is taken; so does the padding after
  // the payload, whose word the payload's last bytes then overwrite.
  w[9] = w[10] = w[11] = w[last - 1] = -1;
  w[last] = COMMIT_WORD;
  img.set(payload, RECORD_HEADER_SIZE);
  w[10] = crc(img.subarray(0, RECORD_HEADER_SIZE + n));
  w[9] = crc(img.subarray(0, HEADER_CRC_OFFSET));
  return img;
}

/**
 * A new array `b` as little-endian words (every Espruino target and the host are little-endian), so that a field is
 * one store (-1 stores 0xFFFFFFFF): on the interpreter a putU32() call costs some 120,000 instructions and a fill()
 * some 1,800 per byte.
 */
function words(b: Uint8Array): Uint32Array {
  return new Uint32Array(b.buffer);
}

/** Just the 48-byte header of a record with the given payload (header CRC and record CRC filled). */
export function encodeRecordHeader(crc: Crc32, h: RecordHeader, payload: Uint8Array): Uint8Array {
  return encodeRecord(crc, h, payload).subarray(0, RECORD_HEADER_SIZE);
}

/**
 * Parses a record header (at least 48 bytes; only the header CRC is checked). Undefined when the magic, version,
 * header length, header CRC or field ranges do not hold: such bytes are not a record header.
 */
export function decodeRecordHeader(b: Uint8Array, crc: Crc32): DecodedRecordHeader | undefined {
  if (b.length < RECORD_HEADER_SIZE) return undefined;
  const a = aligned(b.subarray(0, RECORD_HEADER_SIZE));
  const w = wordsOf(a);
  if (!isRecordHeader(crc, a, w, 0)) return undefined;
  return {
    type: a[5],
    reason: a[6],
    codec: a[7],
    flags: a[8],
    part: a[9],
    parts: a[10],
    seq: w[3],
    boot: w[4],
    time: w[5],
    uptime: w[6],
    storedLength: w[7],
    originalLength: w[8],
    recordCrc: w[10],
    erased: w[11] !== 0xffffffff,
  };
}

/**
 * Whether the 48 bytes of `b` from `o` (a multiple of 4, inside b) are a record header: magic, version, header
 * length, part numbers, type and header CRC hold. `w` is b's words (wordsOf): the boot scan checks every header on
 * the medium in place, without a call per field.
 */
export function isRecordHeader(crc: Crc32, b: Uint8Array, w: Uint32Array, o: number): boolean {
  return (
    w[o >> 2] === RECORD_MAGIC &&
    b[o + 4] === FORMAT_VERSION &&
    b[o + 11] === HEADER_WORDS &&
    b[o + 10] >= 1 &&
    b[o + 9] < b[o + 10] &&
    b[o + 5] >= 1 &&
    crc(b.subarray(o, o + HEADER_CRC_OFFSET)) >>> 0 === w[(o >> 2) + HEADER_CRC_WORD]
  );
}

/** `b` itself when it starts on a word boundary (a device read always does), else a copy that does. */
export function aligned(b: Uint8Array): Uint8Array {
  return b.byteOffset & 3 ? new Uint8Array(b) : b;
}

/**
 * The little-endian words of `b` (aligned), as a view: reading a field is one load where a getU32() call costs
 * the interpreter some 120,000 instructions.
 */
export function wordsOf(b: Uint8Array): Uint32Array {
  return new Uint32Array(b.buffer, b.byteOffset, b.length >> 2);
}

/**
 * Record CRC of the record at byte `o` of `b` (words `w`, o a multiple of 4): CRC-32 of header bytes 0..35, twelve
 * 0xFF bytes, then the payload. Bytes 36..47 are set to 0xFF for the CRC and put back after, so `b` is left as it was;
 * with `scratch` (a copy whose bytes there its caller reads no more, the boot scan's window) they stay 0xFF.
 */
export function recordCrcAt(crc: Crc32, b: Uint8Array, w: Uint32Array, o: number, storedLength: number, scratch?: boolean): number {
  const q = (o >> 2) + HEADER_CRC_WORD;
  if (!scratch) {
    const a = w[q];
    const c = w[q + 1];
    const d = w[q + 2];
    const value = recordCrcAt(crc, b, w, o, storedLength, true);
    w[q] = a;
    w[q + 1] = c;
    w[q + 2] = d;
    return value;
  }
  w[q] = w[q + 1] = w[q + 2] = -1;
  return crc(b.subarray(o, o + RECORD_HEADER_SIZE + storedLength)) >>> 0;
}

/** Record CRC of a whole record image `img` (header, payload, padding, commit) as read from the media. */
export function recordCrc(crc: Crc32, img: Uint8Array, storedLength: number): number {
  const b = aligned(img.subarray(0, RECORD_HEADER_SIZE + storedLength));
  return recordCrcAt(crc, b, wordsOf(b), 0, storedLength);
}

/** Whether a record image (length recordSize(h.storedLength), h its header) is complete: record CRC and commit word hold. */
export function recordIntact(crc: Crc32, img: Uint8Array, h: DecodedRecordHeader): boolean {
  return img.length === recordSize(h.storedLength) && getU32(img, img.length - 4) === COMMIT_WORD && recordCrc(crc, img, h.storedLength) === h.recordCrc;
}

export function encodePageHeader(crc: Crc32, p: PageHeader): Uint8Array {
  const b = new Uint8Array(PAGE_HEADER_SIZE);
  const w = words(b);
  w[0] = PAGE_MAGIC;
  // Bytes 5..7 reserved, unprogrammed.
  w[1] = FORMAT_VERSION | 0xffffff00;
  w[2] = p.eraseCount;
  w[3] = p.seqMark;
  w[4] = p.bootMark;
  w[5] = crc(b.subarray(0, 20));
  return b;
}

/** Whether `b` (at least PAGE_HEADER_SIZE bytes, words `w`) starts with a valid page header. */
export function isPageHeader(crc: Crc32, b: Uint8Array, w: Uint32Array): boolean {
  return w[0] === PAGE_MAGIC && b[4] === FORMAT_VERSION && crc(b.subarray(0, 20)) >>> 0 === w[5];
}

/** Serial-number comparison on 32 bits: a is newer than b (safe across wrap). */
export function seqNewer(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

const TYPE_NAMES = ["", "dmesg", "console", "ftrace", "pmsg", "event"];
const REASON_NAMES = [
  "none",
  "panic",
  "oom",
  "exception",
  "rejection",
  "watchdog",
  "lockup",
  "brownout",
  "powerloss",
  "errorflag",
  "shutdown",
  "reset",
  "periodic",
  "user",
];

/** "dmesg", …; an unknown type number t gives "type<t>" so names stay reversible. */
export function typeName(t: number): string {
  return TYPE_NAMES[t] || "type" + t;
}

export function typeFromName(name: string): number {
  const i = TYPE_NAMES.indexOf(name);
  if (i > 0) return i;
  const m = /^type([0-9]+)$/.exec(name);
  return m && +m[1] > 0 && +m[1] < 256 ? +m[1] : 0;
}

export function reasonName(r: number): string {
  return REASON_NAMES[r] || "reason" + r;
}

export function reasonFromName(name: string): number {
  return REASON_NAMES.indexOf(name);
}

/** `<type>-<backend>-<seq>`, e.g. "dmesg-flash-17". */
export function recordName(type: number, backend: string, seq: number): string {
  return typeName(type) + "-" + backend + "-" + seq;
}

export interface ParsedName {
  type: RecordType;
  backend: string;
  seq: number;
}

/** Inverse of recordName; undefined for anything that is not a well-formed record name. */
export function parseRecordName(name: string): ParsedName | undefined {
  const m = /^([a-z0-9]+)-([a-z0-9_]+)-([0-9]+)$/.exec(name);
  if (!m) return undefined;
  const type = typeFromName(m[1]);
  const seq = +m[3];
  if (!type || seq > 0xffffffff || m[3].length > 10) return undefined;
  return { type: type, backend: m[2], seq: seq };
}
