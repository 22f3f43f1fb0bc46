// The store: registers backends (a failing one does not stop the others), runs the boot scan, keeps the boot
// counter, commits the retained RAM of the previous run, and offers list/read/erase/write/idle.

import type { ResidentBoard } from "../boards/device";
import type { BackendName, ZoneConfig } from "../boards/types";
import type { Hal } from "../hal/types";
import { Backend, BackendStatus, RecordMeta, backendProblem } from "./backend";
import { Codec, Flag, Reason, RecordType, typeName } from "./format";
import { addStoreReads } from "./core-read";
import { startStore } from "./core-start";
import { createFlashBackend } from "./backends/flash";
import { RamBackend } from "./backends/ram";
import { createStorageBackend } from "./backends/storage";

export interface PstoreConfig {
  board: ResidentBoard;
  /** Default: board.zones. */
  zones?: ZoneConfig[];
  /** Default: board.backend. A device bundle carries only the backend it was built for (PSTORE_BACKEND). */
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

/**
 * start() (core-start.ts) and the read side (core-read.ts): on the host part of every Pstore, on the device in the
 * service module, which start() loads for the boot scan and the host or the application for the reads.
 */
export interface Pstore {
  /** Opens every backend (boot scan), sets the boot counter, commits the previous run's retained RAM. */
  start(): void;
  /** Adds a backend before start(); throws naming what is wrong with it. Host only: a device has its backend built in. */
  register(b: Backend): void;
  /** Every record of every working backend, by boot then sequence. */
  list(): RecordMeta[];
  /** A record's metadata and stored payload (parts joined, still encoded with meta.codec); undefined if unknown or damaged. */
  read(name: string): { meta: RecordMeta; payload: Uint8Array } | undefined;
  /** One part exactly as stored (header … commit word), for the host to check its CRCs. */
  readPart(name: string, part: number): Uint8Array | undefined;
  erase(name: string): boolean;
  status(): StoreStatus;
}

export class Pstore {
  readonly board: ResidentBoard;
  boot = 0;
  lastResetReason: string | undefined;
  /** The console record start() made of the previous run's retained RAM, if any. */
  committed: string | undefined;
  /** The retained-RAM backend when in use (frontends feed its console ring and breadcrumb). */
  ram: RamBackend | undefined;
  /** The working backends and the failed ones (read by core-read.ts too). */
  backends_: Backend[] = [];
  failed_: BackendStatus[] = [];
  /** Registered, not yet opened (start() opens them). */
  pending_: Backend[] = [];
  private maxReason_: Reason;
  private log_: ((s: string) => void) | undefined;

  constructor(
    private hal_: Hal,
    config: PstoreConfig,
  ) {
    const board = (this.board = config.board);
    // A device's Runtime always passes the settings' zones; the resident module's board has none of its own.
    const zones = (config.zones || board.zones)!;
    const log = (this.log_ = config.debug ? hal_.log : undefined);
    this.maxReason_ = config.maxReason === undefined ? Reason.User : config.maxReason;
    // A device bundle carries one backend (PSTORE_BACKEND); host code has both.
    this.pending_.push(
      (typeof PSTORE_BACKEND === "undefined" ? (config.backend || board.backend) === "storage" : PSTORE_BACKEND === "storage")
        ? createStorageBackend(hal_, board, zones, log)
        : createFlashBackend(hal_, board, zones, log),
    );
    if (
      (typeof PSTORE_RETAINED === "undefined" || PSTORE_RETAINED) &&
      hal_.retained &&
      // A device board carries `retained` only with its feature on, and no `features` in the resident module.
      (config.ram === undefined ? board.retained && (!board.features || board.features.retained) : config.ram)
    ) {
      this.ram = new RamBackend(hal_.retained, hal_.crc32);
      this.pending_.push(this.ram);
    }
  }

  say_(s: string): void {
    if (this.log_) this.log_("pstore: " + s);
  }

  /**
   * Stores a record and returns its name. Undefined when it was not stored: reason above maxReason, the zone's
   * policy dropped it (counted in status), or no working backend stores the type. Throws when the record could
   * never fit its zone.
   */
  write(type: RecordType, reason: Reason, payload: Uint8Array, opts?: WriteOptions): string | undefined {
    if (reason > this.maxReason_) return undefined;
    const o = opts || {};
    // The backend that stores `type`: the first working one listing it, the ram backend aside.
    let b: Backend | undefined;
    for (let i = 0; i < this.backends_.length && !b; i++) {
      if (this.backends_[i] !== this.ram && this.backends_[i].types.indexOf(type) >= 0) b = this.backends_[i];
    }
    if (!b) {
      this.say_("no backend stores " + typeName(type));
      return undefined;
    }
    const clock = this.hal_.clock;
    const wall = clock.wallSeconds();
    const now = o.boot === undefined;
    const req = {
      type: type,
      reason: reason,
      codec: o.codec || Codec.Raw,
      flags: (o.flags || 0) | (wall > 0 && now ? Flag.TimeValid : 0),
      payload: payload,
      originalLength: o.originalLength === undefined ? payload.length : o.originalLength,
      boot: now ? this.boot : o.boot!,
      time: now ? Math.floor(wall) : 0,
      uptime: o.uptime === undefined ? Math.floor(clock.uptimeMs()) : o.uptime,
    };
    const name = o.crash ? b.writeCrash(req) : b.write(req);
    // The reason by number: its name table is not worth its bytes in the resident module (see Reason in format.ts).
    if (name) this.say_("wrote " + name + " (reason " + reason + ", " + req.originalLength + " bytes, " + payload.length + " stored)");
    return name;
  }

  /** One piece of deferred work (an erase or a page preparation) per backend; true while more remains. */
  idle(): boolean {
    let more = false;
    for (let i = 0; i < this.backends_.length; i++) if (this.backends_[i].idle()) more = true;
    return more;
  }
}

if (typeof PSTORE_BOARD === "undefined") {
  Pstore.prototype.start = function (this: Pstore) {
    startStore(this);
  };
  Pstore.prototype.register = function (this: Pstore, b: Backend) {
    const problem = backendProblem(b, this.pending_);
    if (problem) throw new Error("pstore: " + problem);
    this.pending_.push(b);
  };
  addStoreReads(Pstore.prototype);
}
