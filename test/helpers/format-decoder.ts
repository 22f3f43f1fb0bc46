// A second decoder of pstore image files, written from docs/FORMAT.md alone: it shares no code with pstore/, hal/
// or tools/ (nothing is imported from them), so where it and `pstore decode` agree, the document is enough to
// decode an image. Section names in comments are FORMAT.md's.

/** The fields of a record header ("Record") a decoder passes on. */
export interface HeaderFields {
  type: number;
  reason: number;
  codec: number;
  flags: number;
  parts: number;
  seq: number;
  boot: number;
  time: number;
  uptime: number;
  /** Of a part: its payload's; of a record: the sum of its parts'. */
  storedLength: number;
  originalLength: number;
}

export interface FormatRecord extends HeaderFields {
  name: string;
  outcome: "ok" | "undecoded" | "corrupt" | "dropped";
  /** Each part's bytes as on flash (header … commit word). */
  raw: Uint8Array[];
  /** The parts' payloads joined. */
  stored: Uint8Array;
  /** After the codec (ok records, and ftrace records whose trace does not decode). */
  decoded?: Uint8Array;
  /** ftrace records that decode. */
  trace?: Trace;
}

export interface Trace {
  calls: number;
  entries: Array<{ fn: number; caller: number; uptime: number }>;
  /** Line k-1 names function id k. */
  names: string[];
}

export interface FormatImage {
  board: string;
  kind: string;
  format: number;
  records: FormatRecord[];
  /** One line per thing the file lacks (cut spans, pages, retained area). */
  cut: string[];
}

// ---- CRC ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32(...chunks: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const b of chunks) for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- Enumerations ----

const TYPE_NAMES: { [t: number]: string } = { 1: "dmesg", 2: "console", 3: "ftrace", 4: "pmsg", 5: "event" };
export const typeName = (t: number): string => TYPE_NAMES[t] ?? `type${t}`;
const REASONS = ["none", "panic", "oom", "exception", "rejection", "watchdog", "lockup", "brownout", "powerloss", "errorflag", "shutdown", "reset", "periodic", "user"];
export const reasonName = (r: number): string => REASONS[r] ?? `reason${r}`;
const CODECS = ["raw", "lz4", "heatshrink"];
export const codecName = (c: number): string => CODECS[c] ?? `codec${c}`;
const FLAGS: Array<[number, string]> = [
  [1, "time"],
  [2, "truncated"],
  [4, "drop"],
  [8, "ftrace-names"],
];
export const flagNames = (f: number): string[] => FLAGS.filter(([bit]) => f & bit).map(([, name]) => name);
const TRUNCATED = 2;
const DROP = 4;
const FTRACE_NAMES = 8;
const FTRACE = 3;
const CONSOLE = 2;
const RESET = 11;

const u32 = (b: Uint8Array, o: number): number => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const u16 = (b: Uint8Array, o: number): number => b[o] | (b[o + 1] << 8);
const allFF = (b: Uint8Array): boolean => b.every((x) => x === 0xff);
const pad4 = (n: number): number => (n + 3) & ~3;

// ---- Image files ----

interface Page {
  addr: number;
  size: number;
  file?: string;
  header?: number;
}

/** "Format-1 images": each board's region pages and Storage area (address, size, erase unit). */
const FORMAT1_BOARDS: { [board: string]: { region?: [number, number, number]; storage: [number, number, number] } } = {
  PUCKJS: { region: [0x62000, 10, 4096], storage: [0x6c000, 40960, 4096] },
  PIXLJS: { region: [0x63000, 10, 4096], storage: [0x6d000, 36864, 4096] },
  MDBT42Q: { region: [0x62000, 10, 4096], storage: [0x6c000, 40960, 4096] },
  BANGLEJS2: { storage: [0x60000000, 8388608, 4096] },
  JOLTJS: { region: [0x87000, 10, 4096], storage: [0x91000, 409600, 4096] },
  PICO: { region: [0x8060000, 1, 131072], storage: [0x8004000, 49152, 16384] },
  ESPRUINOWIFI: { region: [0x8004000, 3, 16384], storage: [0x8010000, 65536, 65536] },
  ORIGINAL: { region: [0x8037000, 8, 2048], storage: [0x803b000, 20480, 2048] },
  ESP32: { region: [0x310000, 16, 4096], storage: [0x320000, 917504, 4096] },
  LINUX: { storage: [0x10000000, 262144, 1024] },
};

class ImageBytes {
  private readonly spans: Array<{ addr: number; size: number; at: number }> = [];

  constructor(
    private readonly file: Uint8Array,
    spans: Array<{ addr: number; size: number }>,
    start: number,
  ) {
    let at = start;
    for (const s of spans) {
      this.spans.push({ addr: s.addr, size: s.size, at });
      at += s.size;
    }
    this.end = at;
  }

  readonly end: number;

  spanOf(addr: number, length: number) {
    return this.spans.find((s) => addr >= s.addr && addr + length <= s.addr + s.size);
  }

  /** Bytes the file lacks read as 0xFF; undefined when no span holds the range. */
  read(addr: number, length: number): Uint8Array | undefined {
    const s = this.spanOf(addr, length);
    if (!s) return undefined;
    const from = s.at + addr - s.addr;
    const out = new Uint8Array(length).fill(0xff);
    if (from < this.file.length) out.set(this.file.subarray(from, Math.min(from + length, this.file.length)));
    return out;
  }

  /** The bytes of the range the file holds, from `addr` on (empty when it holds none). */
  held(addr: number, length: number): Uint8Array {
    const s = this.spanOf(addr, length)!;
    const from = s.at + addr - s.addr;
    return this.file.subarray(Math.min(from, this.file.length), Math.min(from + length, this.file.length));
  }

  cutSpans(): string[] {
    return this.spans.filter((s) => s.at + s.size > this.file.length).map((s) => `span at 0x${s.addr.toString(16)} cut`);
  }
}

export function decodeImageFile(file: Uint8Array): FormatImage {
  if (file.length < 12 || new TextDecoder().decode(file.subarray(0, 8)) !== "PSIMG001") throw new Error("not an image");
  const length = u32(file, 8);
  if (12 + length > file.length) throw new Error("header cut");
  const header = JSON.parse(new TextDecoder().decode(file.subarray(12, 12 + length)));
  const format = header.format ?? 1;
  if (format !== 1 && format !== 2) throw new Error(`format ${format}`);
  const bytes = new ImageBytes(file, header.spans, 12 + length);
  const cut = bytes.cutSpans();
  const pages: Page[] = format === 2 ? header.pages : format1Pages(header.board, header.kind, bytes);

  // "Image files": a page is read as far as the file holds it; pages outside the spans or overlapping are not.
  const readable: Array<{ addr: number; data: Uint8Array }> = [];
  for (const page of pages) {
    const where = `page at 0x${page.addr.toString(16)}`;
    if (!bytes.spanOf(page.addr, page.size)) cut.push(`${where} outside the spans`);
    else {
      const data = bytes.held(page.addr, page.size);
      if (data.length === 0) cut.push(`${where} cut off`);
      else {
        if (data.length < page.size) cut.push(`${where} cut short`);
        readable.push({ addr: page.addr, data });
      }
    }
  }
  const overlapping = readable.filter((p) => readable.some((q) => q !== p && p.addr < q.addr + q.data.length && q.addr < p.addr + p.data.length));
  if (overlapping.length) cut.push(`${overlapping.length} pages overlap`);

  // Scanning every page in order, keeping the first listed part of each sequence number ("Copies").
  const bySeq = new Map<number, Part>();
  for (const page of readable) {
    if (overlapping.includes(page)) continue;
    for (const part of scanPage(page.data)) if (!bySeq.has(part.seq)) bySeq.set(part.seq, part);
  }
  const records = joinParts(bySeq, header.kind);

  // "Retained RAM area": after the spans, only when the file holds it whole.
  const retainedLength = header.retained ?? 0;
  if (retainedLength > 0) {
    if (bytes.end + retainedLength <= file.length) {
      const ram = retainedRecord(file.subarray(bytes.end, bytes.end + retainedLength));
      if (ram) records.push(ram);
    } else cut.push("retained area cut");
  }
  return { board: header.board, kind: header.kind, format, records, cut };
}

/** "Format-1 images": the board's region pages, or the pstore.pN files found by walking its Storage area. */
function format1Pages(board: string, kind: string, bytes: ImageBytes): Page[] {
  const known = FORMAT1_BOARDS[board];
  if (!known) throw new Error(`format-1 image of unknown board ${board}`);
  if (kind === "flash") {
    if (!known.region) return [];
    const [addr, count, size] = known.region;
    return Array.from({ length: count }, (_, i) => ({ addr: addr + i * size, size }));
  }
  const [start, size, unit] = known.storage;
  const end = start + size;
  const read = (addr: number, n: number) => bytes.read(addr, n) ?? new Uint8Array(n).fill(0xff);
  const headerAt = (addr: number) => {
    if (addr + 32 > end) return undefined;
    const h = read(addr, 32);
    const word = u32(h, 0);
    const length = word & 0xffffff;
    if (word === 0xffffffff || word === 0 || addr + 32 + length > end) return undefined;
    const nameBytes = h.subarray(4, 32);
    const zero = nameBytes.indexOf(0);
    return { addr, length, deleted: u32(h, 4) === 0, name: String.fromCharCode(...nameBytes.subarray(0, zero < 0 ? 28 : zero)) };
  };
  const files = new Map<number, Page>();
  let h = headerAt(start);
  while (h) {
    const m = /^pstore\.p(0|[1-9][0-9]*)$/.exec(h.name);
    if (m && !h.deleted && !files.has(+m[1])) files.set(+m[1], { addr: h.addr + 32, size: h.length, file: h.name, header: h.addr });
    const next = (h.addr + 32 + h.length + 3) & ~3;
    if (next + 32 > end) break;
    h = headerAt(next) ?? headerAt(start + (Math.floor((next - start) / unit) + 1) * unit);
  }
  return [...files.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
}

// ---- Scanning a page ----

export interface Part extends HeaderFields {
  part: number;
  raw: Uint8Array;
}

export function validPageHeader(b: Uint8Array): boolean {
  return u32(b, 0) === 0x47505350 && b[4] === 1 && crc32(b.subarray(0, 20)) === u32(b, 20);
}

function validRecordHeader(h: Uint8Array): boolean {
  return u32(h, 0) === 0x52545350 && h[4] === 1 && h[11] === 12 && h[10] >= 1 && h[9] < h[10] && h[5] !== 0 && crc32(h.subarray(0, 36)) === u32(h, 36);
}

export function scanPage(page: Uint8Array): Part[] {
  const out: Part[] = [];
  const size = page.length;
  if (size < 24 || !validPageHeader(page)) return out;
  let off = 24;
  while (off + 52 <= size) {
    const h = page.subarray(off, off + 48);
    if (allFF(h)) break;
    const n = u32(h, 28);
    if (!validRecordHeader(h) || n > size || off + 52 + pad4(n) > size) {
      const g = page.subarray(off + 48, off + 96);
      if (off + 48 + 52 <= size && (allFF(g) || validRecordHeader(g))) {
        off += 48;
        continue;
      }
      break;
    }
    const total = 52 + pad4(n);
    const raw = page.slice(off, off + total);
    const erased = u32(h, 44) !== 0xffffffff;
    const committed = u32(raw, total - 4) === 0x21544d43;
    const recordCrc = crc32(h.subarray(0, 36), new Uint8Array(12).fill(0xff), raw.subarray(48, 48 + n));
    if (!erased && committed && recordCrc === u32(h, 40)) {
      out.push({
        type: h[5],
        reason: h[6],
        codec: h[7],
        flags: h[8],
        part: h[9],
        parts: h[10],
        seq: u32(h, 12),
        boot: u32(h, 16),
        time: u32(h, 20),
        uptime: u32(h, 24),
        storedLength: n,
        originalLength: u32(h, 32),
        raw,
      });
    }
    off += total;
  }
  return out;
}

// ---- Multi-part records, Names and ordering ----

function joinParts(bySeq: Map<number, Part>, backend: string): FormatRecord[] {
  const sorted = [...bySeq.values()].sort((a, b) => (a.seq - b.seq) | 0);
  const records: FormatRecord[] = [];
  for (const first of sorted) {
    if (first.part !== 0) continue;
    const parts: Part[] = [first];
    for (let j = 1; j < first.parts; j++) {
      const p = bySeq.get((first.seq + j) >>> 0);
      if (!p || p.part !== j || p.parts !== first.parts || p.type !== first.type || p.boot !== first.boot) break;
      parts.push(p);
    }
    if (parts.length !== first.parts) continue;
    records.push(decodeRecord(parts, backend));
  }
  return records.sort((a, b) => a.boot - b.boot || (a.seq - b.seq) | 0);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function decodeRecord(parts: Part[], backend: string): FormatRecord {
  const h = parts[0];
  const stored = concat(parts.map((p) => p.raw.subarray(48, 48 + p.storedLength)));
  const record: FormatRecord = {
    name: `${typeName(h.type)}-${backend}-${h.seq}`,
    type: h.type,
    reason: h.reason,
    codec: h.codec,
    flags: h.flags,
    parts: h.parts,
    seq: h.seq,
    boot: h.boot,
    time: h.time,
    uptime: h.uptime,
    storedLength: stored.length,
    originalLength: h.originalLength,
    outcome: "ok",
    raw: parts.map((p) => p.raw),
    stored,
  };
  if (parts.some((p) => p.codec !== h.codec || p.originalLength !== h.originalLength)) return { ...record, outcome: "corrupt" };
  if (h.flags & DROP && stored.length === 0) return { ...record, outcome: "dropped" };
  let decoded: Uint8Array;
  try {
    decoded = h.codec === 0 ? stored : h.codec === 1 ? lz4(stored, h.originalLength) : h.codec === 2 ? heatshrink(stored, h.originalLength) : fail(`codec ${h.codec}`);
    if (decoded.length !== h.originalLength && !(h.flags & TRUNCATED && decoded.length < h.originalLength)) fail("length");
  } catch {
    return { ...record, outcome: "undecoded" };
  }
  if (h.type !== FTRACE) return { ...record, decoded };
  try {
    return { ...record, decoded, trace: ftrace(decoded, h.flags) };
  } catch {
    return { ...record, decoded, outcome: "undecoded" };
  }
}

function fail(why: string): never {
  throw new Error(why);
}

// ---- Codecs ----

export function lz4(src: Uint8Array, limit: number): Uint8Array {
  const out = new Uint8Array(limit);
  let ip = 0;
  let op = 0;
  const length = (base: number): number => {
    let n = base;
    if (base === 15) {
      for (;;) {
        if (ip >= src.length) fail("length cut");
        const b = src[ip++];
        n += b;
        if (b !== 255) break;
      }
    }
    return n;
  };
  for (;;) {
    if (ip >= src.length) fail("token cut");
    const token = src[ip++];
    const literals = length(token >> 4);
    if (ip + literals > src.length || op + literals > limit) fail("literals");
    out.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    if (ip === src.length) return out.slice(0, op);
    if (ip + 2 > src.length) fail("offset cut");
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) fail("offset");
    const match = length(token & 15) + 4;
    if (op + match > limit) fail("match");
    for (let k = 0; k < match; k++, op++) out[op] = out[op - offset];
  }
}

export function heatshrink(src: Uint8Array, limit: number): Uint8Array {
  const out: number[] = [];
  const total = src.length * 8;
  let bit = 0;
  const take = (n: number): number => {
    let v = 0;
    for (let k = 0; k < n; k++, bit++) v = (v << 1) | ((src[bit >> 3] >> (7 - (bit & 7))) & 1);
    return v;
  };
  for (;;) {
    const left = total - bit;
    const needs = left >= 1 && (src[bit >> 3] >> (7 - (bit & 7))) & 1 ? 9 : 15;
    if (left < needs) {
      if (left >= 8 || take(left) !== 0) fail("leftover bits");
      return Uint8Array.from(out);
    }
    if (take(1)) out.push(take(8));
    else {
      const back = take(8) + 1;
      const count = take(6) + 1;
      for (let k = 0; k < count; k++) out.push(out.length - back >= 0 ? out[out.length - back] : 0);
    }
    if (out.length > limit) fail("too long");
  }
}

// ---- Payloads ----

export function ftrace(payload: Uint8Array, flags: number): Trace {
  if (payload.length < 8 || u16(payload, 0) !== 8) fail("trace header");
  const n = u16(payload, 2);
  if (payload.length < 8 + 8 * n) fail("trace entries");
  const entries = Array.from({ length: n }, (_, i) => ({ fn: u16(payload, 8 + 8 * i), caller: u16(payload, 10 + 8 * i), uptime: u32(payload, 12 + 8 * i) }));
  const names = flags & FTRACE_NAMES ? new TextDecoder().decode(payload.subarray(8 + 8 * n)).split("\n") : [];
  return { calls: u32(payload, 4), entries, names };
}

// ---- Retained RAM area ----

function retainedRecord(area: Uint8Array): FormatRecord | undefined {
  const ring = area.length - 24;
  if (ring < 16 || u32(area, 0) !== 0x42525350 || crc32(area.subarray(8, 24)) !== u32(area, 4)) return undefined;
  const position = u32(area, 20);
  const n = Math.min(position, ring);
  if (n === 0) return undefined;
  const body = area.subarray(24);
  const oldest = position > ring ? position % ring : 0;
  const content = position > ring ? concat([body.subarray(oldest), body.subarray(0, oldest)]) : body.slice(0, n);
  return {
    name: "console-ram-0",
    type: CONSOLE,
    reason: area[12] || RESET,
    codec: 0,
    flags: 0,
    parts: 1,
    seq: 0,
    boot: u32(area, 16),
    time: 0,
    uptime: 0,
    storedLength: n,
    originalLength: n,
    outcome: "ok",
    raw: [],
    stored: content,
    decoded: content,
  };
}
