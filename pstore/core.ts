// The store: registers backends (checking each, a failing one does not stop the others), runs the boot scan,
// keeps the boot counter, commits the retained RAM of the previous run, and offers list/read/erase/write/idle.

import type { BackendName, BoardDefinition, ZoneConfig } from "../boards/types";
import type { Hal } from "../hal/types";
import { Backend, BackendStatus, RecordMeta, backendProblem } from "./backend";
import { Codec, Flag, Reason, RecordType, parseRecordName, typeName } from "./format";
import { createFlashBackend } from "./backends/flash";
import { RamBackend } from "./backends/ram";
import { createStorageBackend } from "./backends/storage";

export interface PstoreConfig {
  board: BoardDefinition;
  /** Default: board.zones. */
  zones?: ZoneConfig[];
  /** Default: board.backend. */
  backend?: BackendName;
  /** Records with a reason above this are not stored (default Reason.User: keep everything). */
  maxReason?: Reason;
  /** Use retained RAM (the "ram" backend). Default: when the board has it, its feature is on and the hal offers it. */
  ram?: boolean;
  /** Print what the core does through hal.log. */
  debug?: boolean;
}

export interface WriteOptions {
  /** Codec the payload is already encoded with (the core never compresses). Default Codec.Raw. */
  codec?: Codec;
  flags?: number;
  /** Crash path: use prepared space only, never erase. */
  crash?: boolean;
  /** Length after decoding; default payload.length. */
  originalLength?: number;
  /** Boot counter of the run the content belongs to (the retained-RAM commit); default this boot. */
  boot?: number;
  /** Uptime in ms to record; default the clock's. */
  uptime?: number;
}

export interface StoreStatus {
  boot: number;
  /** Next sequence number of the main backend. */
  nextSeq: number;
  backends: BackendStatus[];
  /** Filled in by the event frontend; the core does not read reset registers. */
  lastResetReason: string | undefined;
}

export class Pstore {
  readonly board: BoardDefinition;
  boot = 0;
  lastResetReason: string | undefined;
  /** The retained-RAM backend when in use (frontends feed its console ring and breadcrumb). */
  ram: RamBackend | undefined;
  private backends: Backend[] = [];
  private failed: BackendStatus[] = [];
  private pendingRegs: Backend[] = [];
  private maxReason: Reason;
  private log: ((s: string) => void) | undefined;

  constructor(
    private hal: Hal,
    config: PstoreConfig,
  ) {
    const board = config.board;
    this.board = board;
    this.maxReason = config.maxReason === undefined ? Reason.User : config.maxReason;
    this.log = config.debug ? hal.log : undefined;
    const zones = config.zones || board.zones;
    const log = this.log;
    this.pendingRegs.push(
      (config.backend || board.backend) === "storage"
        ? createStorageBackend(hal, board, zones, log)
        : createFlashBackend(hal, board, zones, log),
    );
    const useRam = config.ram === undefined ? !!(board.retained && board.features.retained) : config.ram;
    if (useRam && hal.retained) {
      this.ram = new RamBackend(hal.retained, hal.crc32);
      this.pendingRegs.push(this.ram);
    }
  }

  private say(s: string): void {
    if (this.log) this.log("pstore: " + s);
  }

  /** Adds a backend before start(); throws naming what is wrong with it. */
  register(b: Backend): void {
    const problem = backendProblem(b, this.pendingRegs);
    if (problem) throw new Error("pstore: " + problem);
    this.pendingRegs.push(b);
  }

  /** Opens every backend (boot scan), sets the boot counter, commits the previous run's retained RAM. */
  start(): void {
    const regs = this.pendingRegs;
    let last = 0;
    for (let i = 0; i < regs.length; i++) {
      const b = regs[i];
      const problem = backendProblem(b, this.backends);
      try {
        if (problem) throw new Error(problem);
        b.open();
        this.backends.push(b);
        if (b.lastBoot() > last) last = b.lastBoot();
      } catch (e) {
        this.failed.push({ name: String(b && b.name), state: "failed", error: String(e) });
        this.say("backend " + (b && b.name) + " failed: " + e);
        if (b === this.ram) this.ram = undefined;
      }
    }
    this.boot = last + 1;
    for (let i = 0; i < this.backends.length; i++) if (this.backends[i] !== this.ram) this.backends[i].setBoot(this.boot);
    if (this.ram) {
      // Commit before the area is cleared, so a failed commit leaves the ring for the next boot.
      const name = this.ram.commitTo(this);
      if (name) this.say("retained RAM committed as " + name);
      this.ram.setBoot(this.boot);
    }
    this.say("boot " + this.boot);
  }

  /** The backend that stores `type`: the first working one listing it, the ram backend aside. */
  private target(type: RecordType): Backend | undefined {
    for (let i = 0; i < this.backends.length; i++) {
      const b = this.backends[i];
      if (b !== this.ram && b.types.indexOf(type) >= 0) return b;
    }
    return undefined;
  }

  /**
   * Stores a record and returns its name. Undefined when it was not stored: reason above maxReason, the zone's
   * policy dropped it (counted in status), or no working backend stores the type. Throws when the record could
   * never fit its zone.
   */
  write(type: RecordType, reason: Reason, payload: Uint8Array, opts?: WriteOptions): string | undefined {
    if (reason > this.maxReason) return undefined;
    const o = opts || {};
    const b = this.target(type);
    if (!b) {
      this.say("no backend stores " + typeName(type));
      return undefined;
    }
    const wall = this.hal.clock.wallSeconds();
    const req = {
      type: type,
      reason: reason,
      codec: o.codec || Codec.Raw,
      flags: (o.flags || 0) | (wall > 0 && o.boot === undefined ? Flag.TimeValid : 0),
      payload: payload,
      originalLength: o.originalLength === undefined ? payload.length : o.originalLength,
      boot: o.boot === undefined ? this.boot : o.boot,
      time: o.boot === undefined ? Math.floor(wall) : 0,
      uptime: o.uptime === undefined ? Math.floor(this.hal.clock.uptimeMs()) : o.uptime,
    };
    const meta = o.crash ? b.writeCrash(req) : b.write(req);
    if (meta) this.say("wrote " + meta.name + " (" + payload.length + " bytes)");
    return meta ? meta.name : undefined;
  }

  /** Every record of every working backend, by boot then sequence. */
  list(): RecordMeta[] {
    let all: RecordMeta[] = [];
    for (let i = 0; i < this.backends.length; i++) all = all.concat(this.backends[i].list());
    all.sort(function (a, b) {
      return a.boot - b.boot || (a.seq - b.seq) | 0;
    });
    return all;
  }

  private locate(name: string): { b: Backend; meta: RecordMeta } | undefined {
    const p = parseRecordName(name);
    if (!p) return undefined;
    for (let i = 0; i < this.backends.length; i++) {
      const b = this.backends[i];
      if (b.name !== p.backend) continue;
      const metas = b.list();
      for (let k = 0; k < metas.length; k++) if (metas[k].seq === p.seq && metas[k].type === p.type) return { b: b, meta: metas[k] };
    }
    return undefined;
  }

  /** A record's metadata and stored payload (parts joined, still encoded with meta.codec); undefined if unknown or damaged. */
  read(name: string): { meta: RecordMeta; payload: Uint8Array } | undefined {
    const at = this.locate(name);
    const payload = at && at.b.readPayload(at.meta);
    return at && payload ? { meta: at.meta, payload: payload } : undefined;
  }

  /** One part exactly as stored (header … commit word), for the host to check its CRCs. */
  readPart(name: string, part: number): Uint8Array | undefined {
    const at = this.locate(name);
    return at ? at.b.read(at.meta.seq, part) : undefined;
  }

  erase(name: string): boolean {
    const at = this.locate(name);
    const done = !!at && at.b.erase(at.meta.seq);
    if (done) this.say("erased " + name);
    return done;
  }

  /** One piece of deferred work (an erase or a page preparation) per backend; true while more remains. */
  idle(): boolean {
    let more = false;
    for (let i = 0; i < this.backends.length; i++) if (this.backends[i].idle()) more = true;
    return more;
  }

  status(): StoreStatus {
    const s: BackendStatus[] = [];
    let next = 0;
    for (let i = 0; i < this.backends.length; i++) {
      const st = this.backends[i].status();
      if (!next && st.nextSeq) next = st.nextSeq;
      s.push(st);
    }
    return { boot: this.boot, nextSeq: next, backends: s.concat(this.failed), lastResetReason: this.lastResetReason };
  }
}
