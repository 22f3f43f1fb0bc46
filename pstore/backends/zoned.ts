// A backend made of zones over one PageDevice: what the "flash" and "storage" backends share.

import type { Backend, BackendStatus, RecordMeta, WriteRequest, ZoneStatus } from "../backend";
import type { ZoneConfig } from "../../boards/types";
import type { PageDevice } from "../pages";
import { Crc32, RecordType, recordName, typeFromName } from "../format";
import { Entry, SeqCounter, Zone, policyFromName } from "../zone";

export class ZonedBackend implements Backend {
  readonly types: RecordType[] = [];
  zones: Zone[] = [];
  private seq: SeqCounter = { next: 1 };

  constructor(
    readonly name: string,
    private device: () => PageDevice,
    private crc: Crc32,
    private config: ZoneConfig[],
    private log: ((s: string) => void) | undefined,
  ) {
    for (let z = 0; z < config.length; z++) {
      for (let t = 0; t < config[z].types.length; t++) {
        const type = typeFromName(config[z].types[t]);
        if (this.types.indexOf(type) < 0) this.types.push(type);
      }
    }
  }

  open(): void {
    const dev = this.device();
    let page = 0;
    this.zones = [];
    for (let z = 0; z < this.config.length; z++) {
      const c = this.config[z];
      if (page + c.pages > dev.pageCount) {
        throw new Error(this.name + ": zones need " + (page + c.pages) + " pages, the medium has " + dev.pageCount);
      }
      const types: RecordType[] = [];
      for (let t = 0; t < c.types.length; t++) {
        const type = typeFromName(c.types[t]);
        if (!type) throw new Error(this.name + ": zone " + c.name + ": unknown record type " + c.types[t]);
        types.push(type);
      }
      const zone = new Zone(dev, this.crc, this.seq, { name: c.name, types: types, policy: policyFromName(c.policy), first: page, count: c.pages });
      zone.log = this.log;
      page += c.pages;
      this.zones.push(zone);
    }
    let has = false;
    let max = 0;
    for (let z = 0; z < this.zones.length; z++) {
      const zone = this.zones[z];
      zone.scan();
      if (zone.hasSeq && (!has || ((zone.maxSeq - max) | 0) > 0)) max = zone.maxSeq;
      has = has || zone.hasSeq;
    }
    this.seq.next = has ? (max + 1) >>> 0 : 1;
  }

  lastBoot(): number {
    let b = 0;
    for (let z = 0; z < this.zones.length; z++) if (this.zones[z].maxBoot > b) b = this.zones[z].maxBoot;
    return b;
  }

  setBoot(boot: number): void {
    for (let z = 0; z < this.zones.length; z++) this.zones[z].boot = boot;
  }

  private zoneFor(type: RecordType): Zone {
    for (let z = 0; z < this.zones.length; z++) if (this.zones[z].types.indexOf(type) >= 0) return this.zones[z];
    throw new Error(this.name + ": no zone stores record type " + type);
  }

  /** The zone holding complete record `seq`, and the record's index there. */
  private locate(seq: number): { zone: Zone; k: number } | undefined {
    for (let z = 0; z < this.zones.length; z++) {
      const k = this.zones[z].find(seq);
      if (k >= 0) return { zone: this.zones[z], k: k };
    }
    return undefined;
  }

  private meta(zone: Zone, k: number): RecordMeta {
    const e = zone.entries[k];
    let stored = 0;
    for (let j = k; j < k + e.parts; j++) stored += zone.entries[j].storedLength;
    return {
      name: recordName(e.type, this.name, e.seq),
      backend: this.name,
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

  list(): RecordMeta[] {
    const out: RecordMeta[] = [];
    for (let z = 0; z < this.zones.length; z++) {
      const zone = this.zones[z];
      for (let k = 0; k < zone.entries.length; k++) if (zone.complete(k)) out.push(this.meta(zone, k));
    }
    return out;
  }

  read(seq: number, part: number): Uint8Array | undefined {
    const at = this.locate(seq);
    return at ? at.zone.readPart(seq, part) : undefined;
  }

  readPayload(meta: RecordMeta): Uint8Array | undefined {
    const at = this.locate(meta.seq);
    return at ? at.zone.readPayload(meta.seq) : undefined;
  }

  private store(req: WriteRequest, crash: boolean): RecordMeta | undefined {
    const zone = this.zoneFor(req.type);
    const parts: Entry[] | undefined = zone.write(
      {
        type: req.type,
        reason: req.reason,
        codec: req.codec,
        flags: req.flags,
        part: 0,
        parts: 1,
        seq: 0,
        boot: req.boot,
        time: req.time,
        uptime: req.uptime,
        storedLength: 0,
        originalLength: req.originalLength,
      },
      req.payload,
      crash,
    );
    return parts ? this.meta(zone, zone.entries.indexOf(parts[0])) : undefined;
  }

  write(req: WriteRequest): RecordMeta | undefined {
    return this.store(req, false);
  }

  writeCrash(req: WriteRequest): RecordMeta | undefined {
    return this.store(req, true);
  }

  erase(seq: number): boolean {
    const at = this.locate(seq);
    return at ? at.zone.erase(seq) : false;
  }

  idle(): boolean {
    for (let z = 0; z < this.zones.length; z++) {
      if (this.zones[z].work(undefined)) {
        for (let y = 0; y < this.zones.length; y++) if (this.zones[y].hasWork()) return true;
        return false;
      }
    }
    return false;
  }

  status(): BackendStatus {
    const zones: ZoneStatus[] = [];
    for (let z = 0; z < this.zones.length; z++) zones.push(this.zones[z].status());
    return { name: this.name, state: "ok", nextSeq: this.seq.next, zones: zones };
  }
}
