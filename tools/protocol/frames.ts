// The host half of the frame grammar (docs/PROTOCOL.md, "Frames"): an incremental parser over everything the
// console sends. Frames are cut out of interleaved output, XON/XOFF bytes are dropped wherever they fall, and every
// fault is reported as a ProtocolError naming what was wrong; the parser then looks for the next frame tag.

import { FRAME_TAG, FrameKind, frameCheck } from "../../firmware/service";
import { crc32 } from "../../hal/sim/crc";
import { ProtocolError } from "./errors";
import { replLine } from "./repl-text";
import { base64Bytes, latin1Bytes } from "../bytes";

export interface Frame {
  id: number;
  kind: FrameKind;
  arg: number;
  /** Decoded payload bytes. */
  payload: Uint8Array;
}

export interface FrameHandlers {
  frame(frame: Frame): void;
  error(error: ProtocolError): void;
  /** A complete line of output outside any frame, as a terminal shows it (replLine), flow-control bytes removed. */
  line?(text: string): void;
}

/** Longest payload field accepted (base64 characters): the device's largest chunk, plus room for JSON answers. */
export const MAX_PAYLOAD_CHARS = 16384;
const MAX_HEADER_CHARS = 64;
/** Longest line of outside output kept for diagnostics. */
const MAX_LINE_CHARS = 256;

const XON = 0x11;
const XOFF = 0x13;
const CR = 0x0d;
const LF = 0x0a;
const TAG = latin1Bytes(FRAME_TAG);
const KINDS = new Set<string>(Object.values(FrameKind));

const enum State {
  Scan,
  Header,
  HeaderEnd,
  Payload,
  PayloadEnd,
}

interface Header {
  id: number;
  kind: FrameKind;
  arg: number;
  length: number;
  check: number;
}

function isBase64Char(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61;
}

/** A decimal field: digits only, at most 10 of them, no larger than a u32. */
function parseU32(field: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(field)) return undefined;
  const value = Number(field);
  return value <= 0xffffffff ? value : undefined;
}

function printable(text: string): string {
  return JSON.stringify(text.length > 60 ? text.slice(0, 60) + "…" : text);
}

/** Strict base64: length a multiple of 4, `=` only as the last one or two characters. */
function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  if (text.indexOf("=") !== -1 && text.indexOf("=") < text.length - pad) return undefined;
  return base64Bytes(text);
}

function parseHeader(text: string): Header | ProtocolError {
  const fields = text.split(" ");
  if (fields.length !== 5) {
    return new ProtocolError("malformed-frame", `frame header ${printable(text)} has ${fields.length} fields, not 5`);
  }
  const [idField, kind, argField, lengthField, checkField] = fields;
  const id = parseU32(idField);
  const arg = parseU32(argField);
  const length = parseU32(lengthField);
  if (id === undefined || arg === undefined || length === undefined || !/^[0-9a-f]{1,8}$/.test(checkField)) {
    return new ProtocolError("malformed-frame", `frame header ${printable(text)} has a malformed number field`);
  }
  if (!KINDS.has(kind)) {
    return new ProtocolError("unknown-kind", `frame ${id} has unknown kind ${printable(kind)}`, { id, kind });
  }
  if (length > MAX_PAYLOAD_CHARS) {
    return new ProtocolError(
      "oversize",
      `frame ${id} (${kind}) announces ${length} payload characters, more than the cap of ${MAX_PAYLOAD_CHARS}`,
      { id, kind },
    );
  }
  return { id, kind: kind as FrameKind, arg, length, check: parseInt(checkField, 16) };
}

export class FrameParser {
  private state = State.Scan;
  private tagMatched = 0;
  private header = "";
  private parsed: Header | undefined;
  private payload: string[] = [];
  private payloadLength = 0;
  private outside = "";

  constructor(private readonly handlers: FrameHandlers) {}

  /** Output outside frames since the last complete line (the prompt `>` ends up here). */
  get partialLine(): string {
    return this.outside;
  }

  push(chunk: Uint8Array): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (c === XON || c === XOFF) continue;
      this.byte(c);
    }
  }

  private byte(c: number): void {
    switch (this.state) {
      case State.Scan:
        return this.scan(c);
      case State.Header:
        if (c === 0x5d /* ] */) {
          const parsed = parseHeader(this.header);
          if (parsed instanceof ProtocolError) return this.fail(parsed);
          this.parsed = parsed;
          this.state = State.HeaderEnd;
          return;
        }
        if (this.header.length >= MAX_HEADER_CHARS || c < 0x20 || c > 0x7e) {
          return this.fail(
            new ProtocolError("malformed-frame", `frame header ${printable(this.header)} broken by byte 0x${hex(c)}`),
            c,
          );
        }
        this.header += String.fromCharCode(c);
        return;
      case State.HeaderEnd:
        if (c === CR) return;
        if (c === LF) {
          this.state = State.Payload;
          this.payload = [];
          this.payloadLength = 0;
          if (this.parsed!.length === 0) this.state = State.PayloadEnd;
          return;
        }
        return this.fail(this.frameError("malformed-frame", `header not followed by a line break (byte 0x${hex(c)})`), c);
      case State.Payload:
        if (c === CR || c === LF) {
          return this.fail(
            this.frameError(
              "short-payload",
              `payload ended after ${this.payloadLength} of the ${this.parsed!.length} characters its length field gives`,
            ),
            c,
          );
        }
        if (!isBase64Char(c)) {
          return this.fail(
            this.frameError("bad-base64", `byte 0x${hex(c)} at payload position ${this.payloadLength} is not base64`),
            c,
          );
        }
        this.payload.push(String.fromCharCode(c));
        if (++this.payloadLength === this.parsed!.length) this.state = State.PayloadEnd;
        return;
      case State.PayloadEnd:
        if (c !== CR && c !== LF) {
          return this.fail(
            this.frameError("long-payload", `payload goes on past the ${this.parsed!.length} characters its length field gives`),
            c,
          );
        }
        return this.finish(c);
    }
  }

  private scan(c: number): void {
    if (c === TAG[this.tagMatched]) {
      if (++this.tagMatched === TAG.length) {
        this.tagMatched = 0;
        this.state = State.Header;
        this.header = "";
        // The tag's own characters were shown as outside text; they belong to the frame.
        this.outside = this.outside.slice(0, Math.max(0, this.outside.length - (TAG.length - 1)));
      } else {
        this.addOutside(c);
      }
      return;
    }
    this.tagMatched = c === TAG[0] ? 1 : 0;
    this.addOutside(c);
  }

  private addOutside(c: number): void {
    if (c === LF) {
      const line = replLine(this.outside);
      this.outside = "";
      if (line !== "") this.handlers.line?.(line);
      return;
    }
    if (this.outside.length < MAX_LINE_CHARS) this.outside += String.fromCharCode(c);
  }

  private finish(terminator: number): void {
    const header = this.parsed!;
    const text = this.payload.join("");
    this.reset();
    const payload = decodeBase64(text);
    if (!payload) {
      this.handlers.error(this.frameError("bad-base64", "payload is not well-formed base64", header));
      return this.scan(terminator);
    }
    const check = frameCheck(crc32, header.id, header.kind, header.arg, header.length, crc32(payload));
    if (check !== header.check) {
      this.handlers.error(
        this.frameError(
          "bad-check",
          `frame check mismatch: header says ${header.check.toString(16)}, content gives ${check.toString(16)}`,
          header,
        ),
      );
      return this.scan(terminator);
    }
    this.handlers.frame({ id: header.id, kind: header.kind, arg: header.arg, payload });
    this.scan(terminator);
  }

  private frameError(code: ProtocolError["code"], detail: string, header = this.parsed): ProtocolError {
    return header
      ? new ProtocolError(code, `frame ${header.id} (${header.kind} at ${header.arg}): ${detail}`, {
          id: header.id,
          kind: header.kind,
        })
      : new ProtocolError(code, `frame: ${detail}`);
  }

  /** Reports `error`, then goes back to scanning, giving the byte that broke the frame a chance to start the next one. */
  private fail(error: ProtocolError, c?: number): void {
    this.reset();
    this.handlers.error(error);
    if (c !== undefined) this.scan(c);
  }

  private reset(): void {
    this.state = State.Scan;
    this.parsed = undefined;
    this.header = "";
    this.payload = [];
    this.payloadLength = 0;
  }
}

function hex(c: number): string {
  return c.toString(16).padStart(2, "0");
}
