// The "ram" backend: a console ring and a crash breadcrumb in retained RAM (docs/FORMAT.md "Retained RAM area").
// It keeps what no JavaScript could save in time (watchdog, hard fault); the next boot commits it to flash.

import type { Backend, BackendStatus, RecordMeta } from "../backend";
import type { RetainedHal } from "../../hal/types";
import { Crc32, RETAINED_MAGIC, Reason, RecordType, getU32, putU32 } from "../format";

export const RETAINED_HEADER_SIZE = 24;

/** What the previous run left in the area, when it was valid. */
export interface Breadcrumb {
  crashCount: number;
  reason: Reason;
  flags: number;
  boot: number;
  /** Console bytes ever written by that run (mod 2^32). */
  position: number;
}

/** The part of the store the boot commit needs (Pstore.write). */
export interface CommitSink {
  write(type: RecordType, reason: Reason, payload: Uint8Array, opts: { boot: number; uptime: number }): string | undefined;
}

export class RamBackend implements Backend {
  readonly name = "ram";
  readonly types: RecordType[] = [RecordType.Console];
  /** The previous run's breadcrumb, set by open() when the area held a valid one. */
  previous: Breadcrumb | undefined;
  private hdr_ = new Uint8Array(RETAINED_HEADER_SIZE);
  private ring_ = 0;
  private pending_: Uint8Array | undefined;

  constructor(
    private mem_: RetainedHal,
    private crc_: Crc32,
  ) {}

  open(): void {
    this.ring_ = this.mem_.size - RETAINED_HEADER_SIZE;
    if (this.ring_ < 16) throw new Error("ram: retained area of " + this.mem_.size + " bytes is too small");
    const h = this.mem_.read(0, RETAINED_HEADER_SIZE);
    this.previous = undefined;
    this.pending_ = undefined;
    if (getU32(h, 0) === RETAINED_MAGIC && getU32(h, 4) === this.crc_(h.subarray(8, RETAINED_HEADER_SIZE)) >>> 0) {
      this.previous = { crashCount: getU32(h, 8), reason: h[12], flags: h[13], boot: getU32(h, 16), position: getU32(h, 20) };
      const n = Math.min(this.previous.position, this.ring_);
      const start = this.previous.position > this.ring_ ? this.previous.position % this.ring_ : 0;
      // Oldest byte first: from the write position to the end, then from the start.
      const out = new Uint8Array(n);
      out.set(this.mem_.read(RETAINED_HEADER_SIZE + start, n - start));
      if (start) out.set(this.mem_.read(RETAINED_HEADER_SIZE, start), n - start);
      this.pending_ = out;
      this.hdr_.set(h);
    } else {
      this.hdr_.fill(0);
    }
  }

  lastBoot(): number {
    return this.previous ? this.previous.boot : 0;
  }

  /** Starts this run's area: the crash count carries over, the ring and the reason start empty. */
  setBoot(boot: number): void {
    const h = this.hdr_;
    putU32(h, 0, RETAINED_MAGIC);
    h[12] = Reason.None;
    h[13] = 0;
    h[14] = 0;
    h[15] = 0;
    putU32(h, 16, boot);
    putU32(h, 20, 0);
    this.save_();
  }

  private save_(): void {
    putU32(this.hdr_, 4, this.crc_(this.hdr_.subarray(8, RETAINED_HEADER_SIZE)) >>> 0);
    this.mem_.write(0, this.hdr_);
  }

  /**
   * Writes what the previous run left (ring content and reason) as one console record through `sink`, tagged with
   * that run's boot counter. Call before setBoot(), which clears the area. Returns the record's name, or undefined when there was nothing.
   */
  commitTo(sink: CommitSink): string | undefined {
    const p = this.previous;
    const data = this.pending_;
    this.pending_ = undefined;
    // An empty ring says nothing the boot event does not: the breadcrumb's reason reaches it through `previous`.
    if (!p || !data || !data.length) return undefined;
    return sink.write(RecordType.Console, p.reason || Reason.Reset, data, { boot: p.boot, uptime: 0 });
  }

  /** Appends console output to the ring (strings are taken as bytes, char code & 255). */
  appendConsole(data: Uint8Array | string): void {
    let b: Uint8Array;
    if (typeof data === "string") {
      b = new Uint8Array(data.length);
      for (let i = 0; i < data.length; i++) b[i] = data.charCodeAt(i);
    } else b = data;
    if (b.length > this.ring_) b = b.subarray(b.length - this.ring_);
    const pos = getU32(this.hdr_, 20);
    const at = pos % this.ring_;
    const first = Math.min(b.length, this.ring_ - at);
    this.mem_.write(RETAINED_HEADER_SIZE + at, b.subarray(0, first));
    if (first < b.length) this.mem_.write(RETAINED_HEADER_SIZE, b.subarray(first));
    putU32(this.hdr_, 20, (pos + b.length) >>> 0);
    this.save_();
  }

  /** Records why the run is ending (crash hooks call it before the reset they cannot prevent). */
  setBreadcrumb(reason: Reason): void {
    this.hdr_[12] = reason;
    this.save_();
  }

  crashCount(): number {
    return getU32(this.hdr_, 8);
  }

  setCrashCount(n: number): void {
    putU32(this.hdr_, 8, n >>> 0);
    this.save_();
  }

  list(): RecordMeta[] {
    return [];
  }

  read(): Uint8Array | undefined {
    return undefined;
  }

  readPayload(): Uint8Array | undefined {
    return undefined;
  }

  /** The ring is not a record store: a console write only feeds the ring. */
  write(req: { payload: Uint8Array }): string | undefined {
    this.appendConsole(req.payload);
    return undefined;
  }

  writeCrash(req: { payload: Uint8Array }): string | undefined {
    return this.write(req);
  }

  erase(): boolean {
    return false;
  }

  idle(): boolean {
    return false;
  }

  status(): BackendStatus {
    return {
      name: this.name,
      state: "ok",
      crashCount: this.crashCount(),
      consoleBytes: Math.min(getU32(this.hdr_, 20), this.ring_),
    };
  }
}
