// A scriptable fake Espruino for protocol tests: a small REPL (DLE lines, Ctrl-C, prompt, timer-style output)
// around the real firmware/service.ts over an in-memory record store, with hooks that damage what it sends:
// rewritten or dropped lines, garbage, XON/XOFF, chatter, a stall, a hang-up.

import { createService, FRAME_TAG, frameCheck, type DumpInfo, type Service, type ServiceTarget } from "../../firmware/service";
import { DEFAULT_SERVICE } from "../../tools/protocol/client";
import type { RecordMeta } from "../../pstore/backend";
import { Codec, encodeRecord, getU32, Reason, recordName, RecordType } from "../../pstore/format";
import { crc32 } from "../../hal/sim/crc";
import type { Port } from "../../tools/ports/types";

export interface StoredRecord {
  meta: RecordMeta;
  image: Uint8Array;
  /** Images of parts 1.. of a multi-part record (part 0 is `image`). */
  more?: Uint8Array[];
}

/**
 * A record as the core writes it, with a deterministic payload of `payloadLength` bytes (`salt` varies it: the same
 * name with other content, as after a wipe), cut into `parts` parts with consecutive sequence numbers.
 */
export function makeRecord(
  seq: number,
  payloadLength: number,
  type = RecordType.Dmesg,
  options: { parts?: number; salt?: number; boot?: number; text?: string } = {},
): StoredRecord {
  const payload = options.text !== undefined ? new Uint8Array(Buffer.from(options.text, "latin1")) : new Uint8Array(payloadLength);
  let x = (seq + (options.salt ?? 0) * 7919) * 2654435761;
  for (let i = 0; options.text === undefined && i < payloadLength; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    payload[i] = x >>> 24;
  }
  payloadLength = payload.length;
  const parts = options.parts ?? 1;
  const header = {
    type,
    reason: Reason.Exception,
    codec: Codec.Raw,
    flags: 0,
    part: 0,
    parts,
    seq,
    boot: options.boot ?? 3,
    time: 0,
    uptime: 1000 + seq,
    storedLength: payloadLength,
    originalLength: payloadLength,
  };
  const meta: RecordMeta = { ...header, name: recordName(type, "flash", seq), backend: "flash" };
  delete (meta as Partial<typeof header>).part;
  const per = Math.ceil(payloadLength / parts);
  const images = Array.from({ length: parts }, (_, part) => {
    const piece = payload.subarray(part * per, Math.min(payloadLength, (part + 1) * per));
    return encodeRecord(crc32, { ...header, part, seq: seq + part, storedLength: piece.length }, piece);
  });
  return { meta, image: images[0], more: images.slice(1) };
}

/** The record CRC word (header bytes 40..43) of every part of a stored record: the content the archive must hold. */
export function partCrcs(record: StoredRecord): string[] {
  return [record.image, ...(record.more ?? [])].map((image) => getU32(image, 40).toString(16).padStart(8, "0"));
}

/** The service's data side over a list of records and raw dump areas, as the firmware wiring would give it. */
/** Board and serial number the fake device reports in its status (the archive's device folder: "TEST_0123abcd"). */
export const HOSTILE_IDENTITY = { board: "TEST", serial: "0123abcd" };

export function fakeTarget(
  records: StoredRecord[],
  io: Pick<ServiceTarget, "print" | "defer">,
  dump: { spans: Uint8Array[]; retained: Uint8Array } = { spans: [], retained: new Uint8Array(0) },
  identity: object = HOSTILE_IDENTITY,
): ServiceTarget {
  return {
    list: () => records.map((r) => r.meta),
    readPart: (name, part) => {
      const record = records.find((r) => r.meta.name === name);
      return part === 0 ? record?.image : record?.more?.[part - 1];
    },
    erase: (name) => {
      const index = records.findIndex((r) => r.meta.name === name);
      if (index >= 0) records.splice(index, 1);
      return index >= 0;
    },
    status: () => ({ records: records.length, backends: ["flash"], ...identity }),
    dumpInfo: (): DumpInfo => ({
      spans: dump.spans.map((bytes, i) => ({ addr: 0x60000 + i * 0x1000, size: bytes.length })),
      retained: dump.retained.length,
    }),
    dumpRead: (area, offset, length) => (area === -1 ? dump.retained : dump.spans[area]).subarray(offset, offset + length),
    crc32,
    base64: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64"),
    bytes: (text) => new Uint8Array(Buffer.from(text, "latin1")),
    print: io.print,
    defer: io.defer,
  };
}

export interface HostileScript {
  /** Sent as soon as the device starts, before any prompt. */
  greeting?: string;
  /** Sees every line the service prints (frame headers and payloads, counted from 0); returns what to send instead, or null to drop it. */
  mutateLine?: (line: string, index: number) => string | null;
  /** After this many output bytes the device goes silent (still reads input, answers nothing). */
  stallAfterBytes?: number;
  /** After this many output bytes the device hangs up the line. */
  hangUpAfterBytes?: number;
  /** Inserts XON and XOFF after every this many output bytes. */
  flowControlEvery?: number;
  /** Prints a timer-style line (`\r\x1b[J…\r\n>`) this often, in ms. */
  chatterMs?: number;
  /** No pstore module on the device: every request line fails as the REPL reports a missing module. */
  noService?: boolean;
  /** Service calls this (older) device does not have: requesting one raises, as Espruino does for a missing function. */
  withoutCalls?: string[];
  /** The status reports no serial number (two such devices cannot be told apart). */
  noSerial?: boolean;
  /** Fields added to the status answer. */
  statusExtra?: object;
  /** Rewrites an intact frame (payload decoded); the result is sent with a correct check, so it arrives intact. */
  rewriteFrame?: (frame: { id: number; kind: string; arg: number; payload: Buffer }) => { id?: number; kind?: string; arg?: number; payload?: Buffer };
  /** After answering a request, floods the line with `[PS1 ` (a frame tag and nothing more) until the next one. */
  floodTags?: boolean;
  /** After this many output bytes, every further byte is sent alone, this many ms apart (a payload dripping in). */
  drip?: { afterBytes: number; msPerByte: number };
  /** What the device's status call answers, instead of a plain one. */
  status?: () => object;
}

const SERVICE_EXPR = DEFAULT_SERVICE;
/** What the host types (tools/protocol/client.ts requestLine): the call, and the X frame to print if it throws. */
const REQUEST = /^\x10try\{(.*)\.([a-z])\((.*)\)\}catch\(e\)\{print\(("(?:[^"\\]|\\.)*")\);print\(("(?:[^"\\]|\\.)*")\)\}$/;

export class HostileDevice {
  readonly service: Service;
  /** Every request line the device executed, without the DLE. */
  readonly requests: string[] = [];
  /** Lines that raised at the REPL: each would be stored as an uncaught exception by pstore on a real device. */
  uncaught = 0;
  private input = "";
  private sent = 0;
  private lines = 0;
  private chatter: NodeJS.Timeout | undefined;
  private stepOutput = false;
  private stopped = false;
  private pendingHeader: string | undefined;
  private flooding: NodeJS.Timeout | undefined;
  private dripQueue: Buffer[] = [];
  private dripping: NodeJS.Timeout | undefined;

  constructor(
    private readonly port: Port,
    records: StoredRecord[],
    private readonly script: HostileScript = {},
    dump?: { spans: Uint8Array[]; retained: Uint8Array },
  ) {
    const target = fakeTarget(
      records,
      {
        print: (line) => this.printLine(line),
        defer: (fn) =>
          setImmediate(() => {
            if (this.stopped) return;
            this.stepOutput = false;
            fn();
            if (this.stepOutput) this.output(">");
          }),
      },
      dump,
      script.noSerial ? {} : { ...HOSTILE_IDENTITY, ...script.statusExtra },
    );
    if (script.status) target.status = script.status;
    this.service = createService(target);
    port.on("data", (bytes) => this.onInput(bytes));
    port.on("close", () => this.stop());
    if (script.greeting) this.output(script.greeting);
    this.output(">");
    if (script.chatterMs) this.chatter = setInterval(() => this.output("\r\x1b[Jtick from a user timer\r\n>"), script.chatterMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.chatter);
    clearInterval(this.flooding);
    clearInterval(this.dripping);
  }

  /** Raw bytes straight onto the line, as a glitch or another program would put them. */
  inject(text: string): void {
    this.output(text);
  }

  private printLine(printed: string): void {
    const index = this.lines++;
    const line = this.script.rewriteFrame ? this.rewrite(printed) : printed;
    if (line === undefined) return;
    const text = this.script.mutateLine ? this.script.mutateLine(line, index) : line;
    if (text === null) return;
    // Output from a timer first erases the prompt line, as Espruino does.
    this.output((this.stepOutput ? "" : "\r\x1b[J") + text + "\r\n");
    this.stepOutput = true;
  }

  /** Holds a frame's header line until its payload line comes, then sends both as rewriteFrame made them. */
  private rewrite(line: string): string | undefined {
    if (this.pendingHeader === undefined && line.startsWith(FRAME_TAG)) {
      this.pendingHeader = line;
      return undefined;
    }
    if (this.pendingHeader === undefined) return line;
    const [id, kind, arg] = this.pendingHeader.slice(FRAME_TAG.length, -1).split(" ");
    this.pendingHeader = undefined;
    const frame = { id: Number(id), kind, arg: Number(arg), payload: Buffer.from(line, "base64") };
    const out = { ...frame, ...this.script.rewriteFrame!(frame) };
    const text = out.payload.toString("base64");
    const check = frameCheck(crc32, out.id, out.kind, out.arg, text.length, crc32(out.payload));
    this.output(`${this.stepOutput ? "" : "\r\x1b[J"}${FRAME_TAG}${out.id} ${out.kind} ${out.arg} ${text.length} ${check.toString(16)}]\r\n`);
    this.stepOutput = true;
    return text;
  }

  private onInput(bytes: Uint8Array): void {
    for (const byte of bytes) {
      const c = String.fromCharCode(byte);
      if (c === "\x03") {
        this.input = "";
      } else if (c === "\n") {
        const line = this.input.replace(/\r$/, "");
        this.input = "";
        this.execute(line);
      } else {
        this.input += c;
        // ESC [ 2 H erases the input line, as Espruino's REPL does.
        if (this.input.endsWith("\x1b[2H")) this.input = "";
      }
    }
  }

  private execute(line: string): void {
    if (!line.startsWith("\x10")) {
      // Echo, no result worth printing, prompt.
      this.output(line + "\r\n>");
      return;
    }
    this.requests.push(line.slice(1));
    if (this.script.floodTags) {
      clearInterval(this.flooding);
      this.flooding = setInterval(() => this.output(FRAME_TAG.repeat(2000)), 1);
    }
    const match = REQUEST.exec(line);
    if (!match) {
      // Not a guarded call: it raises at the REPL, and a device running pstore stores that as a crash.
      this.uncaught++;
      this.output("Uncaught SyntaxError: Got ?\r\n>");
      return;
    }
    if (match[1] !== SERVICE_EXPR || this.script.noService || this.script.withoutCalls?.includes(match[2])) {
      // The call throws (no module, no such function): the line's catch prints the frame the host prepared.
      this.output(`${JSON.parse(match[4])}\r\n${JSON.parse(match[5])}\r\n>`);
      return;
    }
    const fn = (this.service as unknown as Record<string, (...args: unknown[]) => void>)[match[2]];
    const before = this.lines;
    this.stepOutput = true;
    fn(...(JSON.parse(`[${match[3]}]`) as unknown[]));
    // Espruino shows the prompt again only when the line printed something.
    if (this.lines !== before) this.output(">");
  }

  private output(text: string): void {
    if (this.stopped || !this.port.isOpen) return;
    let bytes = Buffer.from(text, "latin1");
    const every = this.script.flowControlEvery;
    if (every) {
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; i++) {
        parts.push(bytes.subarray(i, i + 1));
        if ((this.sent + i + 1) % every === 0) parts.push(Buffer.from([0x13, 0x11]));
      }
      bytes = Buffer.concat(parts);
    }
    const { stallAfterBytes, hangUpAfterBytes } = this.script;
    if (stallAfterBytes !== undefined && this.sent + bytes.length > stallAfterBytes) {
      bytes = bytes.subarray(0, Math.max(0, stallAfterBytes - this.sent));
    }
    if (hangUpAfterBytes !== undefined && this.sent + bytes.length >= hangUpAfterBytes) {
      this.port.write(bytes.subarray(0, Math.max(0, hangUpAfterBytes - this.sent)));
      this.sent = hangUpAfterBytes;
      this.stop();
      void this.port.close();
      return;
    }
    const drip = this.script.drip;
    if (drip && this.sent + bytes.length > drip.afterBytes) {
      const now = Math.max(0, drip.afterBytes - this.sent);
      if (now > 0) this.port.write(bytes.subarray(0, now));
      for (let i = now; i < bytes.length; i++) this.dripQueue.push(bytes.subarray(i, i + 1));
      this.sent += bytes.length;
      this.dripping ??= setInterval(() => {
        const next = this.dripQueue.shift();
        if (next && this.port.isOpen) this.port.write(next);
      }, drip.msPerByte);
      return;
    }
    this.sent += bytes.length;
    if (bytes.length > 0) this.port.write(bytes);
  }
}
