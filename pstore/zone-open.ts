// The boot scan of a zoned backend (zone.ts): lays the configured zones over the pages, reads every page header
// and record header, checks each record's CRC once, and hands the index over to the backend. It runs once per
// boot, so on the device it lives in the service module (firmware/svc.ts), which start() loads for it; on the host
// createZonedBackend adds it at once.

import { POLICY_NAMES, checkZones } from "../boards/zone-check";
import {
  ERASE_MARK_WORD,
  PAGE_HEADER_SIZE,
  RECORD_HEADER_SIZE,
  RECORD_OVERHEAD,
  RecordType,
  COMMIT_WORD,
  RECORD_CRC_WORD,
  aligned,
  isPageHeader,
  isRecordHeader,
  recordCrcAt,
  seqNewer,
  typeFromName,
  wordsOf,
} from "./format";
import { Mark, PageState, Policy, Zone, ZoneState, ZonedBackend } from "./zone";
import { INDEX_WORDS, PAGE_SHIFT, PAGE_SPAN, complete, ixPush } from "./zone-index";

/**
 * Bytes of a page read at a time by the scan (a whole page could be a 128 KB sector): a small page in one read, its
 * headers and records then views of it, where a read each would cost a Storage lookup and a copy.
 */
const SCAN_WINDOW = 1024;

const HALF = 0x80000000;
/** A prime: a stride through an array whose length it does not divide visits every element once. */
const SCATTER = 65521;

/** A copy of `a` twice as long. */
function doubled(a: Uint32Array): Uint32Array {
  const grown = new Uint32Array(a.length * 2);
  grown.set(a);
  return grown;
}

/**
 * Sorts a[0, n) in place as the unsigned numbers they are: the interpreter's sort without a comparator compares
 * integer elements by their int32 difference (ESPRUINO.md §10). For the rare cases only, as a comparator costs a
 * call per comparison.
 */
function sortNumbers(a: Uint32Array, n: number): void {
  a.subarray(0, n).sort(function (x, y) {
    return x - y;
  });
}

/**
 * The general case, for a store the writer did not write as it is (copied data, forged numbers): keeps, of the
 * parts with one sequence number, only the first in medium order (zones are in page order, each index in medium
 * order as scanned), and sorts each zone's index oldest first counting from `next` (the next sequence number) round
 * the 32-bit circle.
 */
function sortIndexes(zones: Zone[], next: number): void {
  const seen: { [seq: number]: number } = {};
  for (let y = 0; y < zones.length; y++) {
    const z = zones[y];
    const old = z.ix_;
    const keep: number[] = [];
    for (let k = 0; k < z.n_; k++) {
      const seq = old[k * INDEX_WORDS];
      if (!seen[seq]) {
        seen[seq] = 1;
        keep.push(k);
      }
    }
    keep.sort(function (a, b) {
      return ((old[a * INDEX_WORDS] - next) >>> 0) - ((old[b * INDEX_WORDS] - next) >>> 0);
    });
    const ix = new Uint32Array(Math.max(keep.length, 8) * INDEX_WORDS);
    for (let j = 0; j < keep.length; j++) ix.set(old.subarray(keep[j] * INDEX_WORDS, (keep[j] + 1) * INDEX_WORDS), j * INDEX_WORDS);
    z.ix_ = ix;
    z.n_ = keep.length;
  }
}

/**
 * Orders the index of every zone (sortIndexes), unless it is in order already: every zone's sequence numbers rising
 * from `next` in medium order and no number indexed twice on the medium, which is what a store the writer wrote
 * holds. That check is a pass over the index and one native sort.
 */
function orderIndexes(zones: Zone[], next: number): void {
  let total = 0;
  for (let y = 0; y < zones.length; y++) total += zones[y].n_;
  // Ages (how far back from next), falling in medium order within each zone and all below 2^31 when in order, so
  // the interpreter's sort takes them without a comparator (see sortNumbers). They are scattered over the array by a stride prime
  // to its length: the interpreter's sort is a quicksort whose comparisons grow with the square of the count on runs
  // already in order (callgrind, 127 values in four falling runs: 61 M instructions as they are, 6 M scattered).
  const ages = new Uint32Array(total);
  const stride = total % SCATTER ? SCATTER : 1;
  let at = 0;
  let ordered = true;
  for (let y = 0; y < zones.length; y++) {
    const ix = zones[y].ix_;
    let last = HALF;
    for (let w = 0; w < zones[y].n_ * INDEX_WORDS; w += INDEX_WORDS) {
      const age = (next - 1 - ix[w]) >>> 0;
      if (age >= last) ordered = false;
      last = ages[(at++ * stride) % total] = age;
    }
  }
  if (ordered) {
    ages.sort();
    for (let k = 1; k < total; k++) if (ages[k] === ages[k - 1]) ordered = false;
  }
  if (!ordered) sortIndexes(zones, next);
}

/**
 * 1 + the newest of `seqs` on the 32-bit circle: the number just before the largest gap between them. When all lie
 * within 2^31 of each other (all the writer produces) that is the serial-arithmetic newest; with forged numbers
 * spread around the circle it is the start that runs longest before reusing a number on the medium. 1 when empty.
 */
function nextSeqAfter(seqs: Uint32Array, n: number): number {
  if (!n) return 1;
  // All within half the circle of the first (all the writer produces): the largest gap is the rest of the circle,
  // after the one farthest ahead. One pass, no sort.
  const s0 = seqs[0];
  let ahead = 0;
  let behind = 0;
  for (let k = 1; k < n; k++) {
    const d = (seqs[k] - s0) | 0;
    if (d > ahead) ahead = d;
    else if (d < behind) behind = d;
  }
  if (ahead - behind < HALF) return (s0 + ahead + 1) >>> 0;
  sortNumbers(seqs, n);
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

/**
 * True when page i holds a part of a complete record of z: a part k on page i whose record starts at k less its
 * part number. The index is read directly: a helper call per part would cost the interpreter more than the loop.
 */
function holdsLive(z: Zone, i: number): boolean {
  const ix = z.ix_;
  for (let k = 0; k < z.n_; k++) {
    const w = k * INDEX_WORDS;
    if (ix[w + 2] >>> PAGE_SHIFT !== i) continue;
    const first = k - ((ix[w + 3] >>> 16) & 255);
    if (first >= 0 && complete(z, first) > k - first) return true;
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
    let seqs: Uint32Array = new Uint32Array(64);
    let seqCount = 0;
    maxBoot = 0;

    const size = function (i: number): number {
      return dev.pageSize(i);
    };
    // Bytes are erased (0xFF) when their CRC is that of as many 0xFF bytes: a native call rather than a loop over
    // bytes in JavaScript. The CRC of so many 0xFF bytes is kept by length: the scan asks for the same few lengths
    // page after page.
    const erasedCrcs: { [length: number]: number } = {};
    const isErased = function (b: Uint8Array): boolean {
      let c = erasedCrcs[b.length];
      if (c === undefined) c = erasedCrcs[b.length] = crc(new Uint8Array(b.length).fill(255));
      return crc(b) === c;
    };
    // One window for the whole scan, read into where the device allows it: a new array per page would make the
    // interpreter collect garbage to find a block of SCAN_WINDOW bytes, page after page.
    const buf = new Uint8Array(SCAN_WINDOW);
    let win: Uint8Array = new Uint8Array(0);
    let words: Uint32Array = new Uint32Array(0);
    let winPage = -1;
    let winFrom = 0;
    /**
     * Makes the window hold bytes [off, off + len) of page i, reading a new one from off if it does not; their place
     * in it. What the window held before is gone: a view of it is good until the next call.
     */
    const cover = function (i: number, off: number, len: number): number {
      if (i !== winPage || off < winFrom || off + len > winFrom + win.length) {
        const want = Math.max(len, Math.min(SCAN_WINDOW, size(i) - off));
        win = aligned(dev.read(i, off, want, want > SCAN_WINDOW ? undefined : buf.subarray(0, want)));
        words = wordsOf(win);
        winPage = i;
        winFrom = off;
      }
      return off - winFrom;
    };
    const bytes = function (i: number, off: number, len: number): Uint8Array {
      const o = cover(i, off, len);
      return win.subarray(o, o + len);
    };
    /** True when page i is all 0xFF from `from` on. */
    const blank = function (i: number, from: number): boolean {
      const n = size(i);
      for (let off = from; off < n; off += SCAN_WINDOW) if (!isErased(bytes(i, off, Math.min(SCAN_WINDOW, n - off)))) return false;
      return true;
    };

    /**
     * Where the scan of page i (n bytes) goes on from bytes at off that do not start a record within the page: -1
     * when they are free space (erased, and blank to the end: a write must never land on bytes someone else
     * programmed), else n (the page is full) or off + 48. A header that fails its CRC has no length to trust. A write
     * torn while its header (bytes 0..43, one program) went in leaves everything from off+48 untouched, so when blank
     * space or a valid header follows there, the scan goes on from there. Otherwise nothing behind it can be trusted.
     */
    const afterBad = function (i: number, off: number, n: number): number {
      if (isErased(bytes(i, off, RECORD_HEADER_SIZE))) return blank(i, off + RECORD_HEADER_SIZE) ? -1 : n;
      const next = off + RECORD_HEADER_SIZE;
      if (next + RECORD_OVERHEAD > n) return n;
      const p = cover(i, next, RECORD_HEADER_SIZE);
      return isErased(win.subarray(p, p + RECORD_HEADER_SIZE)) || isRecordHeader(crc, win, words, p) ? next : n;
    };

    const scanPage = function (z: Zone, i: number): void {
      const n = size(i);
      firstSeq[i] = Mark.NoRecord;
      end[i] = n;
      erases[i] = 0;
      // The window from the page's start: its header read in place, where a decoded copy would cost calls and an
      // object per page.
      cover(i, 0, PAGE_HEADER_SIZE);
      // A page file not created yet reads as nothing: blank, without 0xFF bytes made up to check.
      if (!win.length) {
        state[i] = PageState.Blank;
        return;
      }
      if (win.length < PAGE_HEADER_SIZE || !isPageHeader(crc, win, words)) {
        state[i] = blank(i, 0) ? PageState.Blank : PageState.Damaged;
        return;
      }
      state[i] = PageState.Ready;
      // Erase count, sequence mark and boot mark: words 2, 3 and 4 (docs/FORMAT.md).
      erases[i] = words[2];
      if (seqCount === seqs.length) seqs = doubled(seqs);
      seqs[seqCount++] = (words[3] - 1) >>> 0;
      if (words[4] > maxBoot) maxBoot = words[4];
      // A prepared page that holds nothing yet (most pages, most of the time): the window checked at once, where
      // the loop below would look for a record header and then for blank space (a dozen calls of the interpreter).
      // A page whose first record is there shows it in its first word, without a CRC of the window.
      if (words[PAGE_HEADER_SIZE >> 2] === 0xffffffff && isErased(win.subarray(PAGE_HEADER_SIZE)) && blank(i, win.length)) {
        end[i] = PAGE_HEADER_SIZE;
        return;
      }
      let off = PAGE_HEADER_SIZE;
      while (off + RECORD_OVERHEAD <= n) {
        // Headers and records are checked in place in the window, a header's fields read from its words; what
        // does not hold a record is left to afterBad, out of the loop, which the interpreter reads at every pass.
        let o = cover(i, off, RECORD_HEADER_SIZE);
        const stored = words[(o >> 2) + 7];
        // A length beyond the page is as untrustworthy as a bad CRC (and would overflow the sum). recordSize
        // written out: two calls per record.
        const len = isRecordHeader(crc, win, words, o) && stored <= n ? RECORD_OVERHEAD + ((stored + 3) & ~3) : n + 1;
        if (off + len > n) {
          const next = afterBad(i, off, n);
          if (next < 0) break;
          off = next;
          continue;
        }
        if (o + len > win.length) o = cover(i, off, len);
        const q = o >> 2;
        const seq = words[q + 3];
        const boot = words[q + 4];
        if (seqCount === seqs.length) seqs = doubled(seqs);
        seqs[seqCount++] = seq;
        if (boot > maxBoot) maxBoot = boot;
        if (firstSeq[i] === Mark.NoRecord) firstSeq[i] = seq;
        // Copies (copied data repeats a sequence number) are indexed here and dropped by the sort, which keeps the
        // first in medium order; erasing the record finds the others on the medium. Indexed when not erased, its
        // commit word and record CRC holding; the index's info word is the header's type and reason (bytes 5, 6)
        // and part and parts (bytes 9, 10).
        // The record CRC word is read before the CRC is taken in the window itself (scratch: 0xFF left in bytes
        // 36..47, which the scan reads no more).
        const rc = words[q + RECORD_CRC_WORD];
        if (words[q + ERASE_MARK_WORD] === 0xffffffff && words[q + (len >> 2) - 1] === COMMIT_WORD && recordCrcAt(crc, win, words, o, stored, true) === rc)
          ixPush(z, seq, boot, i * PAGE_SPAN + off, ((words[q + 1] >>> 8) & 0xffff) | ((words[q + 2] & 0xffff00) << 8));
        off += len;
      }
      end[i] = off;
    };

    /** Per zone, from its scan: the number of empty pages, and the prepared empty page least erased (-1: none). */
    const empties: number[] = [];
    const freshes: number[] = [];
    /** Scans the pages of z, adding its figures to empties and freshes. */
    const scan = function (z: Zone): void {
      let known = 0;
      let empty = 0;
      let fresh = -1;
      for (let i = z.first_; i < z.end_; i++) {
        scanPage(z, i);
        if (state[i] === PageState.Ready && erases[i] > known) known = erases[i];
      }
      // A page without a valid header lost its erase count: assume the highest one known, so wear is not understated.
      for (let i = z.first_; i < z.end_; i++) {
        if (state[i] !== PageState.Ready) erases[i] = known;
        if (state[i] === PageState.Blank) empty++;
        else if (state[i] === PageState.Ready && end[i] === PAGE_HEADER_SIZE) {
          empty++;
          if (fresh < 0 || erases[i] < erases[fresh]) fresh = i;
        }
        if (firstSeq[i] !== Mark.NoRecord && (z.cur_ < 0 || seqNewer(firstSeq[i], firstSeq[z.cur_]))) z.cur_ = i;
      }
      empties.push(empty);
      freshes.push(fresh);
    };

    /** Picks the current page of zone y, once every zone is scanned and its index in order. */
    const settle = function (y: number): void {
      const z = s.zones_[y];
      const empty = empties[y];
      // A ring or priority zone without an empty page gets its spare back when idle erases a page holding no live
      // record. If that page is the current one, a write into it first would leave the zone with no spare and
      // nothing to reclaim (and the next boot would give up the oldest page): the next write takes a page instead.
      if (z.policy_ !== Policy.KeepFirst && !empty && z.cur_ >= 0 && !holdsLive(z, z.cur_)) z.cur_ = -1;
      // A zone without records starts in the prepared page its first write would take (the empty one least erased,
      // never a ring's last spare), so that a crash's first record goes straight in instead of searching the pages.
      if (z.cur_ < 0 && (z.policy_ === Policy.KeepFirst || empty > 1)) z.cur_ = freshes[y];
    };

    // The settings' own check (the same words as for pstore.json), for zones that did not come through it: on the
    // host. A device's zones are its settings', checked by start() already.
    if (typeof PSTORE_BOARD === "undefined") {
      checkZones(config, dev.pageCount, function (field, problem): never {
        throw new Error(name + ": " + field + ": " + problem);
      });
    }
    let page = 0;
    for (let y = 0; y < config.length; y++) {
      const c = config[y];
      const policy = POLICY_NAMES.indexOf(c.policy);
      const zt: RecordType[] = [];
      for (let t = 0; t < c.types.length; t++) {
        zt.push(typeFromName(c.types[t]));
        if (types.indexOf(zt[t]) < 0) types.push(zt[t]);
      }
      let min = 0;
      for (let i = page; i < page + c.pages; i++) if (!min || size(i) < min) min = size(i);
      // Keep-first and priority zones keep room for one drop marker behind any record.
      const part = (min - PAGE_HEADER_SIZE - RECORD_OVERHEAD - (policy === Policy.Ring ? 0 : RECORD_OVERHEAD)) & ~3;
      const parts = Math.min(255, policy === Policy.KeepFirst ? c.pages : c.pages - 1);
      if (parts < 1 || part < 4) throw new Error(name + ": zone " + c.name + ": " + c.pages + " pages of " + min + " bytes cannot hold a record as " + c.policy);
      s.zones_.push({ name_: c.name, types_: zt, policy_: policy, first_: page, end_: page + c.pages, part_: part, parts_: parts, ix_: new Uint32Array(8 * INDEX_WORDS), n_: 0, lost_: 0, cur_: -1 });
      page += c.pages;
    }
    for (let y = 0; y < s.zones_.length; y++) scan(s.zones_[y]);
    s.nextSeq_ = nextSeqAfter(seqs, seqCount);
    orderIndexes(s.zones_, s.nextSeq_);
    for (let y = 0; y < s.zones_.length; y++) settle(y);
    b.types = types;
    b.set_(s);
    // Power lost before the idle erase: giving up the oldest page now gives the crash path its spare after the next idle.
    for (let y = 0; y < s.zones_.length; y++) if (s.zones_[y].policy_ === Policy.Ring) b.spare_(s.zones_[y]);
    const log = inner.log_;
    if (log) for (let y = 0; y < s.zones_.length; y++) log("pstore: zone " + s.zones_[y].name_ + ": " + s.zones_[y].n_ + " parts, " + inner.emptyCount_(s.zones_[y]) + " empty pages");
  };
}
