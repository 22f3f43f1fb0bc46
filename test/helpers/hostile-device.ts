// A scriptable fake Espruino for protocol tests: a small REPL (DLE lines, Ctrl-C, prompt, timer-style output)
// around the real firmware/service.ts over an in-memory record store, with hooks that damage what it sends:
// rewritten or dropped lines, garbage, XON/XOFF, chatter, a stall, a hang-up.

import { createService, SERVICE_MODULE, type DumpInfo, type Service, type ServiceTarget } from "../../firmware/service";
import { DEFAULT_SERVICE } from "../../tools/protocol/client";
import type { RecordMeta } from "../../pstore/backend";
import { Codec, encodeRecord, Reason, recordName, RecordType } from "../../pstore/format";
import { crc32 } from "../../hal/sim/crc";
import type { Port } from "../../tools/ports/types";

export interface StoredRecord {
  meta: RecordMeta;
  image: Uint8Array;
}

/** A record image as the core writes it, with a deterministic payload of `payloadLength` bytes. */
export function makeRecord(seq: number, payloadLength: number, type = RecordType.Dmesg): StoredRecord {
  const payload = new Uint8Array(payloadLength);
  let x = seq * 2654435761;
  for (let i = 0; i < payloadLength; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    payload[i] = x >>> 24;
  }
  const header = {
    type,
    reason: Reason.Exception,
    codec: Codec.Raw,
    flags: 0,
    part: 0,
    parts: 1,
    seq,
    boot: 3,
    time: 0,
    uptime: 1000 + seq,
    storedLength: payloadLength,
    originalLength: payloadLength,
  };
  const meta: RecordMeta = { ...header, name: recordName(type, "flash", seq), backend: "flash" };
  delete (meta as Partial<typeof header>).part;
  return { meta, image: encodeRecord(crc32, header, payload) };
}

/** The service's data side over a list of records and raw dump areas, as the firmware wiring would give it. */
export function fakeTarget(
  records: StoredRecord[],
  io: Pick<ServiceTarget, "print" | "defer">,
  dump: { spans: Uint8Array[]; retained: Uint8Array } = { spans: [], retained: new Uint8Array(0) },
): ServiceTarget {
  return {
    list: () => records.map((r) => r.meta),
    readPart: (name, part) => (part === 0 ? records.find((r) => r.meta.name === name)?.image : undefined),
    erase: (name) => {
      const index = records.findIndex((r) => r.meta.name === name);
      if (index >= 0) records.splice(index, 1);
      return index >= 0;
    },
    status: () => ({ records: records.length, backends: ["flash"] }),
    dumpInfo: (): DumpInfo => ({
      spans: dump.spans.map((bytes, i) => ({ addr: 0x60000 + i * 0x1000, size: bytes.length })),
      retained: dump.retained.length,
    }),
    dumpRead: (area, offset, length) => (area === -1 ? dump.retained : dump.spans[area]).subarray(offset, offset + length),
    crc32,
    base64: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64"),
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
}

const SERVICE_EXPR = DEFAULT_SERVICE;
const REQUEST = /^\x10(.*)\.([a-z])\((.*)\)$/;

export class HostileDevice {
  readonly service: Service;
  /** Every request line the device executed, without the DLE. */
  readonly requests: string[] = [];
  private input = "";
  private sent = 0;
  private lines = 0;
  private chatter: NodeJS.Timeout | undefined;
  private stepOutput = false;
  private stopped = false;

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
    );
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
  }

  /** Raw bytes straight onto the line, as a glitch or another program would put them. */
  inject(text: string): void {
    this.output(text);
  }

  private printLine(line: string): void {
    const index = this.lines++;
    const text = this.script.mutateLine ? this.script.mutateLine(line, index) : line;
    if (text === null) return;
    // Output from a timer first erases the prompt line, as Espruino does.
    this.output((this.stepOutput ? "" : "\r\x1b[J") + text + "\r\n");
    this.stepOutput = true;
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
    const match = REQUEST.exec(line);
    if (!match || match[1] !== SERVICE_EXPR || this.script.noService) {
      this.output(`Uncaught Error: Module "${SERVICE_MODULE}" not found\r\n>`);
      return;
    }
    if (this.script.withoutCalls?.includes(match[2])) {
      this.output(`Uncaught Error: Function "${match[2]}" not found!\r\n>`);
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
    this.sent += bytes.length;
    if (bytes.length > 0) this.port.write(bytes);
  }
}
