// Checks on what the device says in JSON: a hostile or broken device gets a ProtocolError naming the field, never
// a half-valid object further into the tool.

import type { RecordMeta } from "../../pstore/backend";
import { parseRecordName } from "../../pstore/format";
import type { DumpInfo } from "../../firmware/service";
import { ProtocolError } from "./errors";
import { latin1Text } from "../bytes";

/** Largest record part or dump area the host accepts from a device (bigger than any board's pstore region). */
export const MAX_TRANSFER_BYTES = 16 * 1024 * 1024;

const U32_FIELDS = ["type", "reason", "codec", "flags", "seq", "boot", "time", "uptime", "storedLength", "originalLength", "parts"] as const;

function isU32(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

function bad(message: string): ProtocolError {
  return new ProtocolError("bad-response", message);
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  const text = latin1Text(bytes);
  try {
    return JSON.parse(text);
  } catch {
    throw bad(`${what}: payload is not JSON: ${JSON.stringify(text.slice(0, 60))}`);
  }
}

/** A record name as the device must spell it; also guards every name the host types into the REPL. */
export function checkName(name: unknown, what: string, code: "bad-response" | "bad-request" = "bad-response"): string {
  if (typeof name !== "string" || name.length > 64 || !parseRecordName(name)) {
    throw new ProtocolError(code, `${what}: record name ${JSON.stringify(String(name).slice(0, 80))} is not <type>-<backend>-<seq>`);
  }
  return name;
}

export function parseRecordMeta(value: unknown, index: number): RecordMeta {
  const what = `listing entry ${index}`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad(`${what} is not an object`);
  const meta = value as Record<string, unknown>;
  const name = checkName(meta.name, what);
  if (typeof meta.backend !== "string" || !/^[a-z0-9_]{1,32}$/.test(meta.backend)) {
    throw bad(`${what} (${name}): backend ${JSON.stringify(meta.backend)} is not a backend name`);
  }
  for (const field of U32_FIELDS) {
    if (!isU32(meta[field])) throw bad(`${what} (${name}): ${field} ${JSON.stringify(meta[field])} is not an unsigned 32-bit integer`);
  }
  if ((meta.parts as number) < 1 || (meta.parts as number) > 255) throw bad(`${what} (${name}): parts ${meta.parts} outside 1..255`);
  return {
    name,
    backend: meta.backend,
    type: meta.type as number,
    reason: meta.reason as number,
    codec: meta.codec as number,
    flags: meta.flags as number,
    seq: meta.seq as number,
    boot: meta.boot as number,
    time: meta.time as number,
    uptime: meta.uptime as number,
    storedLength: meta.storedLength as number,
    originalLength: meta.originalLength as number,
    parts: meta.parts as number,
  };
}

export function parseDumpInfo(value: unknown): DumpInfo {
  const info = value as { spans?: unknown; retained?: unknown } | null;
  if (typeof info !== "object" || info === null || !Array.isArray(info.spans) || info.spans.length > 64) {
    throw bad(`dump info ${JSON.stringify(value)?.slice(0, 80)} is not {spans: [...], retained}`);
  }
  const spans = info.spans.map((span: { addr?: unknown; size?: unknown } | null, index: number) => {
    if (typeof span !== "object" || span === null || !isU32(span.addr) || !isU32(span.size) || span.size > MAX_TRANSFER_BYTES) {
      throw bad(`dump info span ${index} ${JSON.stringify(span)} is not {addr, size} within ${MAX_TRANSFER_BYTES} bytes`);
    }
    return { addr: span.addr, size: span.size };
  });
  if (!isU32(info.retained) || info.retained > MAX_TRANSFER_BYTES) {
    throw bad(`dump info: retained ${JSON.stringify(info.retained)} is not a byte count`);
  }
  return { spans, retained: info.retained };
}

/** The E frame of a get or dump window: [next offset, total size]. */
export function parseWindowEnd(value: unknown, what: string): { next: number; size: number } {
  if (!Array.isArray(value) || value.length !== 2 || !isU32(value[0]) || !isU32(value[1]) || value[0] > value[1]) {
    throw bad(`${what}: window end ${JSON.stringify(value)?.slice(0, 60)} is not [next, size]`);
  }
  if (value[1] > MAX_TRANSFER_BYTES) {
    throw bad(`${what}: device announces ${value[1]} bytes, more than the cap of ${MAX_TRANSFER_BYTES}`);
  }
  return { next: value[0], size: value[1] };
}
