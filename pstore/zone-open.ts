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
  isErased,
  recordIntact,
  recordSize,
  seqNewer,
  typeFromName,
} from "./format";
import { Entry, Mark, PageState, Policy, Zone, ZoneState, ZonedBackend, complete } from "./zone";

/** Bytes read at a time when checking that a page is blank (never a whole page in RAM). */
const BLANK_CHUNK = 256;

function bySeq(a: Entry, b: Entry): number {
  return (a.seq - b.seq) | 0;
}

function byValue(a: number, b: number): number {
  return a - b;
}

/**
 * 1 + the newest of `seqs` on the 32-bit circle: the number just before the largest gap between them. When all lie
 * within 2^31 of each other (all the writer produces) that is the serial-arithmetic newest; with forged numbers
 * spread around the circle it is the start that runs longest before reusing a number on the medium. 1 when empty.
 */
function nextSeqAfter(seqs: number[]): number {
  const n = seqs.length;
  if (!n) return 1;
  seqs.sort(byValue);
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
  const list = z.entries_;
  for (let k = 0; k < list.length; ) {
    const n = complete(z, k);
    for (let j = k; j < k + n; j++) if (list[j].page_ === i) return true;
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
    const s: ZoneState = { dev_: dev, zones_: [], state_: [], erases_: [], end_: [], firstSeq_: [], nextSeq_: 1 };
    const state = s.state_;
    const erases = s.erases_;
    const end = s.end_;
    const firstSeq = s.firstSeq_;
    const types: RecordType[] = [];
    /** The indexed part of each sequence number, over every zone of the backend. */
    const seen: { [seq: string]: Entry } = {};
    /** Every sequence number on the medium (FORMAT.md "Sequence and boot counters at boot"). */
    const seqs: number[] = [];
    maxBoot = 0;

    const size = function (i: number): number {
      return dev.pageSize(i);
    };
    const noteSeq = function (q: number): void {
      seqs.push(q);
    };
    const noteBoot = function (n: number): void {
      if (n > maxBoot) maxBoot = n;
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
        if (!h.erased && recordIntact(crc, dev.read(i, off, len), h)) {
          const e = h as any as Entry;
          e.page_ = i;
          e.off_ = off;
          // Only copied data repeats a sequence number: the first copy in medium order is indexed, the others are
          // remembered so that erasing the record erases them too.
          const first = seen[h.seq];
          if (first) (first.copies_ || (first.copies_ = [])).push(e);
          else {
            seen[h.seq] = e;
            z.entries_.push(e);
          }
        }
        off += len;
      }
      end[i] = off;
    };

    const scan = function (z: Zone): void {
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
      z.entries_.sort(bySeq);
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
      s.zones_.push({ name_: c.name, types_: zt, policy_: policy, first_: page, end_: page + c.pages, part_: part, parts_: parts, entries_: [], lost_: 0, cur_: -1 });
      page += c.pages;
    }
    for (let y = 0; y < s.zones_.length; y++) scan(s.zones_[y]);
    s.nextSeq_ = nextSeqAfter(seqs);
    b.types = types;
    b.set_(s);
    const log = inner.log_;
    if (log) for (let y = 0; y < s.zones_.length; y++) log("pstore: zone " + s.zones_[y].name_ + ": " + s.zones_[y].entries_.length + " parts, " + inner.emptyCount_(s.zones_[y]) + " empty pages");
  };
}
