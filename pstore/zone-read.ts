// The read side of a zoned backend (zone.ts): listing, reading, erasing by name and status. Nothing on the crash
// path or in the boot scan needs it, so on the device it lives in the service module (firmware/svc.ts), which adds
// it to the running backends on first use; on the host createZonedBackend adds it at once.

import type { BackendStatus, RecordMeta, ZoneStatus } from "./backend";
import { ERASE_MARK_OFFSET, Flag, PAGE_HEADER_SIZE, RECORD_HEADER_SIZE, RECORD_OVERHEAD, decodeRecordHeader, recordIntact, recordName, recordSize } from "./format";
import { POLICY_NAMES } from "../boards/zone-check";
import { Entry, PageState, Zone, ZoneInternals, ZonedBackend, complete } from "./zone";

/** The metadata of the record whose first part is entries_[k] of z, stored by backend `name`. */
function recordMeta(z: Zone, k: number, name: string): RecordMeta {
  const e = z.entries_[k];
  let stored = 0;
  for (let j = k; j < k + e.parts; j++) stored += z.entries_[j].storedLength;
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

/** The zone holding complete record `seq` and its parts, or undefined. */
function locate(s: ZoneInternals, seq: number): { z: Zone; parts: Entry[] } | undefined {
  for (let y = 0; y < s.zones_.length; y++) {
    const z = s.zones_[y];
    let k = 0;
    while (k < z.entries_.length && z.entries_[k].seq !== seq) k++;
    if (k < z.entries_.length && complete(z, k)) return { z: z, parts: [].slice.call(z.entries_, k, k + z.entries_[k].parts) };
  }
  return undefined;
}

function readPart(s: ZoneInternals, e: Entry): Uint8Array {
  return s.dev_.read(e.page_, e.off_, recordSize(e.storedLength));
}

function markErased(s: ZoneInternals, e: Entry): void {
  s.dev_.program(e.page_, e.off_ + ERASE_MARK_OFFSET, new Uint8Array(4));
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
  for (let k = 0; k < z.entries_.length; k++) {
    if (complete(z, k)) {
      records++;
      if (z.entries_[k].flags & Flag.Drop) drops++;
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

/** Gives a zoned backend its list, read, readPayload, erase and status. */
export function addZoneReads(b: ZonedBackend): void {
  b.list = function () {
    const zones = b.in_().zones_;
    const out: RecordMeta[] = [];
    for (let y = 0; y < zones.length; y++) for (let k = 0; k < zones[y].entries_.length; k++) if (complete(zones[y], k)) out.push(recordMeta(zones[y], k, b.name));
    return out;
  };
  b.read = function (seq, part) {
    const s = b.in_();
    const at = locate(s, seq);
    return at && at.parts[part] ? readPart(s, at.parts[part]) : undefined;
  };
  /** The payload, parts joined and each part's CRC checked again; undefined if gone or damaged. */
  b.readPayload = function (m) {
    const s = b.in_();
    const at = locate(s, m.seq);
    if (!at) return undefined;
    let total = 0;
    for (let j = 0; j < at.parts.length; j++) total += at.parts[j].storedLength;
    const out = new Uint8Array(total);
    total = 0;
    for (let j = 0; j < at.parts.length; j++) {
      const e = at.parts[j];
      const img = readPart(s, e);
      const h = decodeRecordHeader(img, s.crc_);
      if (!h || h.seq !== e.seq || !recordIntact(s.crc_, img, h)) return undefined;
      out.set(img.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + e.storedLength), total);
      total += e.storedLength;
    }
    return out;
  };
  /** Programs the erase mark of every part and of every copy still in place; false when there is no such complete record. */
  b.erase = function (seq) {
    const s = b.in_();
    const at = locate(s, seq);
    if (!at) return false;
    const list = at.z.entries_;
    list.splice(list.indexOf(at.parts[0]), at.parts.length);
    for (let j = 0; j < at.parts.length; j++) {
      const e = at.parts[j];
      markErased(s, e);
      const copies = e.copies_ || [];
      for (let c = 0; c < copies.length; c++) {
        // The copy's page may have been erased and reused since the scan: mark only the same unerased header.
        const h = decodeRecordHeader(s.dev_.read(copies[c].page_, copies[c].off_, RECORD_HEADER_SIZE), s.crc_);
        if (h && h.seq === e.seq && !h.erased) markErased(s, copies[c]);
      }
    }
    return true;
  };
  b.status = function (): BackendStatus {
    const s = b.in_();
    const list: ZoneStatus[] = [];
    for (let y = 0; y < s.zones_.length; y++) list.push(zoneStatus(s, s.zones_[y]));
    return { name: b.name, state: "ok", nextSeq: s.nextSeq_, zones: list };
  };
}
