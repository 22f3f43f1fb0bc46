// Zone engine: one zone = a run of pages of a PageDevice holding records of some types under one policy
// (docs/FORMAT.md "Zones"). Keeps a small index of intact records in RAM; only headers are read by the scan,
// plus each record once to check its CRC.

import type { PageDevice } from "./pages";
import type { ZoneStatus } from "./backend";
import {
  Crc32,
  DecodedRecordHeader,
  ERASE_MARK_OFFSET,
  Flag,
  PAGE_HEADER_SIZE,
  RECORD_CRC_OFFSET,
  RECORD_HEADER_SIZE,
  RECORD_OVERHEAD,
  RecordHeader,
  RecordType,
  decodePageHeader,
  decodeRecordHeader,
  encodePageHeader,
  encodeRecord,
  getU32,
  isErased,
  recordIntact,
  recordSize,
  seqNewer,
} from "./format";

export enum Policy {
  Ring = 0,
  KeepFirst = 1,
  Priority = 2,
}

const POLICY_NAMES = ["ring", "keep-first", "priority"];

export function policyFromName(name: string): Policy {
  const p = POLICY_NAMES.indexOf(name);
  if (p < 0) throw new Error("unknown zone policy " + name);
  return p;
}

enum PageState {
  /** All 0xFF, no page header yet. */
  Blank = 0,
  /** Valid page header: records from offset 24 up to end[i]. */
  Ready = 1,
  /** Neither blank nor a valid page (interrupted erase or foreign data): erase at idle. */
  Damaged = 2,
  /** Given up by the ring or priority policy: its records are gone, erase at idle. */
  Due = 3,
}

/** An intact, not erased record part in the index. */
export interface Entry extends DecodedRecordHeader {
  page: number;
  off: number;
}

/** Sequence counter shared by all zones of a backend (names must be unique per backend). */
export interface SeqCounter {
  next: number;
}

export interface ZoneOptions {
  name: string;
  types: RecordType[];
  policy: Policy;
  /** First device page and number of pages. */
  first: number;
  count: number;
}

const BLANK_CHUNK = 256;
const NO_RECORD = -1;
/** minReason of a page holding no live record. */
const NOT_LIVE = 256;
/** minReason of a page holding a part of the record being written: never reclaimed, never displaced. */
const PROTECTED = -1;

export class Zone {
  readonly name: string;
  readonly types: RecordType[];
  readonly policy: Policy;
  readonly first: number;
  readonly count: number;
  /** Largest payload of one part, and most parts one record may have. */
  readonly maxPart: number;
  readonly maxParts: number;
  /** Index of intact, not erased parts, sorted by sequence number. */
  entries: Entry[] = [];
  /** Drops that left no drop marker (no space even for one). */
  lostDrops = 0;
  /** Highest boot counter seen by the scan; highest sequence number seen (hasSeq tells whether any was). */
  maxBoot = 0;
  maxSeq = 0;
  hasSeq = false;
  boot = 0;
  log: ((s: string) => void) | undefined;
  private state: number[] = [];
  private erases: number[] = [];
  private end: number[] = [];
  private firstSeq: number[] = [];
  private cur = -1;

  constructor(
    private dev: PageDevice,
    private crc: Crc32,
    private seq: SeqCounter,
    o: ZoneOptions,
  ) {
    this.name = o.name;
    this.types = o.types;
    this.policy = o.policy;
    this.first = o.first;
    this.count = o.count;
    let min = 0;
    for (let i = 0; i < o.count; i++) {
      const s = dev.pageSize(o.first + i);
      if (!min || s < min) min = s;
    }
    // Keep-first and priority zones keep room for one drop marker behind any record.
    this.maxPart = (min - PAGE_HEADER_SIZE - RECORD_OVERHEAD - (o.policy === Policy.Ring ? 0 : RECORD_OVERHEAD)) & ~3;
    this.maxParts = Math.min(255, o.policy === Policy.KeepFirst ? o.count : o.count - 1);
    if (this.maxParts < 1 || this.maxPart < 4) {
      throw new Error("zone " + o.name + ": " + o.count + " page(s) of " + min + " bytes cannot hold a record under policy " + POLICY_NAMES[o.policy]);
    }
  }

  private say(s: string): void {
    if (this.log) this.log("pstore: zone " + this.name + ": " + s);
  }

  private size(i: number): number {
    return this.dev.pageSize(i);
  }

  // ---- boot scan ----

  scan(): void {
    this.entries = [];
    this.cur = -1;
    let known = 0;
    for (let i = this.first; i < this.first + this.count; i++) {
      this.scanPage(i);
      if (this.state[i] === PageState.Ready && this.erases[i] > known) known = this.erases[i];
    }
    // A page without a valid header lost its erase count: assume the highest one known, so wear is not understated.
    for (let i = this.first; i < this.first + this.count; i++) {
      if (this.state[i] !== PageState.Ready) this.erases[i] = known;
      if (this.firstSeq[i] !== NO_RECORD && (this.cur < 0 || seqNewer(this.firstSeq[i], this.firstSeq[this.cur]))) this.cur = i;
    }
    this.entries.sort(function (a, b) {
      return (a.seq - b.seq) | 0;
    });
    // A ring found without a spare (power lost before the idle erase): give up the oldest page again now,
    // so the crash path has its spare after the next idle.
    if (this.policy === Policy.Ring && this.emptyCount() === 0 && !this.hasWork()) {
      const v = this.victim(0, undefined);
      if (v >= 0) this.retire(v);
    }
    this.say(this.entries.length + " record part(s), " + this.emptyCount() + " empty page(s)");
  }

  private noteSeq(s: number): void {
    if (!this.hasSeq || seqNewer(s, this.maxSeq)) this.maxSeq = s;
    this.hasSeq = true;
  }

  private noteBoot(b: number): void {
    if (b > this.maxBoot) this.maxBoot = b;
  }

  private scanPage(i: number): void {
    const size = this.size(i);
    this.firstSeq[i] = NO_RECORD;
    this.end[i] = size;
    this.erases[i] = 0;
    const ph = decodePageHeader(this.dev.read(i, 0, PAGE_HEADER_SIZE), this.crc);
    if (!ph) {
      this.state[i] = this.blankFrom(i, 0) ? PageState.Blank : PageState.Damaged;
      return;
    }
    this.state[i] = PageState.Ready;
    this.erases[i] = ph.eraseCount;
    this.noteSeq((ph.seqMark - 1) >>> 0);
    this.noteBoot(ph.bootMark);
    let off = PAGE_HEADER_SIZE;
    while (off + RECORD_OVERHEAD <= size) {
      const hb = this.dev.read(i, off, RECORD_HEADER_SIZE);
      if (isErased(hb)) break;
      const h = decodeRecordHeader(hb, this.crc);
      const len = h ? recordSize(h.storedLength) : 0;
      if (!h || off + len > size) {
        // A header that fails its CRC has no length to trust. A write torn while its header (bytes 0..43, one
        // program) went in leaves everything from off+48 untouched, so when blank space or a valid header follows
        // there, the scan goes on from there. Otherwise nothing behind it can be trusted: the page is full.
        const next = off + RECORD_HEADER_SIZE;
        if (next + RECORD_OVERHEAD <= size) {
          const nb = this.dev.read(i, next, RECORD_HEADER_SIZE);
          if (isErased(nb) || decodeRecordHeader(nb, this.crc)) {
            off = next;
            continue;
          }
        }
        off = size;
        break;
      }
      this.noteSeq(h.seq);
      this.noteBoot(h.boot);
      if (this.firstSeq[i] === NO_RECORD) this.firstSeq[i] = h.seq;
      if (!h.erased && recordIntact(this.crc, this.dev.read(i, off, len), h)) {
        const e = h as Entry;
        e.page = i;
        e.off = off;
        this.entries.push(e);
      }
      off += len;
    }
    this.end[i] = off;
  }

  /** Whether page i is 0xFF from `from` to its end, read in small chunks (never a whole page in RAM). */
  private blankFrom(i: number, from: number): boolean {
    const size = this.size(i);
    for (let off = from; off < size; off += BLANK_CHUNK) {
      if (!isErased(this.dev.read(i, off, Math.min(BLANK_CHUNK, size - off)))) return false;
    }
    return true;
  }

  // ---- record groups ----

  /** Number of parts when entries[k] starts a complete record, else 0. */
  complete(k: number): number {
    const e = this.entries[k];
    if (e.part !== 0) return 0;
    for (let j = 1; j < e.parts; j++) {
      const p = this.entries[k + j];
      if (!p || p.seq !== ((e.seq + j) >>> 0) || p.part !== j || p.parts !== e.parts || p.type !== e.type || p.boot !== e.boot) {
        return 0;
      }
    }
    return e.parts;
  }

  /** Index in entries of the first part of the complete record with sequence `seq`, or -1. */
  find(seq: number): number {
    for (let k = 0; k < this.entries.length; k++) {
      if (this.entries[k].seq === seq) return this.complete(k) ? k : -1;
    }
    return -1;
  }

  /** Per page: the lowest (most important) reason among live records, NOT_LIVE when none, PROTECTED when it holds `protect`. */
  private minReasons(protect: Entry[] | undefined): number[] {
    const m: number[] = [];
    for (let i = this.first; i < this.first + this.count; i++) m[i] = NOT_LIVE;
    for (let k = 0; k < this.entries.length; ) {
      const n = this.complete(k);
      if (!n) {
        k++;
        continue;
      }
      for (let j = k; j < k + n; j++) {
        const e = this.entries[j];
        if (e.reason < m[e.page]) m[e.page] = e.reason;
      }
      k += n;
    }
    if (protect) for (let j = 0; j < protect.length; j++) m[protect[j].page] = PROTECTED;
    return m;
  }

  // ---- pages ----

  private isEmpty(i: number): boolean {
    return this.state[i] === PageState.Blank || (this.state[i] === PageState.Ready && this.end[i] === PAGE_HEADER_SIZE);
  }

  emptyCount(): number {
    let n = 0;
    for (let i = this.first; i < this.first + this.count; i++) if (this.isEmpty(i)) n++;
    return n;
  }

  /** The empty page with the lowest erase count (wear levelling), or -1. */
  private emptiest(): number {
    let best = -1;
    for (let i = this.first; i < this.first + this.count; i++) {
      if (this.isEmpty(i) && (best < 0 || this.erases[i] < this.erases[best])) best = i;
    }
    return best;
  }

  /** Page whose erase idle should do next (needs erasing, or holds no live record), or -1. */
  private reclaimable(protect: Entry[] | undefined): number {
    const m = this.minReasons(protect);
    for (let i = this.first; i < this.first + this.count; i++) {
      const s = this.state[i];
      if (s === PageState.Due || s === PageState.Damaged) return i;
      if (s === PageState.Ready && this.end[i] > PAGE_HEADER_SIZE && m[i] === NOT_LIVE) return i;
    }
    return -1;
  }

  hasWork(): boolean {
    if (this.reclaimable(undefined) >= 0) return true;
    for (let i = this.first; i < this.first + this.count; i++) if (this.state[i] === PageState.Blank) return true;
    return false;
  }

  /**
   * The page a record of `reason` may displace: ring, the oldest; priority, one whose live records all have a
   * reason >= `reason`, the least important first, then the oldest. -1 when there is none.
   */
  private victim(reason: number, protect: Entry[] | undefined): number {
    const m = this.minReasons(protect);
    let best = -1;
    for (let i = this.first; i < this.first + this.count; i++) {
      if (this.state[i] !== PageState.Ready || this.end[i] === PAGE_HEADER_SIZE || m[i] === PROTECTED) continue;
      if (this.policy === Policy.Priority && m[i] < reason) continue;
      if (
        best < 0 ||
        (this.policy === Policy.Priority && m[i] > m[best]) ||
        ((this.policy === Policy.Ring || m[i] === m[best]) && this.older(i, best))
      ) {
        best = i;
      }
    }
    return best;
  }

  private older(a: number, b: number): boolean {
    if (this.firstSeq[a] === NO_RECORD) return true;
    return this.firstSeq[b] !== NO_RECORD && seqNewer(this.firstSeq[b], this.firstSeq[a]);
  }

  /** Gives a page up to the policy: its records disappear now, the erase waits for idle. */
  private retire(i: number): void {
    this.state[i] = PageState.Due;
    this.drop(i);
    this.say("page " + i + " overwritten (erase at idle)");
  }

  /** Forgets the index entries of page i. */
  private drop(i: number): void {
    const kept: Entry[] = [];
    for (let k = 0; k < this.entries.length; k++) if (this.entries[k].page !== i) kept.push(this.entries[k]);
    this.entries = kept;
    if (this.cur === i) this.cur = -1;
  }

  private prepare(i: number): void {
    this.dev.program(i, 0, encodePageHeader(this.crc, { eraseCount: this.erases[i], seqMark: this.seq.next, bootMark: this.boot }));
    this.state[i] = PageState.Ready;
    this.end[i] = PAGE_HEADER_SIZE;
    this.firstSeq[i] = NO_RECORD;
  }

  private eraseAndPrepare(i: number): void {
    this.drop(i);
    // Counted before the erase: if power fails between erase and header, the count is estimated from the others.
    this.erases[i]++;
    this.state[i] = PageState.Damaged;
    this.dev.erase(i);
    this.say("page " + i + " erased (count " + this.erases[i] + ")");
    this.prepare(i);
  }

  /** One piece of deferred work: an erase (plus prepare) or a prepare. False when there was nothing to do. */
  work(protect: Entry[] | undefined): boolean {
    const r = this.reclaimable(protect);
    if (r >= 0) {
      this.eraseAndPrepare(r);
      return true;
    }
    for (let i = this.first; i < this.first + this.count; i++) {
      if (this.state[i] === PageState.Blank) {
        this.prepare(i);
        this.say("page " + i + " prepared");
        return true;
      }
    }
    return false;
  }

  idle(): boolean {
    return this.work(undefined) && this.hasWork();
  }

  /**
   * A page to continue in. Ring and priority zones keep their last empty page as the crash path's spare: taking
   * it needs another page to become empty at idle (one already pending, or a victim the policy may displace).
   */
  private acquire(crash: boolean, reason: number, protect: Entry[]): number {
    for (;;) {
      const e = this.emptiest();
      if (e >= 0) {
        if (this.policy === Policy.KeepFirst || this.emptyCount() > 1 || this.reclaimable(protect) >= 0) return this.take(e);
        const v = this.victim(reason, protect);
        if (v < 0) return -1;
        this.retire(v);
        return this.take(e);
      }
      if (crash) return -1;
      if (!this.work(protect)) {
        if (this.policy === Policy.KeepFirst) return -1;
        const v = this.victim(reason, protect);
        if (v < 0) return -1;
        this.retire(v);
      }
    }
  }

  private take(i: number): number {
    if (this.state[i] === PageState.Blank) this.prepare(i);
    this.cur = i;
    return i;
  }

  private fits(i: number, bytes: number): boolean {
    return this.end[i] + bytes <= this.size(i);
  }

  // ---- records ----

  private append(i: number, h: RecordHeader, payload: Uint8Array): Entry {
    h.seq = this.seq.next;
    this.seq.next = (this.seq.next + 1) >>> 0;
    const img = encodeRecord(this.crc, h, payload);
    const off = this.end[i];
    const n = img.length;
    // Header first, payload next, commit word last and alone; the erase mark (44..47) stays unprogrammed.
    this.end[i] = off + n;
    if (this.firstSeq[i] === NO_RECORD) this.firstSeq[i] = h.seq;
    this.dev.program(i, off, img.subarray(0, ERASE_MARK_OFFSET));
    if (n > RECORD_OVERHEAD) this.dev.program(i, off + RECORD_HEADER_SIZE, img.subarray(RECORD_HEADER_SIZE, n - 4));
    this.dev.program(i, off + n - 4, img.subarray(n - 4));
    const e = h as Entry;
    e.page = i;
    e.off = off;
    e.erased = false;
    e.recordCrc = getU32(img, RECORD_CRC_OFFSET);
    this.entries.push(e);
    return e;
  }

  /** Pages a record of `n` payload bytes needs beyond the current page's free space. */
  private pagesNeeded(n: number, parts: number): number {
    let free = this.cur >= 0 ? this.size(this.cur) - this.end[this.cur] : 0;
    let need = 0;
    for (let k = 0; k < parts; k++) {
      const len = recordSize(Math.min(this.maxPart, n - k * this.maxPart));
      if (len > free) {
        need++;
        free = this.size(this.emptiestOr(this.first)) - PAGE_HEADER_SIZE;
      }
      free -= len;
    }
    return need;
  }

  private emptiestOr(i: number): number {
    const e = this.emptiest();
    return e < 0 ? i : e;
  }

  /**
   * Stores a record (split into parts when needed). Returns its parts, or undefined when the policy dropped it.
   * `crash`: use only prepared space, never erase. Throws when the record could never fit this zone.
   */
  write(h: RecordHeader, payload: Uint8Array, crash: boolean): Entry[] | undefined {
    const n = payload.length;
    const parts = n ? Math.ceil(n / this.maxPart) : 1;
    if (parts > this.maxParts) {
      throw new Error("pstore: zone " + this.name + ": a record of " + n + " bytes is larger than the zone holds (" + this.maxParts * this.maxPart + ")");
    }
    // Keep-first (and crash writes anywhere) must not start a multi-part record that cannot be finished.
    const need = this.pagesNeeded(n, parts);
    if (need > this.emptyCount() && (crash || this.policy === Policy.KeepFirst) && (crash || this.reclaimable(undefined) < 0)) {
      return this.dropped(h, n);
    }
    const done: Entry[] = [];
    for (let k = 0; k < parts; k++) {
      const chunk = payload.subarray(k * this.maxPart, Math.min(n, (k + 1) * this.maxPart));
      const len = recordSize(chunk.length);
      // The last part of a keep-first or priority record leaves room for a drop marker when no page is left.
      const keep = this.policy !== Policy.Ring && k === parts - 1 ? RECORD_OVERHEAD : 0;
      let i = this.cur;
      if (i < 0 || !this.fits(i, len + (this.emptyCount() ? 0 : keep))) {
        i = this.acquire(crash, h.reason, done);
        if (i < 0) return this.dropped(h, n);
      }
      const ph = {
        type: h.type,
        reason: h.reason,
        codec: h.codec,
        flags: h.flags,
        part: k,
        parts: parts,
        seq: 0,
        boot: h.boot,
        time: h.time,
        uptime: h.uptime,
        storedLength: chunk.length,
        originalLength: h.originalLength,
      };
      done.push(this.append(i, ph, chunk));
    }
    return done;
  }

  /** Counts a record the policy did not keep: a drop marker when space for one is left, else a lost drop. */
  private dropped(h: RecordHeader, n: number): undefined {
    this.say("record of " + n + " bytes dropped (zone full)");
    let i = this.cur;
    // Only keep-first may spend an empty page on a marker: in the other policies the last one is the crash spare.
    if (i < 0 || !this.fits(i, RECORD_OVERHEAD)) i = this.policy === Policy.KeepFirst ? this.emptiest() : -1;
    if (i < 0) {
      this.lostDrops++;
      return undefined;
    }
    this.take(i);
    this.append(
      i,
      {
        type: h.type,
        reason: h.reason,
        codec: h.codec,
        flags: (h.flags | Flag.Drop) & ~Flag.Truncated,
        part: 0,
        parts: 1,
        seq: 0,
        boot: h.boot,
        time: h.time,
        uptime: h.uptime,
        storedLength: 0,
        originalLength: h.originalLength,
      },
      new Uint8Array(0),
    );
    return undefined;
  }

  /** Programs the erase mark of every part of record `seq`; false when there is no such complete record. */
  erase(seq: number): boolean {
    const k = this.find(seq);
    if (k < 0) return false;
    const parts = this.entries.splice(k, this.entries[k].parts);
    const zero = new Uint8Array(4);
    for (let j = 0; j < parts.length; j++) this.dev.program(parts[j].page, parts[j].off + ERASE_MARK_OFFSET, zero);
    this.say("record " + seq + " erased");
    return true;
  }

  /** Raw bytes (header … commit) of part `part` of the complete record `seq`, or undefined. */
  readPart(seq: number, part: number): Uint8Array | undefined {
    const k = this.find(seq);
    if (k < 0 || !(part >= 0 && part < this.entries[k].parts)) return undefined;
    const e = this.entries[k + part];
    return this.dev.read(e.page, e.off, recordSize(e.storedLength));
  }

  /** The payload of the complete record `seq`, parts joined and each part's CRC checked again; undefined if gone or damaged. */
  readPayload(seq: number): Uint8Array | undefined {
    const k = this.find(seq);
    if (k < 0) return undefined;
    let total = 0;
    for (let j = k; j < k + this.entries[k].parts; j++) total += this.entries[j].storedLength;
    const out = new Uint8Array(total);
    let at = 0;
    for (let j = k; j < k + this.entries[k].parts; j++) {
      const e = this.entries[j];
      const img = this.dev.read(e.page, e.off, recordSize(e.storedLength));
      const h = decodeRecordHeader(img, this.crc);
      if (!h || h.seq !== e.seq || !recordIntact(this.crc, img, h)) return undefined;
      out.set(img.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + e.storedLength), at);
      at += e.storedLength;
    }
    return out;
  }

  status(): ZoneStatus {
    let used = 0;
    let free = 0;
    let crashFree = 0;
    let emin = -1;
    let emax = 0;
    let records = 0;
    let drops = this.lostDrops;
    let due = 0;
    const empty = this.emptyCount();
    for (let i = this.first; i < this.first + this.count; i++) {
      const s = this.state[i];
      const size = this.size(i);
      if (s === PageState.Ready) {
        used += this.end[i] - PAGE_HEADER_SIZE;
        free += size - this.end[i];
      } else if (s === PageState.Blank) free += size - PAGE_HEADER_SIZE;
      else due++;
      if (emin < 0 || this.erases[i] < emin) emin = this.erases[i];
      if (this.erases[i] > emax) emax = this.erases[i];
      if (this.isEmpty(i)) crashFree = Math.max(crashFree, size - PAGE_HEADER_SIZE);
    }
    if (this.cur >= 0) crashFree = Math.max(crashFree, this.size(this.cur) - this.end[this.cur]);
    for (let k = 0; k < this.entries.length; k++) {
      if (this.complete(k)) {
        records++;
        if (this.entries[k].flags & Flag.Drop) drops++;
      }
    }
    return {
      name: this.name,
      types: this.types,
      policy: POLICY_NAMES[this.policy],
      pages: this.count,
      bytesUsed: used,
      bytesFree: free,
      sparePages: empty,
      crashFree: Math.max(0, crashFree - RECORD_OVERHEAD) & ~3,
      eraseMin: emin,
      eraseMax: emax,
      records: records,
      drops: drops,
      pendingErases: due,
    };
  }
}
