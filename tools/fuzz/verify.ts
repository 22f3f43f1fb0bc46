// An independent checker of stored record parts, written from docs/FORMAT.md alone: it does not import
// pstore/format.ts, so a bug in the shared format code cannot vouch for itself. The fuzz oracles and the soak
// use it to re-verify every record the device lists and every record the host archives as verified.

import { crc32 as crc } from "../../hal/sim/crc";

const RECORD_MAGIC = 0x52545350;
const COMMIT_WORD = 0x21544d43;
const HEADER_BYTES = 48;
const OVERHEAD = 52;

export function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** The fields of a part header a checker needs (read without validation: call partProblem first). */
export interface PartFields {
  type: number;
  part: number;
  parts: number;
  seq: number;
  boot: number;
  storedLength: number;
  originalLength: number;
  codec: number;
}

export function partFields(raw: Uint8Array): PartFields {
  return {
    type: raw[5],
    codec: raw[7],
    part: raw[9],
    parts: raw[10],
    seq: u32(raw, 12),
    boot: u32(raw, 16),
    storedLength: u32(raw, 28),
    originalLength: u32(raw, 32),
  };
}

/**
 * What makes `raw` (one stored part, header through commit word) not a valid, not erased record part under
 * FORMAT.md "Record": magic, version, header length, part index < part count, type != 0, header CRC, record CRC
 * (bytes 0..35, twelve 0xFF, payload), total length 52 + pad4(n), commit word, erase mark. Padding is not
 * checked: FORMAT.md leaves it out of validity. Undefined when the part is valid.
 */
export function partProblem(raw: Uint8Array): string | undefined {
  if (raw.length < OVERHEAD) return `only ${raw.length} bytes, a part has at least ${OVERHEAD}`;
  if (u32(raw, 0) !== RECORD_MAGIC) return "bad record magic";
  if (raw[4] !== 1) return `format version ${raw[4]}`;
  if (raw[11] !== 12) return `header length ${raw[11]} words`;
  if (raw[10] < 1 || raw[9] >= raw[10]) return `part ${raw[9]} of ${raw[10]}`;
  if (raw[5] === 0) return "record type 0";
  if (crc(raw.subarray(0, 36)) !== u32(raw, 36)) return "header CRC does not hold";
  const n = u32(raw, 28);
  const total = OVERHEAD + ((n + 3) & ~3);
  if (raw.length !== total) return `${raw.length} bytes, stored length ${n} needs ${total}`;
  const image = new Uint8Array(HEADER_BYTES + n);
  image.set(raw.subarray(0, 36));
  image.fill(0xff, 36, HEADER_BYTES);
  image.set(raw.subarray(HEADER_BYTES, HEADER_BYTES + n), HEADER_BYTES);
  if (crc(image) !== u32(raw, 40)) return "record CRC does not hold";
  if (u32(raw, total - 4) !== COMMIT_WORD) return "commit word missing";
  if (u32(raw, 44) !== 0xffffffff) return "erase mark programmed (an erased record)";
  return undefined;
}

/** The payload bytes of a valid part. */
export function partPayload(raw: Uint8Array): Uint8Array {
  return raw.subarray(HEADER_BYTES, HEADER_BYTES + u32(raw, 28));
}

/**
 * Problems of a whole record given its parts in order, as listed under `name` (`<type>-<backend>-<seq>`): every
 * part valid, parts numbered 0..k-1 of k, consecutive sequence numbers from the name's, and agreeing on type,
 * part count and boot (FORMAT.md "Multi-part records").
 */
export function recordProblems(name: string, parts: Uint8Array[]): string[] {
  const out: string[] = [];
  const seq = Number(name.slice(name.lastIndexOf("-") + 1));
  if (parts.length === 0) return [`${name}: no parts`];
  let first: PartFields | undefined;
  for (let k = 0; k < parts.length; k++) {
    const problem = partProblem(parts[k]);
    if (problem) {
      out.push(`${name} part ${k}: ${problem}`);
      continue;
    }
    const f = partFields(parts[k]);
    first = first ?? f;
    if (f.part !== k || f.parts !== parts.length) out.push(`${name} part ${k}: header says part ${f.part} of ${f.parts}, ${parts.length} listed`);
    if (f.seq !== ((seq + k) >>> 0)) out.push(`${name} part ${k}: sequence ${f.seq}, the name says ${(seq + k) >>> 0}`);
    if (f.type !== first.type || f.boot !== first.boot) out.push(`${name} part ${k}: type or boot differ from part 0`);
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
