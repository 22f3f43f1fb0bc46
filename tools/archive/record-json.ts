// A record as JSON (docs/JSON.md): the fields `pstore list --json`, `pull --json`, `decode --json` and every line
// of records.jsonl share, spelled once here, so the same thing has the same name everywhere.

import { Flag, parseRecordName, reasonName, typeName } from "../../pstore/format";

const CODEC_NAMES = ["raw", "lz4", "heatshrink"];

export function codecName(codec: number): string {
  return CODEC_NAMES[codec] ?? `codec${codec}`;
}

function flagNames(flags: number): string[] {
  const names: string[] = [];
  if (flags & Flag.TimeValid) names.push("time");
  if (flags & Flag.Truncated) names.push("truncated");
  if (flags & Flag.Drop) names.push("drop");
  if (flags & Flag.FtraceNames) names.push("ftrace-names");
  return names;
}

/** What a record header or a listing entry says about a record, as numbers. */
export interface RecordFacts {
  name: string;
  type: number;
  reason: number;
  codec: number;
  flags: number;
  parts: number;
  boot: number;
  seq: number;
  /** Seconds since 1970, meaningful with flag `time`. */
  time: number;
  uptime: number;
  storedLength: number;
  originalLength: number;
}

export interface RecordJson {
  name: string;
  backend: string;
  boot: number;
  seq: number;
  type: string;
  typeCode: number;
  reason: string;
  reasonCode: number;
  codec: string;
  codecCode: number;
  flags: string[];
  flagBits: number;
  parts: number;
  /** ISO time of the write when the device clock was set, otherwise null. */
  time: string | null;
  uptimeMs: number;
  storedBytes: number;
  originalBytes: number;
}

/** How a record came out of verification and decoding. */
export type RecordOutcome =
  /** Verified and decoded: the archive file holds the decoded content. */
  | "ok"
  /** CRC holds but it would not decompress or decode: archived as stored, under a name that says so. */
  | "undecoded"
  /** The record CRC does not hold: archived as received, and left on the device (a new pull may fetch it intact). */
  | "corrupt"
  /** A drop marker: a keep-first or priority zone was full, so the record was not kept. Indexed, no file. */
  | "dropped";

/** One line of records.jsonl. */
export interface IndexEntry extends RecordJson {
  schema: number;
  kind: "record";
  device: string;
  /** The name the archive files carry: the record's name, or `name~2`… for another record that had the same name. */
  archivedAs: string;
  outcome: RecordOutcome;
  /** Why the outcome is not "ok". */
  problem?: string;
  /** Archive files written for this record, relative to its boot folder. */
  files: string[];
  /** Record CRC of every part, 8 hex digits each: the content the archive holds (empty when it did not verify). */
  crcs: string[];
  archivedAt: string;
}

export function recordJson(r: RecordFacts): RecordJson {
  return {
    name: r.name,
    backend: parseRecordName(r.name)?.backend ?? "unknown",
    boot: r.boot,
    seq: r.seq,
    type: typeName(r.type),
    typeCode: r.type,
    reason: reasonName(r.reason),
    reasonCode: r.reason,
    codec: codecName(r.codec),
    codecCode: r.codec,
    flags: flagNames(r.flags),
    flagBits: r.flags,
    parts: r.parts,
    time: r.flags & Flag.TimeValid ? new Date(r.time * 1000).toISOString() : null,
    uptimeMs: r.uptime,
    storedBytes: r.storedLength,
    originalBytes: r.originalLength,
  };
}
