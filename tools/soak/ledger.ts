// The soak's bookkeeping: what the application was told was stored, what the device lists, what the host archived
// and erased; and the invariants checked after every cycle (docs/RELIABILITY.md, "Soak").
//
// Zones are configured so that nothing may legitimately disappear from pmsg, dmesg and event records: their zones
// are keep-first (a full zone refuses new records, it never drops stored ones). Console and ftrace zones are rings;
// a record of theirs that disappears unarchived is counted as a ring overwrite, not a loss.

import { parseRecordName, typeName } from "../../pstore/format";

/** Record types whose zones never drop a stored record in the soak's configuration. */
export const KEPT_TYPES = ["pmsg", "dmesg", "event"];

export interface ListedRecord {
  name: string;
  seq: number;
  boot: number;
}

export interface LedgerCounts {
  /** Names pmsg() returned. */
  written: number;
  /** pmsg() calls that threw (zone full until the host pulls, rate limit): the app was told. */
  refused: number;
  /** Records archived by the host (each once). */
  archived: number;
  /** Records in keep-first zones, or returned by pmsg(), gone from the device without being archived. */
  lost: number;
  /** Listed records whose bytes failed independent verification. */
  corruptListed: number;
  /** Ring records overwritten before a pull archived them (allowed by the ring policy). */
  ringOverwrites: number;
  /** Distinct records the device listed. */
  seen: number;
  /** Ring records listed again after they had disappeared (page given up, erase cut by a reset). */
  ringReturns: number;
}

export class Ledger {
  readonly problems: string[] = [];
  readonly counts: LedgerCounts = { written: 0, refused: 0, archived: 0, lost: 0, corruptListed: 0, ringOverwrites: 0, seen: 0, ringReturns: 0 };
  /** pmsg names returned to the application and their text, until archived. */
  private readonly promised = new Map<string, string>();
  /** Records listed at the last check and not archived yet. */
  private live = new Map<string, ListedRecord>();
  private readonly archived = new Set<string>();
  /** Archived but maybe not erased yet (a pull cut before the erase): may still be listed. */
  private readonly erasedByHost = new Set<string>();
  private nextSeq: number | undefined;
  /** Ring records that disappeared unarchived (they may come back once). */
  private readonly gone = new Set<string>();

  constructor(private readonly where: () => string) {}

  private problem(text: string): void {
    this.problems.push(`${this.where()}: ${text}`);
  }

  promise(name: string, text: string): void {
    this.counts.written++;
    if (this.promised.has(name) || this.archived.has(name)) this.problem(`pmsg returned ${name}, a name given before`);
    this.promised.set(name, text);
  }

  refuse(): void {
    this.counts.refused++;
  }

  /** The host archived `name` (written: new in the archive) and erased it on the device or not. */
  archive(name: string, written: boolean, erased: boolean, payload: string | undefined): void {
    if (written) {
      if (this.archived.has(name)) this.problem(`${name} archived twice`);
      this.counts.archived++;
      const text = this.promised.get(name);
      if (text !== undefined && payload !== undefined && payload !== text) this.problem(`${name} archived with other bytes than pmsg was given`);
    }
    this.archived.add(name);
    this.promised.delete(name);
    if (erased) this.erasedByHost.add(name);
  }

  /** A damaged record was listed (the caller verified its parts). */
  corrupt(name: string, why: string): void {
    this.counts.corruptListed++;
    this.problem(`listed record ${name} fails verification: ${why}`);
  }

  /**
   * The device's listing now and its next sequence number: the counter never goes back (serial arithmetic),
   * every listed record is older than it, and nothing kept disappeared. A ring record may come back after it
   * disappeared (its page was given up, and power failed before the idle erase): counted, allowed.
   */
  observe(listed: ListedRecord[], nextSeq: number): void {
    const now = new Map(listed.map((r) => [r.name, r]));
    if (this.nextSeq !== undefined && ((nextSeq - this.nextSeq) | 0) < 0) this.problem(`the next sequence number went back from ${this.nextSeq} to ${nextSeq}`);
    this.nextSeq = nextSeq;
    for (const r of listed) {
      if (((r.seq - nextSeq) | 0) >= 0) this.problem(`${r.name} is listed but the next sequence number is ${nextSeq}`);
      if (this.live.has(r.name) || this.archived.has(r.name)) continue;
      if (this.gone.has(r.name)) {
        this.counts.ringReturns++;
        this.gone.delete(r.name);
      } else this.counts.seen++;
    }
    for (const [name] of this.live) {
      if (now.has(name) || this.archived.has(name)) continue;
      const type = typeName(parseRecordName(name)?.type ?? 0);
      if (KEPT_TYPES.includes(type)) {
        this.counts.lost++;
        this.problem(`${name} disappeared from the device before it was archived`);
      } else {
        this.counts.ringOverwrites++;
        this.gone.add(name);
      }
    }
    for (const [name] of this.promised) {
      if (!now.has(name) && !this.archived.has(name) && !this.live.has(name)) {
        this.counts.lost++;
        this.problem(`pmsg returned ${name} but the device does not list it`);
        this.promised.delete(name);
      }
    }
    for (const name of this.erasedByHost) if (now.has(name)) this.problem(`${name} was erased by the host and is listed again`);
    this.live = new Map(listed.filter((r) => !this.archived.has(r.name)).map((r) => [r.name, r]));
  }
}
