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
import { Entry, Mark, PageState, Policy, Zone, ZoneState, ZonedBackend } from "./zone";

/** Bytes read at a time when checking that a page is blank (never a whole page in RAM). */
const BLANK_CHUNK = 256;

function bySeq(a: Entry, b: Entry): number {
  return (a.seq - b.seq) | 0;
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
    let maxSeq = 0;
    let hasSeq = false;
    maxBoot = 0;

    const size = function (i: number): number {
      return dev.pageSize(i);
    };
    const noteSeq = function (q: number): void {
      if (!hasSeq || seqNewer(q, maxSeq)) maxSeq = q;
      hasSeq = true;
    };
    const noteBoot = function (n: number): void {
      if (n > maxBoot) maxBoot = n;
    };
    const blank = function (i: number): boolean {
      const n = size(i);
      for (let off = 0; off < n; off += BLANK_CHUNK) if (!isErased(dev.read(i, off, Math.min(BLANK_CHUNK, n - off)))) return false;
      return true;
    };

    const scanPage = function (z: Zone, i: number): void {
      const n = size(i);
      firstSeq[i] = Mark.NoRecord;
      end[i] = n;
      erases[i] = 0;
      const ph = decodePageHeader(dev.read(i, 0, PAGE_HEADER_SIZE), crc);
      if (!ph) {
        state[i] = blank(i) ? PageState.Blank : PageState.Damaged;
        return;
      }
      state[i] = PageState.Ready;
      erases[i] = ph.eraseCount;
      noteSeq((ph.seqMark - 1) >>> 0);
      noteBoot(ph.bootMark);
      let off = PAGE_HEADER_SIZE;
      while (off + RECORD_OVERHEAD <= n) {
        const hb = dev.read(i, off, RECORD_HEADER_SIZE);
        if (isErased(hb)) break;
        const h = decodeRecordHeader(hb, crc);
        const len = h ? recordSize(h.storedLength) : 0;
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
          z.entries_.push(e);
        }
        off += len;
      }
      end[i] = off;
    };

    const scan = function (z: Zone): void {
      let known = 0;
      for (let i = z.first_; i < z.end_; i++) {
        scanPage(z, i);
        if (state[i] === PageState.Ready && erases[i] > known) known = erases[i];
      }
      // A page without a valid header lost its erase count: assume the highest one known, so wear is not understated.
      for (let i = z.first_; i < z.end_; i++) {
        if (state[i] !== PageState.Ready) erases[i] = known;
        if (firstSeq[i] !== Mark.NoRecord && (z.cur_ < 0 || seqNewer(firstSeq[i], firstSeq[z.cur_]))) z.cur_ = i;
      }
      z.entries_.sort(bySeq);
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
    s.nextSeq_ = hasSeq ? (maxSeq + 1) >>> 0 : 1;
    b.types = types;
    b.set_(s);
    const log = inner.log_;
    if (log) for (let y = 0; y < s.zones_.length; y++) log("pstore: zone " + s.zones_[y].name_ + ": " + s.zones_[y].entries_.length + " parts, " + inner.emptyCount_(s.zones_[y]) + " empty pages");
  };
}
