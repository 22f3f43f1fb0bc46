// One record as fetched (its parts, each the stored bytes from the header on) turned into what the archive
// keeps: verified against its CRCs, parts joined, decompressed, decoded. Never throws on bad data: a record
// that does not verify or decode comes back as an outcome other than "ok", with the bytes to archive raw; a drop
// marker comes back "dropped", with no file (it has no content, its index line is the whole record).

import {
  COMMIT_WORD,
  Codec,
  Flag,
  RECORD_HEADER_SIZE,
  RecordType,
  decodeRecordHeader,
  getU32,
  recordCrc,
  recordSize,
  reasonName,
  typeName,
  type DecodedRecordHeader,
} from "../../pstore/format";
import { heatshrinkDecompress } from "../../pstore/heatshrink";
import { lz4Decompress } from "../../pstore/lz4";
import { crc32 } from "../../hal/sim/crc";
import { concatBytes } from "../bytes";
import { JSON_SCHEMA_VERSION } from "../json/version";
import { decodeTrace } from "./ftrace-text";
import { replText } from "../protocol/repl-text";
import { codecName, recordJson, type IndexEntry, type RecordOutcome } from "./record-json";
import { checkRecordName } from "./safe-names";

/** No real record comes near this; a header claiming more is not trusted with an allocation. */
export const MAX_ORIGINAL_LENGTH = 16 * 1024 * 1024;

const CODEC_SUFFIX = ["raw", "lz4", "hs"];
const TEXT_TYPES: number[] = [RecordType.Dmesg, RecordType.Console, RecordType.Pmsg, RecordType.Event];

export interface RecordFile {
  /** Appended to the name the record is archived under: "" for the content, ".raw", ".corrupt", ".enc.lz4"… */
  suffix: string;
  data: Uint8Array;
}

export interface DecodedRecord {
  name: string;
  /** Header of the first part; undefined only when not even that verified. */
  header?: DecodedRecordHeader;
  outcome: RecordOutcome;
  problem?: string;
  /** Files to write into the record's boot folder; the first one is what `pstore cat` prints. */
  files: RecordFile[];
  /** Decoded content as text (the view, without REPL control codes), for text types and traces: dmesg.txt, summary. */
  text?: string;
  storedLength: number;
  /** Record CRC of every part, 8 hex digits each, when every part verified; empty for a corrupt record. */
  crcs: string[];
}

export function describeHeader(h: DecodedRecordHeader): string {
  return `${typeName(h.type)} ${reasonName(h.reason)} boot ${h.boot} seq ${h.seq}`;
}

/**
 * `name` must be a well-formed record name (checked: it becomes a file name); `parts` are the stored bytes of each
 * part in order, header first. Throws only for a refused name.
 */
export function decodeRecord(name: string, parts: Uint8Array[]): DecodedRecord {
  const parsed = checkRecordName(name);
  const joinedRaw = concatBytes(parts);
  const corrupt = (problem: string, header?: DecodedRecordHeader): DecodedRecord => ({
    name,
    header,
    outcome: "corrupt",
    problem: `${name}: ${problem}`,
    files: [{ suffix: ".corrupt", data: joinedRaw }],
    storedLength: joinedRaw.length,
    crcs: [],
  });

  if (parts.length === 0) return corrupt("no parts arrived");
  const headers: DecodedRecordHeader[] = [];
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const h = decodeRecordHeader(part, crc32);
    if (!h) return corrupt(`part ${i}: not a valid record header (magic, version or header CRC wrong)`, headers[0]);
    const first = headers[0] ?? h;
    if (h.part !== i || h.parts !== parts.length) return corrupt(`part ${i}: header says part ${h.part} of ${h.parts}, but ${parts.length} parts arrived`, first);
    if (h.type !== parsed.type || h.seq !== ((parsed.seq + i) >>> 0)) {
      return corrupt(`part ${i}: header is ${describeHeader(h)}, which does not match the name`, first);
    }
    if (h.codec !== first.codec || h.boot !== first.boot || h.originalLength !== first.originalLength) {
      return corrupt(`part ${i}: codec, boot or original length differ from part 0`, first);
    }
    if (part.length < RECORD_HEADER_SIZE + h.storedLength) {
      return corrupt(`part ${i}: header says ${h.storedLength} payload bytes but only ${part.length - RECORD_HEADER_SIZE} arrived`, first);
    }
    if (recordCrc(crc32, part, h.storedLength) !== h.recordCrc) return corrupt(`part ${i}: record CRC does not match the payload`, first);
    // The commit word is written last (FORMAT.md): without it the record is not complete, whatever the CRC says.
    if (part.length !== recordSize(h.storedLength) || getU32(part, part.length - 4) !== COMMIT_WORD) {
      return corrupt(`part ${i}: no commit word after the payload (${part.length} bytes, ${recordSize(h.storedLength)} expected)`, first);
    }
    headers.push(h);
    payloads.push(part.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + h.storedLength));
  }
  const header = headers[0];
  const stored = concatBytes(payloads);
  const base = { name, header, storedLength: stored.length, crcs: headers.map((h) => h.recordCrc.toString(16).padStart(8, "0")) };
  if (isDropMarker(header, stored)) {
    return {
      ...base,
      outcome: "dropped",
      problem: `${name}: not kept: its zone was full when this ${typeName(header.type)} record of ${header.originalLength} bytes was written (drop marker)`,
      files: [],
    };
  }

  let decoded: Uint8Array;
  try {
    decoded = decompress(header, stored);
  } catch (error) {
    return {
      ...base,
      outcome: "undecoded",
      problem: `${name}: ${(error as Error).message}`,
      files: [{ suffix: `.enc.${CODEC_SUFFIX[header.codec] ?? `codec${header.codec}`}`, data: stored }],
    };
  }

  if (header.type === RecordType.Ftrace) {
    try {
      const text = decodeTrace(decoded, header);
      return { ...base, outcome: "ok", files: [{ suffix: "", data: new TextEncoder().encode(text) }], text };
    } catch (error) {
      return {
        ...base,
        outcome: "undecoded",
        problem: `${name}: trace does not decode: ${(error as Error).message}`,
        files: [{ suffix: ".undecoded", data: decoded }],
      };
    }
  }
  if (!TEXT_TYPES.includes(header.type)) return { ...base, outcome: "ok", files: [{ suffix: "", data: decoded }] };
  // The text view leaves out the REPL's control codes; when that changes anything, the bytes as stored go beside it.
  const asStored = new TextDecoder().decode(decoded);
  const text = replText(asStored);
  const files = text === asStored ? [{ suffix: "", data: decoded }] : [{ suffix: "", data: new TextEncoder().encode(text) }, { suffix: ".raw", data: decoded }];
  return { ...base, outcome: "ok", files, text };
}

/** Header only, no payload: what a full keep-first or priority zone writes in place of the record (FORMAT.md). */
function isDropMarker(h: DecodedRecordHeader, stored: Uint8Array): boolean {
  return (h.flags & Flag.Drop) !== 0 && stored.length === 0;
}

function decompress(h: DecodedRecordHeader, stored: Uint8Array): Uint8Array {
  const truncated = (h.flags & Flag.Truncated) !== 0;
  if (h.originalLength > MAX_ORIGINAL_LENGTH) {
    throw new Error(`original length ${h.originalLength} is beyond any record (limit ${MAX_ORIGINAL_LENGTH})`);
  }
  let out: Uint8Array;
  if (h.codec === Codec.Raw) {
    out = stored;
  } else if (h.codec === Codec.Lz4) {
    const dst = new Uint8Array(h.originalLength);
    out = dst.subarray(0, lz4Decompress(stored, dst));
  } else if (h.codec === Codec.Heatshrink) {
    out = heatshrinkDecompress(stored, h.originalLength);
  } else {
    throw new Error(`unknown codec ${h.codec}`);
  }
  if (out.length !== h.originalLength && !(truncated && out.length < h.originalLength)) {
    throw new Error(`${codecName(h.codec)} payload decodes to ${out.length} bytes, header says ${h.originalLength}`);
  }
  return out;
}

/** The record's line in records.jsonl: what the header says, how it decoded, which files hold it (`archivedAs`…). */
export function indexEntryOf(deviceId: string, record: DecodedRecord, boot: number, archivedAs: string): IndexEntry {
  const header = record.header;
  const facts = header
    ? { ...header, name: record.name, storedLength: record.storedLength }
    : { name: record.name, type: 0, reason: 0, codec: 0, flags: 0, parts: 0, boot, seq: 0, time: 0, uptime: 0, storedLength: record.storedLength, originalLength: 0 };
  return {
    schema: JSON_SCHEMA_VERSION,
    kind: "record",
    ...recordJson(facts),
    device: deviceId,
    archivedAs,
    outcome: record.outcome,
    ...(record.problem ? { problem: record.problem } : {}),
    files: record.files.map((f) => archivedAs + f.suffix),
    crcs: record.crcs,
    archivedAt: new Date().toISOString(),
  };
}
