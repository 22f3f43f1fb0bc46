// The host side of docs/PROTOCOL.md: typed calls to the device's pstore service over any Port, with recovery of a
// busy REPL, timeouts, bounded retries, resume of interrupted transfers from the last good offset, and a count of
// bytes on the wire against payload bytes so the link's efficiency can be reported.

import { FRAME_TAG, FrameKind, frameCheck, SERVICE_MODULE, ServiceLimit, type DumpInfo } from "../../firmware/service";
import type { RecordMeta } from "../../pstore/backend";
import type { Port } from "../ports/types";
import { latin1Bytes } from "../bytes";
import { ProtocolError } from "./errors";
import { FrameParser, type Frame } from "./frames";
import { crc32 } from "../../hal/sim/crc";
import { decodeRecordHeader, RECORD_HEADER_SIZE, RECORD_OVERHEAD, recordName, recordSize } from "../../pstore/format";
import { checkName, MAX_TRANSFER_BYTES, parseDumpInfo, parseJson, parseRecordMeta, parseWindowEnd } from "./records";

export interface ClientOptions {
  /** Expression that yields the service object on the device. */
  service?: string;
  /** A response fails when no frame byte arrives for this long. */
  responseTimeoutMs?: number;
  /** Bytes of binary data per D frame (the device caps it at ServiceLimit.MaxChunk). */
  chunk?: number;
  /** Bytes the device streams per get/dump request before the host asks again. */
  window?: number;
  /** Consecutive failed attempts (without progress) a call survives. */
  retries?: number;
  /** Rounds of Ctrl-C, newline, hello before connect() gives up. */
  connectAttempts?: number;
  /** Every complete line of output outside frames (device chatter), for diagnostics. */
  onDeviceLine?: (line: string) => void;
}

export interface WireStats {
  bytesSent: number;
  bytesReceived: number;
  /** Binary data bytes accepted into transfers (record parts, dump areas). */
  payloadBytes: number;
  frames: number;
  badFrames: number;
  /** Intact frames of an earlier request (an abandoned window), ignored. */
  staleFrames: number;
  retries: number;
}

/** Called as a transfer advances; total is undefined until the device has said how big the part is. */
export type ProgressCallback = (done: number, total: number | undefined) => void;

export interface DumpResult {
  info: DumpInfo;
  spans: Uint8Array[];
  retained: Uint8Array;
}

/** One record as the bulk call `a` delivered it: what a listing would say, and the raw image of every part. */
export interface BulkRecord {
  name: string;
  boot: number;
  seq: number;
  parts: number;
  storedLength: number;
  images: Uint8Array[];
}

export interface BulkResult {
  /** Every record, in list order, when `complete`; empty otherwise. */
  records: BulkRecord[];
  /** False when the device has no `a` call or its stream did not hold together: use list + fetchPart instead. */
  complete: boolean;
  /** Why the bulk stream was not used, when it was not. */
  fallback?: string;
}

export const DEFAULT_SERVICE = `require(${JSON.stringify(SERVICE_MODULE)})`;
/** 1152 bytes = 1536 base64 characters: ~73% of the wire is payload, with under 2 KB of strings on the device. */
export const DEFAULT_CHUNK = 1152;
/** 18 KB, 1.6 s at 115200 baud: a round trip per window costs ~2%; a glitch costs no more than a round trip. */
export const DEFAULT_WINDOW = 16 * DEFAULT_CHUNK;

const CTRL_C = "\x03";
const DLE = "\x10";
/**
 * Clears a half-typed input line without Ctrl-C (ESC [ 2 H, the REPL's "erase line"; firmware that lacks it ignores
 * it), then asks for a fresh prompt. Ctrl-C on an empty line makes Espruino's desktop builds exit when another
 * follows within 5 s, so it is kept for a REPL that gives no prompt (code running), as the Espruino tools do.
 */
export const CLEAR_LINE = "\x1b[2H\n";
const PROMPT_WAIT_MS = 1000;
const QUIET_MS = 40;
const RECENT_LINES = 4;
/** Most listing entries accepted: every record takes at least RECORD_OVERHEAD bytes of a region of at most this size. */
const MAX_RECORDS = Math.floor(MAX_TRANSFER_BYTES / RECORD_OVERHEAD);
/** Attempts of a call that end in a timeout before it gives up. */
const TIMEOUT_ATTEMPTS = 2;

/**
 * Consecutive failed attempts of one call: up to `retries` line faults are retried, but a timeout only once (a lost
 * request line); a device that stays silent, drips bytes or sends only stale frames ends the call after two.
 */
class FailedAttempts {
  private count = 0;
  private timeouts = 0;

  constructor(private readonly retries: number) {}

  /** Counts a failure; throws `gave-up`, naming `what` and the last fault, once the call has had enough. */
  add(error: ProtocolError, what: string): void {
    this.count++;
    if (error.code === "timeout") this.timeouts++;
    if (this.count > this.retries || this.timeouts >= TIMEOUT_ATTEMPTS) {
      throw new ProtocolError("gave-up", `${what} after ${this.count} attempt${this.count === 1 ? "" : "s"}; last: ${error.message}`);
    }
  }

  reset(): void {
    this.count = 0;
    this.timeouts = 0;
  }
}

interface Pending {
  id: number;
  what: string;
  onFrame: (frame: Frame) => void;
  resolve: (end: Frame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  framesSeen: number;
  /** Damaged frames seen during this call: counted, only the first kept (a device flooding garbage costs no memory). */
  glitchCount: number;
  firstGlitch: ProtocolError | undefined;
  /** Fail at the first damaged frame that may be this answer's: a transfer then resumes at once, not at the window's end. */
  abortOnGlitch: boolean;
}

type Argument = string | number;

export class DeviceClient {
  private readonly parser: FrameParser;
  private readonly options: Required<Omit<ClientOptions, "onDeviceLine">> & Pick<ClientOptions, "onDeviceLine">;
  private readonly counters: WireStats = {
    bytesSent: 0,
    bytesReceived: 0,
    payloadBytes: 0,
    frames: 0,
    badFrames: 0,
    staleFrames: 0,
    retries: 0,
  };
  private pending: Pending | undefined;
  private nextId = 1 + Math.floor(Math.random() * 900000);
  private recentLines: string[] = [];
  private closedBy: Error | undefined;
  private dataWaiters: (() => void)[] = [];

  constructor(
    private readonly port: Port,
    options: ClientOptions = {},
  ) {
    this.options = {
      service: options.service ?? DEFAULT_SERVICE,
      responseTimeoutMs: options.responseTimeoutMs ?? 5000,
      chunk: Math.min(options.chunk ?? DEFAULT_CHUNK, ServiceLimit.MaxChunk),
      window: Math.min(options.window ?? DEFAULT_WINDOW, ServiceLimit.MaxWindow),
      retries: options.retries ?? 4,
      connectAttempts: options.connectAttempts ?? 3,
      onDeviceLine: options.onDeviceLine,
    };
    for (const key of ["responseTimeoutMs", "chunk", "window", "connectAttempts"] as const) {
      const value = this.options[key];
      if (!Number.isInteger(value) || value < 1) throw new Error(`DeviceClient: option ${key} must be a positive integer, got ${value}`);
    }
    if (!Number.isInteger(this.options.retries) || this.options.retries < 0) {
      throw new Error(`DeviceClient: option retries must be a non-negative integer, got ${this.options.retries}`);
    }
    this.parser = new FrameParser({
      frame: (frame) => this.onFrame(frame),
      error: (error) => this.onBadFrame(error),
      line: (line) => this.onLine(line),
    });
    port.on("data", this.onData);
    port.on("close", this.onClose);
  }

  /** A copy of the byte and frame counters since the client was made. */
  get stats(): WireStats {
    return { ...this.counters };
  }

  /**
   * Gets a clean REPL: the half-typed line cleared and a newline (CLEAR_LINE), a wait for the prompt, then a hello
   * to the service (a busy device answers it once its code returns). Only when that hello fails do later attempts
   * send Ctrl-C (interrupts running code) instead. Garbage and chatter before the prompt are skipped.
   */
  async connect(): Promise<void> {
    let last: Error | undefined;
    for (let attempt = 1; attempt <= this.options.connectAttempts; attempt++) {
      this.send(attempt === 1 ? CLEAR_LINE : CTRL_C + "\n");
      await this.waitForPrompt();
      try {
        const version = await this.request("h", [], "hello", unexpectedFrame("hello"));
        const value = parseJson(version.payload, "hello");
        if (value !== ServiceLimit.ProtocolVersion) {
          throw new ProtocolError(
            "no-service",
            `the device's pstore service speaks protocol ${JSON.stringify(value)}, this host speaks ${ServiceLimit.ProtocolVersion}`,
          );
        }
        return;
      } catch (error) {
        // Every service has `h`: a hello the request line's guard answered means the service module did not load.
        if (error instanceof ProtocolError && error.code === "device-error") {
          throw new ProtocolError("not-installed", `no pstore service on ${this.port.description}: ${error.message}`);
        }
        if (!(error instanceof ProtocolError) || !error.retryable) throw error;
        last = error;
      }
    }
    throw new ProtocolError(
      "no-service",
      `no pstore service answered on ${this.port.description} after ${this.options.connectAttempts} attempts: ${last?.message}`,
    );
  }

  /** Sends one call and collects its answer: M/D frames go to `onFrame`, the E frame is returned. No retry. */
  call(fn: string, args: Argument[], onFrame: (frame: Frame) => void = unexpectedFrame(fn)): Promise<Frame> {
    if (!/^[A-Za-z_$][\w$]*$/.test(fn)) return Promise.reject(new ProtocolError("bad-request", `call: ${JSON.stringify(fn)} is not a method name`));
    return this.request(fn, args, `${fn}(${args.map((a) => JSON.stringify(a)).join(",")})`, onFrame);
  }

  async list(): Promise<RecordMeta[]> {
    return this.withRetries("list", async () => {
      const records: RecordMeta[] = [];
      const end = await this.request("l", [], "list", (frame) => {
        if (frame.kind !== FrameKind.Meta) throw badResponse(`list: unexpected ${frame.kind} frame`);
        if (frame.arg !== records.length) {
          throw new ProtocolError("lost-frame", `list: entry ${frame.arg} arrived after entry ${records.length - 1}`);
        }
        if (records.length >= MAX_RECORDS) throw badResponse(`list: more than ${MAX_RECORDS} entries, more than any store holds`);
        records.push(parseRecordMeta(parseJson(frame.payload, `listing entry ${frame.arg}`), frame.arg));
      });
      const count = parseJson(end.payload, "list end");
      if (end.arg !== records.length || count !== records.length) {
        throw new ProtocolError("lost-frame", `list: device sent ${JSON.stringify(count)} entries, ${records.length} arrived intact`);
      }
      return records;
    });
  }

  /**
   * The raw image of one record part (header … commit word), resumed from the last good offset after a glitch.
   * `expectedSize`, when known, is checked against what the device says.
   */
  async fetchPart(
    name: string,
    part: number,
    options: { expectedSize?: number; onProgress?: ProgressCallback } = {},
  ): Promise<Uint8Array> {
    checkName(name, "fetch", "bad-request");
    if (!Number.isInteger(part) || part < 0 || part > 254) {
      throw new ProtocolError("bad-request", `fetch ${name}: part ${part} is not 0..254`);
    }
    return this.transfer(`${name} part ${part}`, "g", [name, part], options.expectedSize, (done, total) =>
      options.onProgress?.(done, total),
    );
  }

  /**
   * Every record in one stream (the call `a`): the parts' raw images back to back, cut by their own header lengths
   * and checked like fetchPart's. Not complete (and no records) when the device lacks `a` (older firmware) or the
   * stream does not hold together, e.g. its set of records changed between two windows; the caller then falls
   * back to list + fetchPart. Only a closed port is thrown.
   */
  async fetchAll(onProgress?: ProgressCallback): Promise<BulkResult> {
    let summary: string | undefined;
    let stream: Uint8Array;
    try {
      stream = await this.transfer("all records", "a", [], undefined, (done, total) => onProgress?.(done, total), (extra) => {
        const text = JSON.stringify(extra);
        if (summary === undefined) summary = text;
        else if (text !== summary) throw new ProtocolError("bad-response", `all records: the device's records changed during the transfer`);
      });
    } catch (error) {
      if (!(error instanceof ProtocolError) || error.code === "disconnected") throw error;
      return { records: [], complete: false, fallback: error.message };
    }
    try {
      return { records: splitBulkStream(stream, JSON.parse(summary ?? "null")), complete: true };
    } catch (error) {
      return { records: [], complete: false, fallback: (error as Error).message };
    }
  }

  /** Erases a record by name; false when the device has no such record (also after a retry of a lost answer). */
  async erase(name: string): Promise<boolean> {
    checkName(name, "erase", "bad-request");
    return this.withRetries(`erase ${name}`, async () => {
      const value = parseJson((await this.request("e", [name], `erase ${name}`, unexpectedFrame("erase"))).payload, "erase");
      if (typeof value !== "boolean") throw badResponse(`erase ${name}: answer ${JSON.stringify(value)} is not true/false`);
      return value;
    });
  }

  async status(): Promise<Record<string, unknown>> {
    return this.withRetries("status", async () => {
      const value = parseJson((await this.request("s", [], "status", unexpectedFrame("status"))).payload, "status");
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw badResponse(`status: answer ${JSON.stringify(value)?.slice(0, 60)} is not an object`);
      }
      return value as Record<string, unknown>;
    });
  }

  async dumpInfo(): Promise<DumpInfo> {
    return this.withRetries("dump info", async () =>
      parseDumpInfo(parseJson((await this.request("i", [], "dump info", unexpectedFrame("dump info"))).payload, "dump info")),
    );
  }

  /** Every span of the pstore region and the retained RAM area, raw. Progress counts all of them together. */
  async dump(onProgress?: ProgressCallback): Promise<DumpResult> {
    const info = await this.dumpInfo();
    const total = info.spans.reduce((sum, span) => sum + span.size, info.retained);
    let before = 0;
    const area = async (index: number, size: number): Promise<Uint8Array> => {
      const what = index === -1 ? "retained RAM" : `span ${index} at 0x${info.spans[index].addr.toString(16)}`;
      const bytes = await this.transfer(what, "d", [index], size, (done) => onProgress?.(before + done, total));
      before += size;
      return bytes;
    };
    const spans: Uint8Array[] = [];
    for (let i = 0; i < info.spans.length; i++) spans.push(await area(i, info.spans[i].size));
    const retained = info.retained > 0 ? await area(-1, info.retained) : new Uint8Array(0);
    return { info, spans, retained };
  }

  async close(): Promise<void> {
    this.port.off("data", this.onData);
    this.port.off("close", this.onClose);
    this.failPending(new ProtocolError("disconnected", "the client was closed"));
    await this.port.close();
  }

  /** Streams `fn(...args, offset, window, chunk)` window by window until the device's size is reached. */
  private async transfer(
    what: string,
    fn: string,
    args: Argument[],
    expectedSize: number | undefined,
    onProgress: ProgressCallback,
    onSummary?: (extra: unknown[]) => void,
  ): Promise<Uint8Array> {
    const { chunk, window } = this.options;
    const pieces: Uint8Array[] = [];
    let size = expectedSize;
    let done = 0;
    const failures = new FailedAttempts(this.options.retries);
    while (size === undefined || done < size) {
      const start = done;
      let failure: ProtocolError | undefined;
      try {
        let shortChunkAt = -1;
        const end = await this.request(fn, [...args, done, window, chunk], `${what} from ${done}`, (frame) => {
          if (frame.kind !== FrameKind.Data) throw badResponse(`${what}: unexpected ${frame.kind} frame in a transfer`);
          // Only a window's last chunk may be short: a device sending tiny frames cannot stretch a call frame by frame.
          if (shortChunkAt >= 0) throw badResponse(`${what}: data at ${frame.arg} after a short chunk at ${shortChunkAt}`);
          if (frame.arg !== done) {
            // A frame before this one was lost: the rest of this window cannot be placed, so ask again from `done`.
            throw new ProtocolError("lost-frame", `${what}: data at offset ${frame.arg} arrived when ${done} was due`);
          }
          const n = frame.payload.length;
          if (n === 0 || n > chunk) throw badResponse(`${what}: chunk of ${n} bytes at ${done}, asked for 1..${chunk}`);
          if (n < chunk) shortChunkAt = done;
          if (done + n > (size ?? MAX_TRANSFER_BYTES)) {
            throw badResponse(`${what}: data runs to ${done + n}, past the ${size ?? MAX_TRANSFER_BYTES} bytes it may have`);
          }
          pieces.push(frame.payload);
          done += n;
          this.counters.payloadBytes += n;
          onProgress(done, size);
        }, true);
        const value = parseJson(end.payload, `${what} window end`);
        const extra = onSummary && Array.isArray(value) ? value.splice(2) : [];
        const { next, size: total } = parseWindowEnd(value, what);
        onSummary?.(extra);
        if (size !== undefined && total !== size) throw badResponse(`${what}: device says ${total} bytes, expected ${size}`);
        if (next < done) throw badResponse(`${what}: window ends at ${next}, but ${done} bytes arrived`);
        if (next === start && next < total) throw badResponse(`${what}: window at ${start} of ${total} brought no data`);
        size = total;
        // The window's last frames were lost: nothing came after them to show the gap.
        if (next > done) failure = new ProtocolError("lost-frame", `${what}: window ended at ${next}, data arrived up to ${done}`);
      } catch (error) {
        if (!(error instanceof ProtocolError) || !error.retryable) throw error;
        failure = error;
      }
      if (done > start) failures.reset();
      else if (failure) failures.add(failure, `${what}: no progress at offset ${done}`);
      if (failure) this.counters.retries++;
    }
    const bytes = new Uint8Array(done);
    let at = 0;
    for (const piece of pieces) {
      bytes.set(piece, at);
      at += piece.length;
    }
    return bytes;
  }

  private async withRetries<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    const failures = new FailedAttempts(this.options.retries);
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof ProtocolError) || !error.retryable) throw error;
        failures.add(error, `${what}: no good answer`);
        this.counters.retries++;
      }
    }
  }

  private request(
    fn: string,
    args: Argument[],
    what: string,
    onFrame: (frame: Frame) => void,
    abortOnGlitch = false,
  ): Promise<Frame> {
    if (this.closedBy) {
      return Promise.reject(new ProtocolError("disconnected", `${what}: ${this.port.description} is closed (${this.closedBy.message})`));
    }
    if (this.pending) return Promise.reject(new Error(`${what}: ${this.pending.what} is still running (one call at a time)`));
    const id = this.nextId;
    this.nextId = (this.nextId % 999999) + 1;
    const line = requestLine(this.options.service, fn, id, args);
    return new Promise<Frame>((resolve, reject) => {
      const pending: Pending = {
        id,
        what,
        onFrame,
        resolve,
        reject,
        timer: undefined,
        framesSeen: 0,
        glitchCount: 0,
        firstGlitch: undefined,
        abortOnGlitch,
      };
      this.pending = pending;
      this.armTimer(pending);
      try {
        this.send(line);
      } catch (error) {
        this.settle(pending, new ProtocolError("disconnected", `${what}: ${(error as Error).message}`));
      }
    });
  }

  private armTimer(pending: Pending): void {
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => {
      const glitches = pending.firstGlitch ? `; ${pending.glitchCount} bad frame(s), first: ${pending.firstGlitch.message}` : "";
      const said = this.recentLines.length ? `; device said: ${this.recentLines.map((l) => JSON.stringify(l)).join(" ")}` : "";
      this.settle(
        pending,
        new ProtocolError("timeout", `${pending.what}: no answer for ${this.options.responseTimeoutMs} ms${glitches}${said}`),
      );
    }, this.options.responseTimeoutMs);
  }

  private settle(pending: Pending, outcome: Error | Frame): void {
    if (this.pending !== pending) return;
    clearTimeout(pending.timer);
    this.pending = undefined;
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  private failPending(error: Error): void {
    if (this.pending) this.settle(this.pending, error);
  }

  private send(text: string): void {
    if (this.closedBy || !this.port.isOpen) {
      throw new ProtocolError("disconnected", `${this.port.description} is closed${this.closedBy ? ` (${this.closedBy.message})` : ""}`);
    }
    this.counters.bytesSent += text.length;
    this.port.write(text);
  }

  private onData = (chunk: Uint8Array): void => {
    this.counters.bytesReceived += chunk.length;
    this.parser.push(chunk);
    const waiters = this.dataWaiters;
    this.dataWaiters = [];
    for (const wake of waiters) wake();
  };

  private onClose = (error?: Error): void => {
    this.closedBy = error ?? new Error("closed");
    const pending = this.pending;
    if (pending) {
      this.settle(
        pending,
        new ProtocolError("disconnected", `${pending.what}: ${this.port.description} closed mid-answer (${this.closedBy.message})`),
      );
    }
    const waiters = this.dataWaiters;
    this.dataWaiters = [];
    for (const wake of waiters) wake();
  };

  private onFrame(frame: Frame): void {
    this.counters.frames++;
    const pending = this.pending;
    if (!pending || frame.id !== pending.id) {
      this.counters.staleFrames++;
      return;
    }
    pending.framesSeen++;
    if (frame.kind === FrameKind.End) return this.settle(pending, frame);
    if (frame.kind === FrameKind.Error) {
      const message = parseJson(frame.payload, `${pending.what} error`);
      return this.settle(pending, new ProtocolError("device-error", `${pending.what}: the device refused: ${quoteDeviceText(String(message))}`));
    }
    // An intact frame of this call is progress; bytes alone (a payload dripping in, stale or damaged frames) are not.
    this.armTimer(pending);
    try {
      pending.onFrame(frame);
    } catch (error) {
      this.settle(pending, error as Error);
    }
  }

  private onBadFrame(error: ProtocolError): void {
    this.counters.badFrames++;
    const pending = this.pending;
    if (!pending) return;
    if (error.frame && error.frame.id !== pending.id) return;
    if (pending.glitchCount++ === 0) pending.firstGlitch = error;
    // The damaged frame was the answer's last: nothing more will come, so fail now rather than at the timeout.
    const last = error.frame && (error.frame.kind === FrameKind.End || error.frame.kind === FrameKind.Error);
    if (last || pending.abortOnGlitch) this.settle(pending, error);
  }

  private onLine(line: string): void {
    this.recentLines.push(line.length > 120 ? line.slice(0, 120) + "…" : line);
    if (this.recentLines.length > RECENT_LINES) this.recentLines.shift();
    this.options.onDeviceLine?.(line);
    // The request line itself failed on the device (no pstore module, a syntax error): no frame will follow.
    // The line may start with the prompt the error was printed after.
    const pending = this.pending;
    if (pending && pending.framesSeen === 0 && /^[>:]*Uncaught /.test(line)) {
      this.settle(pending, new ProtocolError("uncaught", `${pending.what}: the device raised ${JSON.stringify(line)}`));
    }
  }

  /** Waits until the output ends in a prompt and goes quiet, or PROMPT_WAIT_MS pass: the hello decides either way. */
  private async waitForPrompt(): Promise<void> {
    const deadline = Date.now() + PROMPT_WAIT_MS;
    while (Date.now() < deadline && !this.closedBy) {
      const quiet = await this.quietFor(Math.min(QUIET_MS, deadline - Date.now()));
      if (quiet && this.parser.partialLine.replace(/\x1b\[J|\r/g, "").endsWith(">")) return;
    }
  }

  /** True when no byte arrived for `ms`. */
  private quietFor(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.dataWaiters = this.dataWaiters.filter((w) => w !== wake);
        resolve(true);
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve(false);
      };
      this.dataWaiters.push(wake);
    });
  }
}

/**
 * Cuts the stream of `a` into part images by their headers' lengths (48 + pad4(storedLength) + 4) and groups them
 * into records, named from the backend runs `[fingerprint, [[backend, records]…]]`. Throws naming the first
 * thing that does not fit (a header that does not parse, parts out of order, runs that do not add up).
 */
export function splitBulkStream(stream: Uint8Array, summary: unknown): BulkRecord[] {
  const runs = Array.isArray(summary) && Array.isArray(summary[1]) ? (summary[1] as unknown[]) : undefined;
  // Every record takes at least RECORD_OVERHEAD bytes of the stream: counts beyond that are refused before use.
  const most = Math.floor(stream.length / RECORD_OVERHEAD);
  let listed = 0;
  const backendRuns: [string, number][] = [];
  for (const run of runs ?? [undefined]) {
    if (!Array.isArray(run) || typeof run[0] !== "string" || !Number.isInteger(run[1]) || run[1] < 1) {
      throw badResponse(`all records: summary ${JSON.stringify(summary)?.slice(0, 80)} is not [fingerprint, [[backend, records]…]]`);
    }
    listed += run[1];
    if (listed > most) throw badResponse(`all records: the summary counts more records than ${stream.length} bytes can hold`);
    backendRuns.push([run[0], run[1]]);
  }
  // Records are named in stream order: a cursor over the runs, never an array of one name per record.
  let runAt = 0;
  let usedInRun = 0;
  const nextBackend = (): string | undefined => {
    while (runAt < backendRuns.length && usedInRun === backendRuns[runAt][1]) {
      runAt++;
      usedInRun = 0;
    }
    if (runAt === backendRuns.length) return undefined;
    usedInRun++;
    return backendRuns[runAt][0];
  };
  const records: BulkRecord[] = [];
  let at = 0;
  while (at < stream.length) {
    const header = decodeRecordHeader(stream.subarray(at, at + RECORD_HEADER_SIZE), crc32);
    if (!header) throw badResponse(`all records: no record header at offset ${at}`);
    const length = recordSize(header.storedLength);
    if (at + length > stream.length) throw badResponse(`all records: the record at ${at} runs past the stream's end`);
    const image = stream.slice(at, at + length);
    const current = records[records.length - 1];
    if (header.part === 0) {
      const backend = nextBackend();
      if (backend === undefined) throw badResponse(`all records: more records than the summary's ${listed}`);
      const name = checkName(recordName(header.type, backend, header.seq), "all records");
      records.push({ name, boot: header.boot, seq: header.seq, parts: header.parts, storedLength: header.storedLength, images: [image] });
    } else if (
      // Part k of a record has the sequence number of part 0 plus k (FORMAT.md, "Multi-part records").
      current &&
      header.seq === ((current.seq + header.part) >>> 0) &&
      current.boot === header.boot &&
      current.images.length === header.part &&
      current.parts === header.parts
    ) {
      current.images.push(image);
      current.storedLength += header.storedLength;
    } else {
      throw badResponse(`all records: part ${header.part} of seq ${header.seq} at offset ${at} does not follow its record`);
    }
    at += length;
  }
  const last = records[records.length - 1];
  if (last && last.images.length !== last.parts) throw badResponse(`all records: ${last.name} has ${last.images.length} of ${last.parts} parts`);
  if (records.length !== listed) throw badResponse(`all records: ${records.length} records, the summary says ${listed}`);
  return records;
}

/**
 * `DLE try{<service>.<fn>(<id>,<args…>)}catch(e){<print an X frame>}`: a call the device cannot run (older firmware
 * without it, a service that does not load) answers with an X frame instead of raising at the REPL, where the
 * device's own pstore would store every retry as an uncaught exception. The host builds that frame itself, since
 * the device may not have the service that would.
 */
export function requestLine(service: string, fn: string, id: number, args: Argument[]): string {
  const call = `${service}.${fn}(${[id, ...args].map(formatArgument).join(",")})`;
  const text = JSON.stringify(`${fn}: the device could not run this call (its pstore service lacks it or does not load)`);
  const message = latin1Bytes(text);
  const payload = btoa(text);
  const check = frameCheck(crc32, id, FrameKind.Error, 0, payload.length, crc32(message));
  const header = `${FRAME_TAG}${id} ${FrameKind.Error} 0 ${payload.length} ${check.toString(16)}]`;
  return `${DLE}try{${call}}catch(e){print(${JSON.stringify(header)});print(${JSON.stringify(payload)})}\n`;
}

/** Text the device chose (an error message), quoted with its control characters escaped, at most 200 characters. */
function quoteDeviceText(text: string): string {
  return JSON.stringify(text.length > 200 ? text.slice(0, 200) + "…" : text);
}

function formatArgument(value: Argument): string {
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new ProtocolError("bad-request", `call argument ${value} is not an integer`);
    return String(value);
  }
  return JSON.stringify(value);
}

function badResponse(message: string): ProtocolError {
  return new ProtocolError("bad-response", message);
}

function unexpectedFrame(what: string): (frame: Frame) => void {
  return (frame) => {
    throw badResponse(`${what}: unexpected ${frame.kind} frame before the answer`);
  };
}
