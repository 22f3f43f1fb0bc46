// The backend contract (Linux's pstore_info): what the core asks of a medium, and how it checks one at registration.

import { Codec, Reason, RecordHeader, RecordType } from "./format";

/** A whole record as listed: its first part's header fields, with `seq` the first part's (the one in the name). */
export interface RecordMeta extends Omit<RecordHeader, "part"> {
  name: string;
  backend: string;
  /** Stored payload bytes, all parts together. */
  storedLength: number;
}

export interface WriteRequest {
  type: RecordType;
  reason: Reason;
  codec: Codec;
  flags: number;
  payload: Uint8Array;
  originalLength: number;
  boot: number;
  time: number;
  uptime: number;
}

export interface ZoneStatus {
  name: string;
  types: RecordType[];
  policy: string;
  pages: number;
  bytesUsed: number;
  bytesFree: number;
  /** Prepared empty pages (the crash path's space). */
  sparePages: number;
  /** Largest payload a crash write can store right now, without any erase. */
  crashFree: number;
  eraseMin: number;
  eraseMax: number;
  records: number;
  drops: number;
  /** Pages waiting for an erase at idle. */
  pendingErases: number;
}

export interface BackendStatus {
  name: string;
  state: "ok" | "failed";
  error?: string;
  nextSeq?: number;
  zones?: ZoneStatus[];
  /** ram backend: the crash counter and the console bytes held in retained RAM. */
  crashCount?: number;
  consoleBytes?: number;
}

export interface Backend {
  name: string;
  types: RecordType[];
  /** Scans the medium (boot scan); throws when the medium is unusable. */
  open(): void;
  /** Highest boot counter found on the medium (0 when none). */
  lastBoot(): number;
  /** The store's boot counter for this run (1 + the highest lastBoot() of all backends), used for page watermarks. */
  setBoot(boot: number): void;
  list(): RecordMeta[];
  /** Raw bytes of one part as stored (header … commit word), or undefined. */
  read(seq: number, part: number): Uint8Array | undefined;
  /** The stored payload, parts joined, or undefined when the record is gone. */
  readPayload(meta: RecordMeta): Uint8Array | undefined;
  /** Stores a record and returns its name; undefined when it was dropped (zone full under its policy). May erase. */
  write(req: WriteRequest): string | undefined;
  /** As write, but never erases: uses only space prepared beforehand. */
  writeCrash(req: WriteRequest): string | undefined;
  erase(seq: number): boolean;
  /** Does one piece of deferred work (an erase or a page preparation); returns whether work remains. */
  idle(): boolean;
  status(): BackendStatus;
}

/** Why `b` cannot be registered next to `others`, or undefined when it can. */
export function backendProblem(b: Backend, others: Backend[]): string | undefined {
  const methods = "open lastBoot setBoot list read readPayload write writeCrash erase idle status".split(" ");
  const name = b && b.name;
  if (typeof name !== "string" || !/^[a-z0-9_]+$/.test(name)) return "backend name " + name + " is not lowercase letters, digits or _";
  for (let i = 0; i < others.length; i++) if (others[i].name === name) return name + " is already registered";
  if (!b.types || !b.types.length) return name + " stores no record type";
  for (let i = 0; i < b.types.length; i++) if (!(b.types[i] >= RecordType.Dmesg && b.types[i] <= RecordType.Event)) return name + ": unknown record type " + b.types[i];
  for (let i = 0; i < methods.length; i++) if (typeof (b as any)[methods[i]] !== "function") return name + " lacks method " + methods[i] + "()";
  return undefined;
}
