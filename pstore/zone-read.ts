// The read side of a zoned backend (zone.ts): listing, reading, erasing by name and status. Nothing on the crash
// path or in the boot scan needs it, so on the device it lives in the service module (firmware/svc.ts), which
// makes it for each call and drops it after; on the host createZonedBackend adds it to the backend at once.
// The index holds where each part is; everything else comes from the part's header on the medium.

import type { Backend, BackendStatus, RecordMeta, ZoneStatus } from "./backend";
import { DecodedRecordHeader, ERASE_MARK_OFFSET, Flag, PAGE_HEADER_SIZE, RECORD_HEADER_SIZE, RECORD_OVERHEAD, decodeRecordHeader, recordIntact, recordName, recordSize } from "./format";
import { POLICY_NAMES } from "../boards/zone-check";
import { PageState, Zone, ZoneInternals, ZonedBackend } from "./zone";
import { complete, ixOff, ixPage, ixRemove, ixSeq } from "./zone-index";

/** What a backend's read side offers. */
export type BackendReads = Pick<Backend, "list" | "read" | "readPayload" | "erase" | "status">;

/** The header of indexed part k of z, as on the medium (the boot scan checked it). */
function header(s: ZoneInternals, z: Zone, k: number): DecodedRecordHeader {
  return decodeRecordHeader(s.dev_.read(ixPage(z, k), ixOff(z, k), RECORD_HEADER_SIZE), s.crc_)!;
}

/** The metadata of the record whose first part is part k of z, stored by backend `name`. */
function recordMeta(s: ZoneInternals, z: Zone, k: number, name: string): RecordMeta {
  const e = header(s, z, k);
  let stored = e.storedLength;
  for (let j = k + 1; j < k + e.parts; j++) stored += header(s, z, j).storedLength;
  return {
    name: recordName(e.type, name, e.seq),
    backend: name,
    type: e.type,
    reason: e.reason,
    codec: e.codec,
    flags: e.flags,
    seq: e.seq,
    boot: e.boot,
    time: e.time,
    uptime: e.uptime,
    storedLength: stored,
    originalLength: e.originalLength,
    parts: e.parts,
  };
}

/** The zone holding complete record `seq`, its first part's place in the index and its part count, or undefined. */
function locate(s: ZoneInternals, seq: number): { z: Zone; k: number; parts: number } | undefined {
  for (let y = 0; y < s.zones_.length; y++) {
    const z = s.zones_[y];
    let k = 0;
    while (k < z.n_ && ixSeq(z, k) !== seq) k++;
    const parts = k < z.n_ ? complete(z, k) : 0;
    if (parts) return { z: z, k: k, parts: parts };
  }
  return undefined;
}

/** Part k of z as stored (header … commit word). */
function readPart(s: ZoneInternals, z: Zone, k: number): Uint8Array {
  return s.dev_.read(ixPage(z, k), ixOff(z, k), recordSize(header(s, z, k).storedLength));
}

function markErased(s: ZoneInternals, page: number, off: number): void {
  s.dev_.program(page, off + ERASE_MARK_OFFSET, new Uint8Array(4));
}

/**
 * Marks erased every intact, unerased part on the backend's pages whose sequence number lies in seq .. seq +
 * parts - 1: the copies of a record's parts (copied data repeats sequence numbers). Reads only headers, jumping by
 * each record's length.
 */
function eraseParts(s: ZoneInternals, seq: number, parts: number): void {
  const dev = s.dev_;
  for (let y = 0; y < s.zones_.length; y++) {
    const z = s.zones_[y];
    for (let i = z.first_; i < z.end_; i++) {
      if (s.state_[i] !== PageState.Ready) continue;
      for (let off = PAGE_HEADER_SIZE; off + RECORD_OVERHEAD <= s.end_[i]; ) {
        const h = decodeRecordHeader(dev.read(i, off, RECORD_HEADER_SIZE), s.crc_);
        if (!h) {
          off += RECORD_HEADER_SIZE;
          continue;
        }
        // A forged length beyond the page ends the page, as in the boot scan.
        if (h.storedLength > s.end_[i]) break;
        const len = recordSize(h.storedLength);
        if (off + len > s.end_[i]) break;
        if (!h.erased && ((h.seq - seq) >>> 0) < parts && recordIntact(s.crc_, dev.read(i, off, len), h)) markErased(s, i, off);
        off += len;
      }
    }
  }
}

function zoneStatus(s: ZoneInternals, z: Zone): ZoneStatus {
  const state = s.state_;
  const end = s.end_;
  const erases = s.erases_;
  const size = function (i: number) {
    return s.dev_.pageSize(i);
  };
  let used = 0;
  let free = 0;
  let crashFree = 0;
  let emin = -1;
  let emax = 0;
  let records = 0;
  let drops = z.lost_;
  let due = 0;
  for (let i = z.first_; i < z.end_; i++) {
    const ps = state[i];
    const n = size(i);
    if (ps === PageState.Ready) {
      used += end[i] - PAGE_HEADER_SIZE;
      free += n - end[i];
    } else if (ps === PageState.Blank) free += n - PAGE_HEADER_SIZE;
    else due++;
    if (emin < 0 || erases[i] < emin) emin = erases[i];
    if (erases[i] > emax) emax = erases[i];
    if (s.isEmpty_(i) && n - PAGE_HEADER_SIZE > crashFree) crashFree = n - PAGE_HEADER_SIZE;
  }
  if (z.cur_ >= 0 && size(z.cur_) - end[z.cur_] > crashFree) crashFree = size(z.cur_) - end[z.cur_];
  for (let k = 0; k < z.n_; k++) {
    if (complete(z, k)) {
      records++;
      if (header(s, z, k).flags & Flag.Drop) drops++;
    }
  }
  return {
    name: z.name_,
    types: z.types_,
    policy: POLICY_NAMES[z.policy_],
    pages: z.end_ - z.first_,
    bytesUsed: used,
    bytesFree: free,
    sparePages: s.emptyCount_(z),
    crashFree: Math.max(0, crashFree - RECORD_OVERHEAD) & ~3,
    eraseMin: emin,
    eraseMax: emax,
    records: records,
    drops: drops,
    pendingErases: due,
  };
}

/** A zoned backend's list, read, readPayload, erase and status. */
export function zoneReads(b: ZonedBackend): BackendReads {
  return {
    list: function () {
      const s = b.in_();
      const out: RecordMeta[] = [];
      for (let y = 0; y < s.zones_.length; y++) {
        const z = s.zones_[y];
        for (let k = 0; k < z.n_; k++) if (complete(z, k)) out.push(recordMeta(s, z, k, b.name));
      }
      return out;
    },
    read: function (seq, part) {
      const s = b.in_();
      const at = locate(s, seq);
      return at && part >= 0 && part < at.parts ? readPart(s, at.z, at.k + part) : undefined;
    },
    /** The payload, parts joined and each part's CRC checked again; undefined if gone or damaged. */
    readPayload: function (m) {
      const s = b.in_();
      const at = locate(s, m.seq);
      if (!at) return undefined;
      const imgs: Uint8Array[] = [];
      let total = 0;
      for (let j = 0; j < at.parts; j++) {
        const img = readPart(s, at.z, at.k + j);
        const h = decodeRecordHeader(img, s.crc_);
        if (!h || h.seq !== ixSeq(at.z, at.k + j) || !recordIntact(s.crc_, img, h)) return undefined;
        imgs.push(img.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + h.storedLength));
        total += h.storedLength;
      }
      const out = new Uint8Array(total);
      total = 0;
      for (let j = 0; j < imgs.length; j++) {
        out.set(imgs[j], total);
        total += imgs[j].length;
      }
      return out;
    },
    /** Programs the erase mark of every part and of every copy still in place; false when there is no such complete record. */
    erase: function (seq) {
      const s = b.in_();
      const at = locate(s, seq);
      if (!at) return false;
      for (let j = 0; j < at.parts; j++) markErased(s, ixPage(at.z, at.k + j), ixOff(at.z, at.k + j));
      ixRemove(at.z, at.k, at.parts);
      eraseParts(s, seq, at.parts);
      return true;
    },
    status: function (): BackendStatus {
      const s = b.in_();
      const list: ZoneStatus[] = [];
      for (let y = 0; y < s.zones_.length; y++) list.push(zoneStatus(s, s.zones_[y]));
      return { name: b.name, state: "ok", nextSeq: s.nextSeq_, zones: list };
    },
  };
}

/** Gives a zoned backend (on the host) its read side for good. */
export function addZoneReads(b: ZonedBackend): void {
  const r = zoneReads(b);
  b.list = r.list;
  b.read = r.read;
  b.readPayload = r.readPayload;
  b.erase = r.erase;
  b.status = r.status;
}
