// Zones over one PageDevice: what the "flash" and "storage" backends share. A zone is a run of pages holding
// records of some types under one policy (docs/FORMAT.md "Zones"). A packed index of intact record parts stays in
// RAM (four words of a typed array per part, no object per record); the scan reads only headers, plus each record
// once to check its CRC. Everything else about a record is read back from its header on demand.
// Written as one closure (no class): state in local variables keeps the device bundle small.

import type { ZoneConfig } from "../boards/types";
import type { Backend, WriteRequest } from "./backend";
import { addZoneReads } from "./zone-read";
import { addZoneOpen } from "./zone-open";
import { INDEX_WORDS, PAGE_SHIFT, PAGE_SPAN, complete, ixPush } from "./zone-index";
import type { PageDevice } from "./pages";
import {
  Crc32,
  ERASE_MARK_OFFSET,
  Flag,
  PAGE_HEADER_SIZE,
  RECORD_HEADER_SIZE,
  RECORD_OVERHEAD,
  RecordHeader,
  RecordType,
  encodePageHeader,
  encodeRecord,
  recordName,
  recordSize,
  seqNewer,
} from "./format";

export enum Policy {
  Ring = 0,
  KeepFirst = 1,
  Priority = 2,
}

export enum PageState {
  /** All 0xFF, no page header yet. */
  Blank = 0,
  /** Valid page header: records from offset 24 up to end[i]. */
  Ready = 1,
  /** Neither blank nor a valid page (interrupted erase or foreign data): erase at idle. */
  Damaged = 2,
  /** Given up by the ring or priority policy: its records are gone, erase at idle. */
  Due = 3,
}

export enum Mark {
  /** firstSeq of a page without records. */
  NoRecord = -1,
  /** minReason of a page holding no live record. */
  NotLive = 256,
  /** minReason of a page holding a part of the record being written: never reclaimed, never displaced. */
  Protected = -1,
}

export interface Zone {
  name_: string;
  types_: RecordType[];
  policy_: Policy;
  /** Device pages first_ .. end_ - 1. */
  first_: number;
  end_: number;
  /** Largest payload of one part, and most parts one record may have. */
  part_: number;
  parts_: number;
  /** Intact, not erased parts, sorted by sequence number: n_ of them, packed (INDEX_WORDS words each). */
  ix_: Uint32Array;
  n_: number;
  /** Drops that left no drop marker (no space even for one). */
  lost_: number;
  /** Page being filled, or -1. */
  cur_: number;
}

/** What every part of a record repeats. */
type RecordFields = Pick<RecordHeader, "type" | "reason" | "codec" | "flags" | "boot" | "time" | "uptime" | "originalLength">;

/** What the boot scan (zone-open.ts) finds and hands to the backend. */
export interface ZoneState {
  dev_: PageDevice;
  zones_: Zone[];
  /**
   * Per device page: PageState, erase count, end of the records, first sequence number (Mark.NoRecord when none:
   * a plain Array, as a Float64Array does not hold numbers exactly on the Bangle.js 2 firmware).
   */
  state_: Uint8Array;
  erases_: Uint32Array;
  end_: Uint32Array;
  firstSeq_: number[];
  nextSeq_: number;
}

/**
 * A zoned backend's state as its boot scan (zone-open.ts) and read side (zone-read.ts) see it: both are kept out of
 * the resident module, which only writes and erases pages. Taken afresh for each call (open() replaces the arrays).
 */
export interface ZoneInternals extends ZoneState {
  device_: () => PageDevice;
  config_: ZoneConfig[];
  log_: ((s: string) => void) | undefined;
  crc_: Crc32;
  isEmpty_(i: number): boolean;
  emptyCount_(z: Zone): number;
}

export interface ZonedBackend extends Backend {
  in_(): ZoneInternals;
  /** Takes over what the boot scan found. */
  set_(s: ZoneState): void;
  /** A ring zone found without its spare page and nothing to reclaim gives up its oldest page (boot scan). */
  spare_(z: Zone): void;
}

/**
 * A backend of zones (docs/FORMAT.md) over the PageDevice `device()` opens. Its boot scan (open, lastBoot) is
 * zone-open.ts, its read side (list, read, readPayload, erase, status) zone-read.ts: both present at once on the
 * host, added by the service module on the device.
 */
export function createZonedBackend(
  name: string,
  device: () => PageDevice,
  crc: Crc32,
  config: ZoneConfig[],
  log: ((s: string) => void) | undefined,
): ZonedBackend {
  let dev: PageDevice;
  let zones: Zone[] = [];
  // Per device page, from the boot scan (before it there are no zones, so nothing reads them).
  let state: Uint8Array;
  let erases: Uint32Array;
  let end: Uint32Array;
  let firstSeq: number[];
  let nextSeq = 1;
  let boot = 0;

  function say(z: Zone, s: string): void {
    if (log) log("pstore: zone " + z.name_ + ": " + s);
  }

  function size(i: number): number {
    return dev.pageSize(i);
  }

  /**
   * Per page: the lowest (most important) reason among live records, NotLive when none, Protected when it is one
   * of the pages in `protect`.
   */
  function minReasons(z: Zone, protect: number[] | undefined): Int16Array {
    const m = new Int16Array(z.end_);
    m.fill(Mark.NotLive);
    const ix = z.ix_;
    for (let k = 0; k < z.n_; ) {
      // A part 0 of 1 is complete without a call; the index read directly (page and reason words): this runs at
      // every idle pass, over every part.
      const n = ix[k * INDEX_WORDS + 3] >>> 16 === 256 ? 1 : complete(z, k);
      for (let w = k * INDEX_WORDS; w < (k + n) * INDEX_WORDS; w += INDEX_WORDS) {
        const p = ix[w + 2] >>> PAGE_SHIFT;
        const r = (ix[w + 3] >>> 8) & 255;
        if (r < m[p]) m[p] = r;
      }
      k += n || 1;
    }
    if (protect) for (let j = 0; j < protect.length; j++) m[protect[j]] = Mark.Protected;
    return m;
  }

  function isEmpty(i: number): boolean {
    return state[i] === PageState.Blank || (state[i] === PageState.Ready && end[i] === PAGE_HEADER_SIZE);
  }

  function emptyCount(z: Zone): number {
    let n = 0;
    for (let i = z.first_; i < z.end_; i++) if (isEmpty(i)) n++;
    return n;
  }

  /** The empty page with the lowest erase count (wear levelling), or -1. */
  function emptiest(z: Zone): number {
    let best = -1;
    for (let i = z.first_; i < z.end_; i++) if (isEmpty(i) && (best < 0 || erases[i] < erases[best])) best = i;
    return best;
  }

  /** Page whose erase idle should do next (needs erasing, or holds no live record), or -1. */
  function reclaimable(z: Zone, protect: number[] | undefined): number {
    // The pass over the index only once a page with records asks for it: none in a zone without records, which is
    // what most idle passes look at.
    let m: Int16Array | undefined;
    for (let i = z.first_; i < z.end_; i++) {
      const s = state[i];
      if (s === PageState.Due || s === PageState.Damaged || (s === PageState.Ready && end[i] > PAGE_HEADER_SIZE && (m || (m = minReasons(z, protect)))[i] === Mark.NotLive)) return i;
    }
    return -1;
  }

  function hasWork(z: Zone): boolean {
    if (reclaimable(z, undefined) >= 0) return true;
    for (let i = z.first_; i < z.end_; i++) if (state[i] === PageState.Blank) return true;
    return false;
  }

  function older(a: number, b: number): boolean {
    return firstSeq[a] === Mark.NoRecord || (firstSeq[b] !== Mark.NoRecord && seqNewer(firstSeq[b], firstSeq[a]));
  }

  /**
   * The page a record of `reason` may displace: ring, the oldest; priority, one whose live records all have a
   * reason >= `reason`, the least important first, then the oldest. -1 when there is none.
   */
  function victim(z: Zone, reason: number, protect: number[] | undefined): number {
    // Only the priority policy weighs reasons (a protected page's Mark.Protected is below every reason): a ring's
    // victim is its oldest page not protected, which needs no pass over the index.
    const m = z.policy_ === Policy.Priority ? minReasons(z, protect) : undefined;
    let best = -1;
    for (let i = z.first_; i < z.end_; i++) {
      if (state[i] !== PageState.Ready || end[i] === PAGE_HEADER_SIZE || (m ? m[i] < reason : protect && protect.indexOf(i) >= 0)) continue;
      if (best < 0 || (m && m[i] > m[best]) || ((!m || m[i] === m[best]) && older(i, best))) best = i;
    }
    return best;
  }

  /** Forgets the index entries of page i. */
  function drop(z: Zone, i: number): void {
    const ix = z.ix_;
    let kept = 0;
    for (let k = 0; k < z.n_; ) {
      // The parts of other pages from k on, moved down as one run: a page's parts lie together in the index.
      let r = k;
      while (r < z.n_ && ix[r * INDEX_WORDS + 2] >>> PAGE_SHIFT !== i) r++;
      if (kept !== k && r > k) ix.set(ix.subarray(k * INDEX_WORDS, r * INDEX_WORDS), kept * INDEX_WORDS);
      kept += r - k;
      k = r + 1;
    }
    z.n_ = kept;
    if (z.cur_ === i) z.cur_ = -1;
  }

  /** Gives a page up to the policy: its records disappear now, the erase waits for idle. */
  function retire(z: Zone, i: number): void {
    state[i] = PageState.Due;
    drop(z, i);
    say(z, "page " + i + " given up");
  }

  function prepare(i: number): void {
    dev.program(i, 0, encodePageHeader(crc, { eraseCount: erases[i], seqMark: nextSeq, bootMark: boot }));
    state[i] = PageState.Ready;
    end[i] = PAGE_HEADER_SIZE;
    firstSeq[i] = Mark.NoRecord;
  }

  /** One piece of deferred work: an erase (plus prepare) or a prepare. False when there was nothing to do. */
  function work(z: Zone, protect: number[] | undefined): boolean {
    const r = reclaimable(z, protect);
    if (r >= 0) {
      drop(z, r);
      // Counted before the erase: if power fails between erase and header, the count is estimated from the others.
      erases[r]++;
      state[r] = PageState.Damaged;
      dev.erase(r);
      say(z, "page " + r + " erased, count " + erases[r]);
      prepare(r);
      return true;
    }
    for (let i = z.first_; i < z.end_; i++) {
      if (state[i] === PageState.Blank) {
        prepare(i);
        return true;
      }
    }
    return false;
  }

  function take(z: Zone, i: number): number {
    if (state[i] === PageState.Blank) prepare(i);
    z.cur_ = i;
    return i;
  }

  /** Gives up the page the policy lets a record of `reason` displace; false when there is none. */
  function displace(z: Zone, reason: number, protect: number[]): boolean {
    const v = victim(z, reason, protect);
    if (v >= 0) retire(z, v);
    return v >= 0;
  }

  /**
   * A page to continue in. Ring and priority zones keep their last empty page as the crash path's spare: taking
   * it needs another page to become empty at idle (one already pending, or a victim the policy may displace).
   */
  function acquire(z: Zone, crash: boolean, reason: number, protect: number[]): number {
    const keepFirst = z.policy_ === Policy.KeepFirst;
    for (;;) {
      const e = emptiest(z);
      if (e >= 0) return keepFirst || emptyCount(z) > 1 || reclaimable(z, protect) >= 0 || displace(z, reason, protect) ? take(z, e) : -1;
      if (crash || (!work(z, protect) && (keepFirst || !displace(z, reason, protect)))) return -1;
    }
  }

  function fits(i: number, bytes: number): boolean {
    return end[i] + bytes <= size(i);
  }

  /** A part's header: the record's fields, this part's place and length. */
  function partHeader(h: RecordFields, part: number, parts: number, n: number, flags: number): RecordHeader {
    return {
      type: h.type,
      reason: h.reason,
      codec: h.codec,
      flags: flags,
      part: part,
      parts: parts,
      seq: 0,
      boot: h.boot,
      time: h.time,
      uptime: h.uptime,
      storedLength: n,
      originalLength: h.originalLength,
    };
  }

  /** Writes a part into page i; returns its sequence number. */
  function append(z: Zone, i: number, e: RecordHeader, payload: Uint8Array): number {
    e.seq = nextSeq;
    nextSeq = (nextSeq + 1) >>> 0;
    const img = encodeRecord(crc, e, payload);
    const off = end[i];
    const n = img.length;
    // Header first, payload next, commit word last and alone; the erase mark (44..47) stays unprogrammed.
    end[i] = off + n;
    if (firstSeq[i] === Mark.NoRecord) firstSeq[i] = e.seq;
    dev.program(i, off, img.subarray(0, ERASE_MARK_OFFSET));
    if (n > RECORD_OVERHEAD) dev.program(i, off + RECORD_HEADER_SIZE, img.subarray(RECORD_HEADER_SIZE, n - 4));
    dev.program(i, off + n - 4, img.subarray(n - 4));
    ixPush(z, e.seq, e.boot, i * PAGE_SPAN + off, e.type | (e.reason << 8) | (e.part << 16) | (e.parts << 24));
    return e.seq;
  }

  /** Pages a record of `n` payload bytes in `parts` parts needs beyond the current page's free space. */
  function pagesNeeded(z: Zone, n: number, parts: number): number {
    let free = z.cur_ >= 0 ? size(z.cur_) - end[z.cur_] : 0;
    let need = 0;
    for (let k = 0; k < parts; k++) {
      const len = recordSize(Math.min(z.part_, n - k * z.part_));
      if (len > free) {
        need++;
        const e = emptiest(z);
        free = size(e < 0 ? z.first_ : e) - PAGE_HEADER_SIZE;
      }
      free -= len;
    }
    return need;
  }

  /** Counts a record the policy did not keep: a drop marker when space for one is left, else a lost drop. */
  function dropped(z: Zone, h: RecordFields, n: number): undefined {
    say(z, n + " bytes dropped, zone full");
    let i = z.cur_;
    // Only keep-first may spend an empty page on a marker: in the other policies the last one is the crash spare.
    if (i < 0 || !fits(i, RECORD_OVERHEAD)) i = z.policy_ === Policy.KeepFirst ? emptiest(z) : -1;
    if (i < 0) z.lost_++;
    else append(z, take(z, i), partHeader(h, 0, 1, 0, (h.flags | Flag.Drop) & ~Flag.Truncated), new Uint8Array(0));
    return undefined;
  }

  /**
   * Stores a record (split into parts when needed); returns its sequence number, or undefined when the policy
   * dropped it. `crash`: use only prepared space, never erase. Throws when the record could never fit the zone.
   */
  function write(z: Zone, req: WriteRequest, crash: boolean): number | undefined {
    const payload = req.payload;
    const n = payload.length;
    const max = z.part_;
    const parts = n ? Math.ceil(n / max) : 1;
    const keepFirst = z.policy_ === Policy.KeepFirst;
    if (parts > z.parts_) throw new Error("zone " + z.name_ + ": " + n + " bytes is larger than the zone holds (" + z.parts_ * max + ")");
    // Keep-first (and crash writes anywhere) must not start a multi-part record that cannot be finished.
    // A record that fits the current page needs no count of the empty ones (on the interpreter, a loop over pages).
    const need = crash || keepFirst ? pagesNeeded(z, n, parts) : 0;
    if (need && need > emptyCount(z) && (crash || reclaimable(z, undefined) < 0)) return dropped(z, req, n);
    // The pages holding the parts written so far: protected from the policy until the record is whole.
    const done: number[] = [];
    let seq = 0;
    for (let k = 0; k < parts; k++) {
      const chunk = payload.subarray(k * max, Math.min(n, (k + 1) * max));
      const len = recordSize(chunk.length);
      let i = z.cur_;
      // The last part of a keep-first or priority record leaves room for a drop marker when no page is left.
      if (i < 0 || !fits(i, len) || (z.policy_ !== Policy.Ring && k === parts - 1 && !fits(i, len + RECORD_OVERHEAD) && !emptyCount(z))) {
        i = acquire(z, crash, req.reason, done);
        if (i < 0) return dropped(z, req, n);
      }
      const q = append(z, i, partHeader(req, k, parts, chunk.length, req.flags), chunk);
      if (!k) seq = q;
      done.push(i);
    }
    return seq;
  }

  function store(req: WriteRequest, crash: boolean): string | undefined {
    for (let y = 0; y < zones.length; y++) {
      if (zones[y].types_.indexOf(req.type) >= 0) {
        const seq = write(zones[y], req, crash);
        return seq === undefined ? undefined : recordName(req.type, name, seq);
      }
    }
    throw new Error(name + ": no zone stores record type " + req.type);
  }

  const b = {
    name: name,
    types: [] as RecordType[],
    setBoot: function (b) {
      boot = b;
    },
    write: function (req) {
      return store(req, false);
    },
    writeCrash: function (req) {
      return store(req, true);
    },
    idle: function () {
      for (let y = 0; y < zones.length; y++) {
        if (work(zones[y], undefined)) {
          for (let x = 0; x < zones.length; x++) if (hasWork(zones[x])) return true;
          return false;
        }
      }
      return false;
    },
    in_: function () {
      return {
        dev_: dev,
        zones_: zones,
        state_: state,
        erases_: erases,
        end_: end,
        firstSeq_: firstSeq,
        nextSeq_: nextSeq,
        device_: device,
        config_: config,
        log_: log,
        crc_: crc,
        isEmpty_: isEmpty,
        emptyCount_: emptyCount,
      };
    },
    set_: function (s) {
      dev = s.dev_;
      zones = s.zones_;
      state = s.state_;
      erases = s.erases_;
      end = s.end_;
      firstSeq = s.firstSeq_;
      nextSeq = s.nextSeq_;
    },
    spare_: function (z) {
      if (!emptyCount(z) && !hasWork(z)) {
        const v = victim(z, 0, undefined);
        if (v >= 0) retire(z, v);
      }
    },
  } as ZonedBackend;
  // The host has the whole backend at once; on the device the service module adds the boot scan at start and the
  // read side on first use.
  if (typeof PSTORE_BOARD === "undefined") {
    addZoneOpen(b);
    addZoneReads(b);
  }
  return b;
}
