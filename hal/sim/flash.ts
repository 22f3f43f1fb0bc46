// NOR flash on the host, as strict as the chips are: erase per unit, program only clears bits, the board's
// re-programming rule enforced as an error (and recorded), operations counted and costed, power cuts injected.

import type { BoardDefinition, FlashSpan } from "../../boards/types";
import type { FlashHal } from "../types";
import { decodeImage, encodeImage, loadImageFile, saveImageFile, type FlashImage, type ImageKind } from "./image";
import { describeLayout } from "./image-layout";
import { randomBelow, seededRandom } from "./random";

/** Thrown by every operation after a simulated power cut, until `powerOn()`. */
export class PowerLoss extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PowerLoss";
  }
}

/** A program the real chip would refuse or corrupt (see `ReprogramRule`). */
export class FlashRuleViolation extends Error {
  constructor(
    readonly board: string,
    readonly addr: number,
    readonly rule: string,
    detail: string,
  ) {
    super(`${board}: program at 0x${addr.toString(16)} breaks the "${rule}" rule: ${detail}`);
    this.name = "FlashRuleViolation";
  }
}

export interface ViolationRecord {
  board: string;
  addr: number;
  rule: string;
  message: string;
}

/** "clean": the n-th operation completes, then power is lost. "torn": the n-th operation is left half done. */
export type PowerCutMode = "clean" | "torn";

export interface FlashCounters {
  readOps: number;
  readBytes: number;
  programOps: number;
  programBytes: number;
  eraseOps: number;
}

export interface EraseUnit {
  addr: number;
  size: number;
}

export interface SimFlashOptions {
  /** Seed for torn writes and interrupted erases. */
  seed?: number;
}

interface SpanState {
  span: FlashSpan;
  end: number;
  bytes: Uint8Array;
  eraseCounts: Uint32Array;
  /** Programs per word ("word-writes") or per block ("block-writes") since the unit's last erase. */
  writeCounts?: Uint16Array;
}

function hex(n: number): string {
  return "0x" + n.toString(16);
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n >>> 0; v !== 0; v >>>= 1) count += v & 1;
  return count;
}

export class SimFlash implements FlashHal {
  readonly board: BoardDefinition;
  /** Every rule violation, also thrown as `FlashRuleViolation`; a harness asserts this stays empty. */
  readonly violations: ViolationRecord[] = [];
  private readonly spans: SpanState[];
  private counts: FlashCounters = { readOps: 0, readBytes: 0, programOps: 0, programBytes: 0, eraseOps: 0 };
  private programWords = 0;
  private eraseMsTotal = 0;
  private random: () => number;
  private cutCountdown = -1;
  private cutMode: PowerCutMode = "clean";
  private poweredOff = false;

  constructor(board: BoardDefinition, options: SimFlashOptions = {}) {
    this.board = board;
    this.random = seededRandom(options.seed ?? 1);
    const sorted = board.flash.slice().sort((a, b) => a.addr - b.addr);
    this.spans = sorted.map((span) => {
      const bytes = new Uint8Array(span.size * span.count).fill(0xff);
      const state: SpanState = { span, end: span.addr + bytes.length, bytes, eraseCounts: new Uint32Array(span.count) };
      const rule = board.reprogram;
      if (rule.kind === "word-writes") state.writeCounts = new Uint16Array(bytes.length / 4);
      if (rule.kind === "block-writes") state.writeCounts = new Uint16Array(Math.ceil(bytes.length / rule.block));
      return state;
    });
    for (let i = 1; i < this.spans.length; i++) {
      if (this.spans[i].span.addr < this.spans[i - 1].end) {
        throw new Error(`${board.name}: flash spans at ${hex(this.spans[i - 1].span.addr)} and ${hex(this.spans[i].span.addr)} overlap`);
      }
    }
  }

  // ---- FlashHal ----

  read(addr: number, length: number): Uint8Array {
    this.checkPower("read", addr);
    const out = this.peek(addr, length);
    this.counts.readOps++;
    this.counts.readBytes += length;
    return out;
  }

  program(addr: number, data: Uint8Array): void {
    this.checkPower("program", addr);
    const unit = this.board.programUnit;
    if (addr % unit !== 0 || data.length % unit !== 0) {
      throw new Error(`${this.board.name}: program at ${hex(addr)} of ${data.length} bytes is not aligned to the ${unit}-byte program unit`);
    }
    const state = this.spanOf(addr, data.length, "program");
    if (data.length === 0) return;
    const offset = addr - state.span.addr;
    this.checkRule(state, offset, data);
    const torn = this.tick();
    const words = data.length / unit;
    let writtenWords = words;
    if (torn) {
      writtenWords = this.tearProgram(state, offset, data);
    } else {
      for (let i = 0; i < data.length; i++) state.bytes[offset + i] &= data[i];
    }
    this.countWrites(state, offset, writtenWords * unit);
    this.counts.programOps++;
    this.counts.programBytes += writtenWords * unit;
    this.programWords += Math.ceil((writtenWords * unit) / 4);
    this.afterOperation();
  }

  erase(pageAddr: number): void {
    this.checkPower("erase", pageAddr);
    const state = this.spanOf(pageAddr, 1, "erase");
    const offset = pageAddr - state.span.addr;
    if (offset % state.span.size !== 0) {
      throw new Error(`${this.board.name}: erase at ${hex(pageAddr)} is not the start of an erase unit (units of ${state.span.size} bytes from ${hex(state.span.addr)})`);
    }
    const torn = this.tick();
    const size = state.span.size;
    if (torn) {
      for (let i = offset; i < offset + size; i++) {
        const r = randomBelow(this.random, 10);
        // An interrupted erase only moves bits towards 1, by an unpredictable amount per cell.
        if (r < 4) state.bytes[i] = 0xff;
        else if (r < 7) state.bytes[i] |= this.random() & 0xff;
      }
    } else {
      state.bytes.fill(0xff, offset, offset + size);
    }
    this.clearWriteCounts(state, offset, size);
    state.eraseCounts[offset / size]++;
    this.counts.eraseOps++;
    this.eraseMsTotal += this.eraseMsFor(size);
    this.afterOperation();
  }

  // ---- geometry ----

  /** The erase unit holding `addr` (throws naming the address when it is outside every span). */
  unitAt(addr: number): EraseUnit {
    const state = this.spanOf(addr, 1, "lookup");
    const index = Math.floor((addr - state.span.addr) / state.span.size);
    return { addr: state.span.addr + index * state.span.size, size: state.span.size };
  }

  units(): EraseUnit[] {
    const out: EraseUnit[] = [];
    for (const s of this.spans) for (let i = 0; i < s.span.count; i++) out.push({ addr: s.span.addr + i * s.span.size, size: s.span.size });
    return out;
  }

  // ---- observation (no counting, works without power) ----

  /** Reads bytes without counting the operation and without power: for test assertions. */
  peek(addr: number, length: number): Uint8Array {
    const state = this.spanOf(addr, length, "read");
    const offset = addr - state.span.addr;
    return state.bytes.slice(offset, offset + length);
  }

  /** Writes raw bytes with no rule, count or power check: for tests that corrupt flash on purpose. */
  poke(addr: number, data: Uint8Array): void {
    const state = this.spanOf(addr, data.length, "poke");
    state.bytes.set(data, addr - state.span.addr);
  }

  /** Erase count of every unit, keyed by unit address. */
  eraseCounts(): Map<number, number> {
    const out = new Map<number, number>();
    for (const s of this.spans) s.eraseCounts.forEach((n, i) => out.set(s.span.addr + i * s.span.size, n));
    return out;
  }

  eraseCountAt(pageAddr: number): number {
    const unit = this.unitAt(pageAddr);
    const state = this.spanOf(unit.addr, 1, "lookup");
    return state.eraseCounts[(unit.addr - state.span.addr) / state.span.size];
  }

  counters(): FlashCounters {
    return { ...this.counts };
  }

  /** Time the counted operations would take on the board (BoardTiming), in milliseconds. */
  modelledMs(): number {
    const t = this.board.timing;
    return (this.programWords * t.programWordUs) / 1000 + this.eraseMsTotal + this.counts.readBytes / t.readBytesPerMs;
  }

  resetCounters(): void {
    this.counts = { readOps: 0, readBytes: 0, programOps: 0, programBytes: 0, eraseOps: 0 };
    this.programWords = 0;
    this.eraseMsTotal = 0;
  }

  // ---- fault injection ----

  /**
   * Loses power at the n-th program or erase from now (n >= 1; 0 cuts at once). Every later operation throws
   * `PowerLoss` until `powerOn()`. `seed` re-seeds the generator that decides how a torn operation ends.
   */
  cutPowerAfter(n: number, mode: PowerCutMode = "clean", seed?: number): void {
    if (!(n >= 0) || Math.floor(n) !== n) throw new Error(`cutPowerAfter: n must be a whole number >= 0, got ${n}`);
    if (seed !== undefined) this.random = seededRandom(seed);
    this.cutMode = mode;
    if (n === 0) {
      this.poweredOff = true;
      this.cutCountdown = -1;
    } else {
      this.cutCountdown = n;
    }
  }

  /** Restores power and cancels any pending cut. */
  powerOn(): void {
    this.poweredOff = false;
    this.cutCountdown = -1;
  }

  get powered(): boolean {
    return !this.poweredOff;
  }

  /** Program and erase operations left before a pending cut, or -1 when none is pending. */
  get operationsBeforeCut(): number {
    return this.cutCountdown;
  }

  // ---- images ----

  toImage(retained?: Uint8Array, kind: ImageKind = this.board.backend): Uint8Array {
    return encodeImage(this.snapshot(retained, kind));
  }

  snapshot(retained?: Uint8Array, kind: ImageKind = this.board.backend): FlashImage {
    const spans = this.spans.map((s) => ({ addr: s.span.addr, size: s.bytes.length }));
    const data = this.spans.map((s) => s.bytes.slice());
    const image: FlashImage = { board: this.board.name, kind, spans, data, layout: describeLayout(this.board, kind, spans, data) };
    if (retained) image.retained = retained.slice();
    return image;
  }

  saveImage(path: string, retained?: Uint8Array, kind: ImageKind = this.board.backend): void {
    saveImageFile(path, this.snapshot(retained, kind));
  }

  /** A SimFlash holding an image's bytes; the image must be of this board and hold exactly its spans. */
  static fromImage(bytes: Uint8Array | FlashImage, board: BoardDefinition, options: SimFlashOptions = {}): { flash: SimFlash; retained?: Uint8Array; kind: ImageKind } {
    const image = bytes instanceof Uint8Array ? decodeImage(bytes) : bytes;
    return SimFlash.restore(image, board, options, "image");
  }

  static loadImage(path: string, board: BoardDefinition, options: SimFlashOptions = {}): { flash: SimFlash; retained?: Uint8Array; kind: ImageKind } {
    return SimFlash.restore(loadImageFile(path), board, options, path);
  }

  private static restore(image: FlashImage, board: BoardDefinition, options: SimFlashOptions, source: string) {
    if (image.board !== board.name) throw new Error(`${source}: image is of board ${image.board}, not ${board.name}`);
    const flash = new SimFlash(board, options);
    if (image.spans.length !== flash.spans.length) {
      throw new Error(`${source}: image has ${image.spans.length} spans, board ${board.name} has ${flash.spans.length}`);
    }
    image.spans.forEach((span, i) => {
      const own = flash.spans[i];
      if (span.addr !== own.span.addr || span.size !== own.bytes.length) {
        throw new Error(`${source}: image span ${i} is ${hex(span.addr)}+${span.size}, board ${board.name} has ${hex(own.span.addr)}+${own.bytes.length}`);
      }
      own.bytes.set(image.data[i]);
    });
    return { flash, retained: image.retained, kind: image.kind };
  }

  // ---- internals ----

  private spanOf(addr: number, length: number, what: string): SpanState {
    for (const s of this.spans) {
      if (addr >= s.span.addr && addr < s.end) {
        if (addr + length > s.end) {
          throw new Error(`${this.board.name}: ${what} at ${hex(addr)} of ${length} bytes runs past the simulated flash span ending at ${hex(s.end)}`);
        }
        return s;
      }
    }
    throw new Error(`${this.board.name}: ${what} at ${hex(addr)} is outside the simulated flash (${this.spans.map((s) => hex(s.span.addr) + ".." + hex(s.end)).join(", ")})`);
  }

  private checkPower(what: string, addr: number): void {
    if (this.poweredOff) throw new PowerLoss(`${this.board.name}: ${what} at ${hex(addr)} after power loss`);
  }

  /** Counts a program/erase towards a pending cut; true when this operation is the one to tear. */
  private tick(): boolean {
    if (this.cutCountdown < 0) return false;
    this.cutCountdown--;
    return this.cutCountdown === 0 && this.cutMode === "torn";
  }

  private afterOperation(): void {
    if (this.cutCountdown === 0) {
      this.cutCountdown = -1;
      this.poweredOff = true;
    }
  }

  private violation(addr: number, rule: string, detail: string): never {
    const error = new FlashRuleViolation(this.board.name, addr, rule, detail);
    this.violations.push({ board: this.board.name, addr, rule, message: error.message });
    throw error;
  }

  private checkRule(state: SpanState, offset: number, data: Uint8Array): void {
    const rule = this.board.reprogram;
    const base = state.span.addr;
    if (rule.kind === "halfword-once") {
      for (let i = 0; i < data.length; i += 2) {
        const old = state.bytes[offset + i] | (state.bytes[offset + i + 1] << 8);
        const value = data[i] | (data[i + 1] << 8);
        // The chip programs 0x0000 over anything (the firmware zeroes words that way); any other value over a
        // programmed half-word sets PGERR and is skipped, which Espruino does not check.
        if (old !== 0xffff && value !== 0) {
          this.violation(
            base + offset + i,
            rule.kind,
            `half-word already holds 0x${old.toString(16)}, only 0x0000 may be programmed over it, not 0x${value.toString(16)} (the chip skips it and the data is lost)`,
          );
        }
      }
    } else if (rule.kind === "word-writes") {
      const counts = state.writeCounts!;
      for (let i = 0; i < data.length; i += 4) {
        const n = counts[(offset + i) / 4];
        if (n >= rule.max) this.violation(base + offset + i, rule.kind, `word would be programmed ${n + 1} times since its erase (max ${rule.max})`);
      }
    } else if (rule.kind === "block-writes") {
      const counts = state.writeCounts!;
      const first = Math.floor(offset / rule.block);
      const last = Math.floor((offset + data.length - 1) / rule.block);
      for (let b = first; b <= last; b++) {
        const start = Math.max(offset, b * rule.block);
        const end = Math.min(offset + data.length, (b + 1) * rule.block);
        const after = counts[b] + Math.ceil((end - start) / 4);
        if (after > rule.max) {
          this.violation(base + b * rule.block, rule.kind, `${rule.block}-byte block would get ${after} word programs since its erase (max ${rule.max})`);
        }
      }
    }
  }

  private countWrites(state: SpanState, offset: number, length: number): void {
    const rule = this.board.reprogram;
    const counts = state.writeCounts;
    if (!counts || length === 0) return;
    if (rule.kind === "word-writes") {
      for (let i = 0; i < length; i += 4) counts[(offset + i) / 4]++;
    } else if (rule.kind === "block-writes") {
      for (let i = 0; i < length; i += 4) counts[Math.floor((offset + i) / rule.block)]++;
    }
  }

  private clearWriteCounts(state: SpanState, offset: number, size: number): void {
    const rule = this.board.reprogram;
    if (rule.kind === "word-writes") state.writeCounts!.fill(0, offset / 4, (offset + size) / 4);
    if (rule.kind === "block-writes") {
      state.writeCounts!.fill(0, Math.floor(offset / rule.block), Math.ceil((offset + size) / rule.block));
    }
  }

  /**
   * Leaves a program half done: the units before a chosen one are written, the chosen one gets only some of the
   * bits it should clear, the rest are untouched. Returns the number of units that were (at least partly) written.
   */
  private tearProgram(state: SpanState, offset: number, data: Uint8Array): number {
    const unit = this.board.programUnit;
    const units = data.length / unit;
    const clearsOf = (u: number): number => {
      let bits = 0;
      for (let b = 0; b < unit; b++) bits |= (state.bytes[offset + u * unit + b] & ~data[u * unit + b] & 0xff) << (8 * b);
      return bits >>> 0;
    };
    const candidates: number[] = [];
    for (let u = 0; u < units; u++) if (popcount(clearsOf(u)) >= 2) candidates.push(u);
    if (candidates.length === 0) {
      // Nothing can be half-cleared: stop cleanly somewhere inside the operation.
      const done = randomBelow(this.random, units);
      for (let i = 0; i < done * unit; i++) state.bytes[offset + i] &= data[i];
      return done;
    }
    const torn = candidates[randomBelow(this.random, candidates.length)];
    for (let i = 0; i < torn * unit; i++) state.bytes[offset + i] &= data[i];
    const clears = clearsOf(torn);
    let partial = 0;
    while (partial === 0 || partial === clears) partial = (clears & this.random()) >>> 0;
    for (let b = 0; b < unit; b++) state.bytes[offset + torn * unit + b] &= ~((partial >>> (8 * b)) & 0xff);
    return torn + 1;
  }

  private eraseMsFor(size: number): number {
    let best = this.board.timing.eraseMs[0];
    for (const e of this.board.timing.eraseMs) if (Math.abs(e.bytes - size) < Math.abs(best.bytes - size)) best = e;
    return best ? best.ms : 0;
  }
}

/**
 * jshFlashWrite as the firmware does it: any address and length are accepted, and a partly covered word at the
 * head or tail is read, merged and programmed whole. That re-programs bytes already written, which is exactly what
 * the chips punish, so the rules see it.
 */
export function firmwareFlashWrite(flash: SimFlash, addr: number, data: Uint8Array): void {
  if (data.length === 0) return;
  const word = firmwareWordSize(flash);
  const end = addr + data.length;
  const firstWhole = Math.ceil(addr / word) * word;
  const lastWhole = Math.floor(end / word) * word;
  if (firstWhole >= lastWhole) {
    // Head and tail fall in the same word(s): merge each word in turn.
    for (let w = Math.floor(addr / word) * word; w < end; w += word) mergeWord(flash, w, addr, data);
    return;
  }
  if (addr < firstWhole) mergeWord(flash, firstWhole - word, addr, data);
  flash.program(firstWhole, data.subarray(firstWhole - addr, lastWhole - addr));
  if (end > lastWhole) mergeWord(flash, lastWhole, addr, data);
}

/** The unit the firmware writes in: a 32-bit word, or the chip's program unit when that is larger. */
export function firmwareWordSize(flash: SimFlash): number {
  return Math.max(4, flash.board.programUnit);
}

/** Programs the word at `wordAddr` with the bytes of `data` (placed at `addr`) that fall inside it. */
function mergeWord(flash: SimFlash, wordAddr: number, addr: number, data: Uint8Array): void {
  const word = firmwareWordSize(flash);
  const merged = flash.read(wordAddr, word);
  for (let i = 0; i < word; i++) {
    const k = wordAddr + i - addr;
    if (k >= 0 && k < data.length) merged[i] = data[k];
  }
  flash.program(wordAddr, merged);
}
