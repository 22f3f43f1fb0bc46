// The boot scan of a zoned backend (zone.ts): lays the configured zones over the pages, reads every page header
// and record header, checks each record's CRC once, and hands the index over to the backend. It runs once per
// boot, so on the device it lives in the service module (firmware/svc.ts), which start() loads for it; on the host
// createZonedBackend adds it at once.

import { POLICY_NAMES } from "../boards/zone-check";
import {
  PAGE_HEADER_SIZE,
  RECORD_HEADER_SIZE,
  RECORD_OVERHEAD,
  RecordType,
  decodePageHeader,
  decodeRecordHeader,
  recordIntact,
  recordSize,
  seqNewer,
  typeFromName,
} from "./format";
import { INDEX_WORDS, Mark, PageState, Policy, Zone, ZoneState, ZonedBackend, complete, ixPage, ixSeq, ixPush } from "./zone";

/** Bytes read at a time when checking that a page is blank (a whole page could be a 128 KB sector). */
const BLANK_CHUNK = 1024;

/** Whether one of the first `count` zones (already sorted by sortIndex with `next`) indexes sequence number `seq`. */
function indexed(zones: Zone[], count: number, seq: number, next: number): boolean {
  const key = (seq - next) >>> 0;
  for (let y = 0; y < count; y++) {
    const z = zones[y];
    let lo = 0;
    let hi = z.n_;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (((ixSeq(z, mid) - next) >>> 0) < key) lo = mid + 1;
      else hi = mid;
    }
    if (lo < z.n_ && ixSeq(z, lo) === seq) return true;
  }
  return false;
}

const HALF = 0x80000000;

/**
 * Sorts a[0, n) as unsigned numbers with the interpreter's own sort. Espruino's sort of an integer typed array
 * compares the int32 difference of two values, which is right only for values below 2^31 (ESPRUINO.md §10), so the
 * values from 2^31 up are sorted apart, moved down by 2^31.
 */
function sortUint32(a: Uint32Array, n: number): void {
  let high = 0;
  for (let k = 0; k < n; k++) if (a[k] >= HALF) high++;
  const lo = new Uint32Array(n - high);
  const hi = new Uint32Array(high);
  let l = 0;
  let h = 0;
  for (let k = 0; k < n; k++) {
    if (a[k] >= HALF) hi[h++] = a[k] - HALF;
    else lo[l++] = a[k];
  }
  lo.sort();
  hi.sort();
  a.set(lo);
  for (let k = 0; k < high; k++) a[l + k] = hi[k] + HALF;
}

/** The place of `v` in the sorted, repeat-free values[0, m). */
function placeOf(values: Uint32Array, m: number, v: number): number {
  let lo = 0;
  let hi = m;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Sorts the index of z by sequence number, oldest first counting from `next` (the next sequence number) round
 * the 32-bit circle, and keeps only the first copy of a repeated number in medium order (only copied data
 * repeats one), also when a zone before zones[y] (earlier on the medium) indexes the number already. The sort is the
 * interpreter's own, over the distances from `next` in a Uint32Array (a Float64Array does not hold numbers
 * exactly on the Bangle.js 2 firmware).
 */
function sortIndex(zones: Zone[], y: number, next: number): void {
  const z = zones[y];
  const n = z.n_;
  const order = new Uint32Array(n);
  for (let k = 0; k < n; k++) order[k] = (ixSeq(z, k) - next) >>> 0;
  sortUint32(order, n);
  let m = 0;
  for (let j = 0; j < n; j++) if (!m || order[j] !== order[m - 1]) order[m++] = order[j];
  // Where in the old index each distinct number first is, in medium order (the lowest position wins).
  const first = new Uint32Array(m);
  for (let k = n - 1; k >= 0; k--) first[placeOf(order, m, (ixSeq(z, k) - next) >>> 0)] = k;
  const old = z.ix_;
  const ix = new Uint32Array(Math.max(m, 8) * INDEX_WORDS);
  let kept = 0;
  for (let j = 0; j < m; j++) {
    if (indexed(zones, y, (order[j] + next) >>> 0, next)) continue;
    for (let w = 0; w < INDEX_WORDS; w++) ix[kept * INDEX_WORDS + w] = old[first[j] * INDEX_WORDS + w];
    kept++;
  }
  z.ix_ = ix;
  z.n_ = kept;
}

/**
 * 1 + the newest of `seqs` on the 32-bit circle: the number just before the largest gap between them. When all lie
 * within 2^31 of each other (all the writer produces) that is the serial-arithmetic newest; with forged numbers
 * spread around the circle it is the start that runs longest before reusing a number on the medium. 1 when empty.
 */
function nextSeqAfter(seqs: Uint32Array, n: number): number {
  if (!n) return 1;
  sortUint32(seqs, n);
  let top = seqs[n - 1];
  let gap = (seqs[0] - top) >>> 0;
  for (let k = 1; k < n; k++) {
    if (seqs[k] - seqs[k - 1] > gap) {
      gap = seqs[k] - seqs[k - 1];
      top = seqs[k - 1];
    }
  }
  return (top + 1) >>> 0;
}

/** True when page i holds a part of a complete record of z. */
function holdsLive(z: Zone, i: number): boolean {
  for (let k = 0; k < z.n_; ) {
    const n = complete(z, k);
    for (let j = k; j < k + n; j++) if (ixPage(z, j) === i) return true;
    k += n || 1;
  }
  return false;
}

/** Gives a zoned backend its open (the boot scan) and lastBoot. */
export function addZoneOpen(b: ZonedBackend): void {
  let maxBoot = 0;
  b.lastBoot = function () {
    return maxBoot;
  };
  b.open = function () {
    const inner = b.in_();
    const crc = inner.crc_;
    const config = inner.config_;
    const name = b.name;
    const dev = inner.device_();
    const pages = dev.pageCount;
    const s: ZoneState = {
      dev_: dev,
      zones_: [],
      state_: new Uint8Array(pages),
      erases_: new Uint32Array(pages),
      end_: new Uint32Array(pages),
      firstSeq_: [],
      nextSeq_: 1,
    };
    const state = s.state_;
    const erases = s.erases_;
    const end = s.end_;
    const firstSeq = s.firstSeq_;
    const types: RecordType[] = [];
    /** Every sequence number on the medium (FORMAT.md "Sequence and boot counters at boot"): seqCount of them. */
    let seqs = new Uint32Array(64);
    let seqCount = 0;
    maxBoot = 0;

    const size = function (i: number): number {
      return dev.pageSize(i);
    };
    const noteSeq = function (q: number): void {
      if (seqCount === seqs.length) {
        const grown = new Uint32Array(seqCount * 2);
        grown.set(seqs);
        seqs = grown;
      }
      seqs[seqCount++] = q;
    };
    const noteBoot = function (n: number): void {
      if (n > maxBoot) maxBoot = n;
    };
    // Bytes are erased (0xFF) when their CRC is that of as many bytes of `ff`: two native calls rather than a loop
    // over bytes in JavaScript, with `ff` filled once per scan (a fill is itself a loop in the interpreter).
    const ff = new Uint8Array(BLANK_CHUNK);
    ff.fill(255);
    /** `b` is at most BLANK_CHUNK bytes long. */
    const isErased = function (b: Uint8Array): boolean {
      return crc(b) === crc(ff.subarray(0, b.length));
    };
    /** True when page i is all 0xFF from `from` on. */
    const blank = function (i: number, from: number): boolean {
      const n = size(i);
      for (let off = from; off < n; off += BLANK_CHUNK) if (!isErased(dev.read(i, off, Math.min(BLANK_CHUNK, n - off)))) return false;
      return true;
    };

    const scanPage = function (z: Zone, i: number): void {
      const n = size(i);
      firstSeq[i] = Mark.NoRecord;
      end[i] = n;
      erases[i] = 0;
      // A page file not created yet is blank: reading it would only make up 0xFF bytes to check.
      if (dev.absent && dev.absent(i)) {
        state[i] = PageState.Blank;
        return;
      }
      const ph = decodePageHeader(dev.read(i, 0, PAGE_HEADER_SIZE), crc);
      if (!ph) {
        state[i] = blank(i, 0) ? PageState.Blank : PageState.Damaged;
        return;
      }
      state[i] = PageState.Ready;
      erases[i] = ph.eraseCount;
      noteSeq((ph.seqMark - 1) >>> 0);
      noteBoot(ph.bootMark);
      let off = PAGE_HEADER_SIZE;
      while (off + RECORD_OVERHEAD <= n) {
        const hb = dev.read(i, off, RECORD_HEADER_SIZE);
        if (isErased(hb)) {
          // Free space only if blank to the end: a write must never land on bytes someone else programmed.
          if (!blank(i, off + RECORD_HEADER_SIZE)) off = n;
          break;
        }
        const h = decodeRecordHeader(hb, crc);
        // A length beyond the page is as untrustworthy as a bad CRC (and would overflow recordSize).
        const len = h && h.storedLength <= n ? recordSize(h.storedLength) : n + 1;
        if (!h || off + len > n) {
          // A header that fails its CRC has no length to trust. A write torn while its header (bytes 0..43, one
          // program) went in leaves everything from off+48 untouched, so when blank space or a valid header follows
          // there, the scan goes on from there. Otherwise nothing behind it can be trusted: the page is full.
          const next = off + RECORD_HEADER_SIZE;
          if (next + RECORD_OVERHEAD <= n) {
            const nb = dev.read(i, next, RECORD_HEADER_SIZE);
            if (isErased(nb) || decodeRecordHeader(nb, crc)) {
              off = next;
              continue;
            }
          }
          off = n;
          break;
        }
        noteSeq(h.seq);
        noteBoot(h.boot);
        if (firstSeq[i] === Mark.NoRecord) firstSeq[i] = h.seq;
        // Copies (copied data repeats a sequence number) are indexed here and dropped by the sort, which keeps the
        // first in medium order; erasing the record finds the others on the medium.
        if (!h.erased && recordIntact(crc, dev.read(i, off, len), h)) ixPush(z, h, i, off);
        off += len;
      }
      end[i] = off;
    };

    /** Scans the pages of z; returns its number of empty pages. */
    const scan = function (z: Zone): number {
      let known = 0;
      let empty = 0;
      for (let i = z.first_; i < z.end_; i++) {
        scanPage(z, i);
        if (state[i] === PageState.Ready && erases[i] > known) known = erases[i];
      }
      // A page without a valid header lost its erase count: assume the highest one known, so wear is not understated.
      for (let i = z.first_; i < z.end_; i++) {
        if (state[i] !== PageState.Ready) erases[i] = known;
        if (state[i] === PageState.Blank || (state[i] === PageState.Ready && end[i] === PAGE_HEADER_SIZE)) empty++;
        if (firstSeq[i] !== Mark.NoRecord && (z.cur_ < 0 || seqNewer(firstSeq[i], firstSeq[z.cur_]))) z.cur_ = i;
      }
      return empty;
    };

    /** Orders the index of zone y (once every zone is scanned and the next sequence number known); picks its current page. */
    const settle = function (y: number, empty: number): void {
      const z = s.zones_[y];
      sortIndex(s.zones_, y, s.nextSeq_);
      // A ring or priority zone without an empty page gets its spare back when idle erases a page holding no live
      // record. If that page is the current one, a write into it first would leave the zone with no spare and
      // nothing to reclaim (and the next boot would give up the oldest page): the next write takes a page instead.
      if (z.policy_ !== Policy.KeepFirst && !empty && z.cur_ >= 0 && !holdsLive(z, z.cur_)) z.cur_ = -1;
    };

    let page = 0;
    for (let y = 0; y < config.length; y++) {
      const c = config[y];
      const where = name + ": zone " + c.name + ": ";
      if (page + c.pages > dev.pageCount) throw new Error(name + ": zones need " + (page + c.pages) + " pages, the medium has " + dev.pageCount);
      const policy = POLICY_NAMES.indexOf(c.policy);
      if (policy < 0) throw new Error(where + "unknown policy " + c.policy);
      const zt: RecordType[] = [];
      for (let t = 0; t < c.types.length; t++) {
        zt.push(typeFromName(c.types[t]));
        if (!zt[t]) throw new Error(where + "unknown record type " + c.types[t]);
        if (types.indexOf(zt[t]) < 0) types.push(zt[t]);
      }
      let min = 0;
      for (let i = page; i < page + c.pages; i++) if (!min || size(i) < min) min = size(i);
      // Keep-first and priority zones keep room for one drop marker behind any record.
      const part = (min - PAGE_HEADER_SIZE - RECORD_OVERHEAD - (policy === Policy.Ring ? 0 : RECORD_OVERHEAD)) & ~3;
      const parts = Math.min(255, policy === Policy.KeepFirst ? c.pages : c.pages - 1);
      if (parts < 1 || part < 4) throw new Error(where + c.pages + " pages of " + min + " bytes cannot hold a record as " + c.policy);
      s.zones_.push({ name_: c.name, types_: zt, policy_: policy, first_: page, end_: page + c.pages, part_: part, parts_: parts, ix_: new Uint32Array(8 * INDEX_WORDS), n_: 0, lost_: 0, cur_: -1 });
      page += c.pages;
    }
    const empties: number[] = [];
    for (let y = 0; y < s.zones_.length; y++) empties.push(scan(s.zones_[y]));
    s.nextSeq_ = nextSeqAfter(seqs, seqCount);
    for (let y = 0; y < s.zones_.length; y++) settle(y, empties[y]);
    b.types = types;
    b.set_(s);
    // Power lost before the idle erase: giving up the oldest page now gives the crash path its spare after the next idle.
    for (let y = 0; y < s.zones_.length; y++) if (s.zones_[y].policy_ === Policy.Ring) b.spare_(s.zones_[y]);
    const log = inner.log_;
    if (log) for (let y = 0; y < s.zones_.length; y++) log("pstore: zone " + s.zones_[y].name_ + ": " + s.zones_[y].n_ + " parts, " + inner.emptyCount_(s.zones_[y]) + " empty pages");
  };
}
