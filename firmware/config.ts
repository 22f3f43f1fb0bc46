// Install-time settings: `require("pstore").start(options)`, or the JSON file `pstore.json` in Storage that the
// boot code passes to start(). Every field is optional; the defaults come from the board definition.

import { DeviceBoard, regionPages } from "../boards/device";
import type { BackendName, CodecName, ZoneConfig } from "../boards/types";
import { checkZones } from "../boards/zone-check";
import { Reason, reasonFromName } from "../pstore/format";

/** The Storage file of settings the boot code starts pstore with (the Bangle.js app's data entry lists it too). */
export const SETTINGS_FILE = "pstore.json";

export interface PstoreOptions {
  /** Zones to lay out on the medium (default: the board's). Changing them on a used medium re-lays its pages. */
  zones?: ZoneConfig[];
  /** "flash" (raw pages) or "storage" (pre-allocated Storage files): the one the bundle was built with (the board's unless `--backend`). */
  backend?: BackendName;
  /** Dump (dmesg, event) only reasons up to this one, by number or name ("exception"); default "errorflag". */
  maxReason?: number | string;
  /** Capture the console through LoopbackA (default true). */
  capture?: boolean;
  /** The one device the captured REPL is reachable on, e.g. "USB"; default: the console device at start, USB, Bluetooth and Telnet. */
  consoleDevice?: string;
  /** Console ring size in bytes (default 1024, 4096 on boards with 8000+ variables). */
  consoleBytes?: number;
  /** Periodic console flush interval; 0 turns it off (default 3600: see the wear arithmetic in pstore/console.ts). */
  consoleFlushSeconds?: number;
  /** pmsg rate limit: at most this many messages in any 60 s (default 10). */
  pmsgPerMinute?: number;
  /** "raw" turns compression off; the only other choice is the codec built into the bundle. */
  codec?: CodecName;
  /** Crash-path compression budget in ms (default 100, see pstore/codec.ts). */
  crashBudgetMs?: number;
  /** ftrace ring entries, 8 bytes each (default 64). */
  ftraceEntries?: number;
  /** A run this long without a crash ends a crash chain (default 60). */
  cleanRunSeconds?: number;
  /** How often idle work (erases, flush checks) runs when nothing is waiting (default 10). */
  idleSeconds?: number;
  /** Longest cause text kept in a dmesg record (default 1024). */
  headlineMax?: number;
  /** pstore explains what it does on the console. */
  debug?: boolean;
}

export interface Settings {
  zones: ZoneConfig[];
  backend: BackendName;
  maxReason: Reason;
  capture: boolean;
  /** "" = no pinned device (see PstoreOptions). */
  consoleDevice: string;
  consoleBytes: number;
  consoleFlushSeconds: number;
  pmsgPerMinute: number;
  codec: CodecName;
  crashBudgetMs: number;
  ftraceEntries: number;
  cleanRunSeconds: number;
  idleSeconds: number;
  headlineMax: number;
  debug: boolean;
}

/**
 * Settings from `options` over the defaults; throws naming the option that is wrong (or unknown: a typo), and a zone
 * list that cannot work as the build's boards/validate.ts would ("<BOARD>: zones[i] (name).field: problem").
 */
export function resolveSettings(board: DeviceBoard, options: PstoreOptions | undefined): Settings {
  const s: any = {
    zones: board.zones,
    backend: board.backend,
    maxReason: Reason.ErrorFlag,
    capture: true,
    consoleDevice: "",
    consoleBytes: board.jsVars >= 8000 ? 4096 : 1024,
    consoleFlushSeconds: 3600,
    pmsgPerMinute: 10,
    codec: board.codec,
    crashBudgetMs: 100,
    ftraceEntries: 64,
    cleanRunSeconds: 60,
    idleSeconds: 10,
    headlineMax: 1024,
    debug: false,
  };
  const o: any = options || {};
  for (const k in o) {
    let v = o[k];
    if (k === "maxReason" && typeof v === "string") v = reasonFromName(v);
    const kind = typeof s[k];
    // Numbers: whole and >= 0 (a reason: one there is); the codec: raw or the bundle's; the backend: the bundle's;
    // zones: a list (checked whole below).
    const ok =
      kind === "number"
        ? v >= 0 && v === Math.floor(v) && (k !== "maxReason" || v <= Reason.User)
        : k === "codec"
          ? v === "raw" || v === board.codec
          : k === "backend"
            ? v === board.backend
            : k === "zones"
              ? v instanceof Array
              : kind !== "undefined" && typeof v === kind;
    if (!ok) throw new Error("pstore option " + k + (kind === "undefined" ? " is unknown" : ": " + JSON.stringify(o[k]) + " will not do"));
    s[k] = v;
  }
  if (s.consoleBytes < 16) throw new Error("pstore options: consoleBytes must be >= 16, got " + s.consoleBytes);
  if (s.idleSeconds < 1) throw new Error("pstore options: idleSeconds must be >= 1, got " + s.idleSeconds);
  checkZones(s.zones, s.backend === "flash" ? regionPages(board).length : undefined, function (field: string, problem: string): never {
    throw new Error(board.name + ": " + field + ": " + problem);
  });
  return s;
}
