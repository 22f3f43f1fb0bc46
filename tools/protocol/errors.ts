// What went wrong on the line, as one error class with a machine-readable code. It is a DeviceError, so the
// command exits with the "device" code without any mapping.

import { DeviceError } from "../cli/errors";

export type ProtocolErrorCode =
  /** A frame header that does not parse (fields, characters, line break after it). */
  | "malformed-frame"
  /** A frame kind letter this host does not know. */
  | "unknown-kind"
  /** A length field above the cap, or a size above what the host accepts. */
  | "oversize"
  /** The payload line ended before the length field said it would. */
  | "short-payload"
  /** The payload went on after the length field said it ended. */
  | "long-payload"
  /** A payload character outside base64, or base64 that is not well formed. */
  | "bad-base64"
  /** The frame check (CRC-32) does not match. */
  | "bad-check"
  /** A well-formed frame that says something impossible (wrong kind for the call, offsets, sizes, JSON shape). */
  | "bad-response"
  /** A frame of the answer never arrived intact (its successor's index or offset shows the gap). */
  | "lost-frame"
  /** The caller asked for something the host refuses to type into the REPL (a malformed record name). */
  | "bad-request"
  /** The REPL printed `Uncaught …` before any frame of the answer: the request line failed, or an application
   *  timer threw just then (hence retried). */
  | "uncaught"
  /** The device answered with an error frame. */
  | "device-error"
  /** No progress on the line for the response timeout. */
  | "timeout"
  /** The port closed. */
  | "disconnected"
  /** No pstore service answered the hello. */
  | "no-service"
  /** The hello could not run on the device: the service module is not installed (or does not load). */
  | "not-installed"
  /** Retries used up; the message names the last failure. */
  | "gave-up";

/** Frame-level faults a resend can cure (line glitches); the rest are the device's or the port's considered answer. */
const RETRYABLE: ReadonlySet<ProtocolErrorCode> = new Set<ProtocolErrorCode>([
  "malformed-frame",
  "unknown-kind",
  "oversize",
  "short-payload",
  "long-payload",
  "bad-base64",
  "bad-check",
  "lost-frame",
  "uncaught",
  "timeout",
]);

export class ProtocolError extends DeviceError {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    /** Header fields of the damaged frame when they could be read: a lost terminal frame is known at once. */
    readonly frame?: { id: number; kind: string },
  ) {
    super(message);
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}
