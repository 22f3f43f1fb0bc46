// The two things the fuzzer attacks, each with its oracle.
//
// Device: the boot scan and everything after it (`Pstore.start`, list, read, readPart, status, idle, erase,
// write, a reboot) over a mutated image. Acceptable outcomes, precisely:
//   - start, list, read, readPart, status, idle, erase: never throw; idle reaches "no more work" within a bound.
//   - write of a record that fits its zone: returns a name, or undefined (dropped by the zone policy); never throws.
//   - a returned name is listed at once and reads back the bytes written; it is still listed after the other writes
//     unless its zone is a ring or priority zone (a later write may give its page up), and after a reboot.
//   - every listed record re-verifies from FORMAT.md alone (tools/fuzz/verify.ts): CRCs, commit, parts, sequence.
//   - names are unique; a record listed before idle/reboot is still listed after (idle and a clean reboot lose nothing).
//   - bounded work: the flash operations and bytes read by a case stay under a budget proportional to the medium
//     (exceeding it is reported as a hang), no single read is larger than a page, nothing listed is larger than
//     the medium; no flash rule violation (the core never programs a word the chip would refuse).
// Host: `openImageSource` + `collectRecords` (what `pstore decode` runs) over the mutated image file.
//   - openImageSource throws only a DataError, and only when the image file itself (not the flash in it) is damaged.
//   - collectRecords never throws; it writes only inside its output folder; names are unique.
//   - a record archived as "ok" or "undecoded" re-verifies from FORMAT.md; a record that does not is archived as
//     `<name>.corrupt`; every archive file is named after its record.

import type { BoardDefinition } from "../../boards/types";
import { createSimHal, type FlashImage, type SimDevice } from "../../hal/sim/index";
import type { FlashHal, Hal, StorageHal } from "../../hal/types";
import { Pstore } from "../../pstore/core";
import { Reason } from "../../pstore/format";
import { Archive } from "../archive/archive";
import { collectRecords } from "../archive/collect";
import { DurableWriter } from "../archive/durable";
import { DataError } from "../cli/errors";
import { openImageSource } from "../image/source";
import { mediumPages, storedTypes, type MediumPage } from "./corpus";
import { MemoryFs } from "./memory-fs";
import { partPayload, recordProblems, sameBytes } from "./verify";

/** Thrown inside a target when a case spends more work than any correct run could: reported as a hang. */
export class BudgetExceeded extends Error {}

interface Budget {
  /** The only flash the core may read or write: its medium's pages. */
  pages: MediumPage[];
  ops: number;
  bytes: number;
  maxOps: number;
  maxBytes: number;
  maxRead: number;
}

function spend(b: Budget, bytes: number, what: string, addr?: number): void {
  if (addr !== undefined && !b.pages.some((p) => addr >= p.addr && addr + bytes <= p.addr + p.size)) {
    throw new BudgetExceeded(`${what}: ${bytes} bytes at 0x${(addr >>> 0).toString(16)} are not inside one page of the store (addr ${addr})`);
  }
  b.ops++;
  b.bytes += bytes;
  if (bytes > b.maxRead) throw new BudgetExceeded(`${what} of ${bytes} bytes, larger than any page (${b.maxRead})`);
  if (b.ops > b.maxOps || b.bytes > b.maxBytes) {
    throw new BudgetExceeded(`more than ${b.maxOps} flash operations or ${b.maxBytes} bytes read: a hang or unbounded work`);
  }
}

/** The device's HAL with every flash and Storage call counted against the budget. */
function guardedHal(dev: SimDevice, budget: Budget): Hal {
  const hal: Hal = { ...dev.hal };
  const flash = dev.hal.flash;
  if (flash) {
    const guarded: FlashHal = {
      read: (addr, length) => (spend(budget, length, "flash read", addr), flash.read(addr, length)),
      program: (addr, data) => (spend(budget, data.length, "flash program", addr), flash.program(addr, data)),
      erase: (addr) => (spend(budget, 0, "flash erase", addr), flash.erase(addr)),
    };
    hal.flash = guarded;
  }
  const storage = dev.hal.storage;
  if (storage) {
    const guarded: StorageHal = {
      read: (name, offset, length, into) => (spend(budget, length, `Storage read of ${name}`), storage.read(name, offset, length, into)),
      create: (name, size) => (spend(budget, 0, "create"), storage.create(name, size)),
      write: (name, offset, data) => (spend(budget, 0, "write"), storage.write(name, offset, data)),
      remove: (name) => (spend(budget, 0, "remove"), storage.remove(name)),
    };
    hal.storage = guarded;
  }
  return hal;
}

function mediumBytes(board: BoardDefinition): number {
  if (board.backend === "flash") return board.region ? board.region.size : 0;
  return board.zones.reduce((n, z) => n + z.pages, 0) * board.storagePageSize;
}

function largestPage(board: BoardDefinition): number {
  return board.backend === "flash" ? Math.max(...board.flash.map((s) => s.size)) : board.storagePageSize;
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e);
}

interface Listed {
  name: string;
  payload: Uint8Array;
}

/** Lists the store and re-verifies every record; returns name → payload, pushing problems. */
function checkListed(store: Pstore, bound: number, problems: string[], when: string): Map<string, Listed> {
  const out = new Map<string, Listed>();
  const metas = store.list();
  if (metas.length > bound / 52) problems.push(`${when}: ${metas.length} records listed, more than ${bound} bytes can hold`);
  for (const meta of metas) {
    if (out.has(meta.name)) {
      problems.push(`${when}: ${meta.name} listed twice`);
      continue;
    }
    if (!(meta.parts >= 1 && meta.parts <= 255) || meta.storedLength > bound) {
      problems.push(`${when}: ${meta.name} claims ${meta.parts} parts, ${meta.storedLength} bytes`);
      continue;
    }
    const parts: Uint8Array[] = [];
    for (let k = 0; k < meta.parts; k++) {
      const raw = store.readPart(meta.name, k);
      if (!raw) {
        problems.push(`${when}: ${meta.name} part ${k} is listed but readPart returns nothing`);
        break;
      }
      parts.push(raw);
    }
    if (parts.length !== meta.parts) continue;
    const bad = recordProblems(meta.name, parts);
    if (bad.length) {
      problems.push(...bad.map((p) => `${when}: listed record fails verification: ${p}`));
      continue;
    }
    const joined = Buffer.concat(parts.map(partPayload));
    const read = store.read(meta.name);
    if (!read) problems.push(`${when}: ${meta.name} is listed but read() returns nothing`);
    else if (!sameBytes(read.payload, joined)) problems.push(`${when}: ${meta.name}: read() differs from its verified parts`);
    else if (meta.storedLength !== joined.length) problems.push(`${when}: ${meta.name}: listed length ${meta.storedLength}, parts hold ${joined.length}`);
    out.set(meta.name, { name: meta.name, payload: joined });
  }
  return out;
}

/** True when record `name` lives in a ring or priority zone, where a later write may give its page up. */
function mayOverwrite(board: BoardDefinition, name: string): boolean {
  const type = name.slice(0, name.indexOf("-"));
  return board.zones.some((z) => z.policy !== "keep-first" && (z.types as string[]).includes(type));
}

function idleToEnd(store: Pstore, pages: number, problems: string[], when: string): void {
  const bound = 4 * pages + 8;
  for (let i = 0; i < bound; i++) if (!store.idle()) return;
  problems.push(`${when}: idle() still has work after ${bound} calls`);
}

/**
 * Runs the device target on `image`. Returns the problems found. Everything it writes is a fixed function of the
 * image, so replaying an image file replays the case.
 */
export function deviceTarget(board: BoardDefinition, image: FlashImage): string[] {
  const problems: string[] = [];
  const bound = mediumBytes(board);
  const pages = board.zones.reduce((n, z) => n + z.pages, 0);
  const budget: Budget = { pages: [], ops: 0, bytes: 0, maxOps: 40 * Math.ceil(bound / 52) + 20000, maxBytes: 60 * bound + 2_000_000, maxRead: largestPage(board) };
  let dev: SimDevice;
  try {
    dev = createSimHal(board, { seed: 1, image });
  } catch (e) {
    return [`the simulator refused the image: ${message(e)}`];
  }
  if (board.backend === "flash") budget.pages = mediumPages(dev);
  const hal = guardedHal(dev, budget);
  const boot = (when: string): Pstore | undefined => {
    try {
      const store = new Pstore(hal, { board, ram: !!board.retained });
      store.start();
      // start() survives a backend that throws by marking it failed: for the oracle that is the same as throwing.
      for (const b of store.status().backends) if (b.state !== "ok") problems.push(`${when}: backend ${b.name} failed: ${b.error}`);
      return store;
    } catch (e) {
      problems.push(`${when}: start() threw ${message(e)}`);
      return undefined;
    }
  };
  let phase = "first boot";
  try {
    let store = boot(phase);
    if (!store || problems.length) return problems;
    const first = checkListed(store, bound, problems, phase);
    const status = store.status();
    if (!(status.boot >= 1)) problems.push(`${phase}: boot counter ${status.boot}`);
    phase = "idle after the first boot";
    idleToEnd(store, pages, problems, phase);
    const afterIdle = checkListed(store, bound, problems, phase);
    for (const name of first.keys()) if (!afterIdle.has(name)) problems.push(`${phase}: ${name} was listed before idle and is gone`);

    phase = "writes";
    const written = new Map<string, Uint8Array>();
    for (const type of storedTypes(board)) {
      for (const crash of [false, true]) {
        const payload = new Uint8Array(type * 23 + (crash ? 41 : 5));
        for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + type) & 0xff;
        let name: string | undefined;
        try {
          name = store.write(type, crash ? Reason.Panic : Reason.User, payload, { crash });
        } catch (e) {
          if (e instanceof BudgetExceeded) throw e;
          problems.push(`${phase}: write of ${payload.length} bytes of type ${type}${crash ? " (crash)" : ""} threw ${message(e)}`);
          continue;
        }
        if (name === undefined) continue;
        if (written.has(name) || afterIdle.has(name)) problems.push(`${phase}: write returned ${name}, a name already in use`);
        written.set(name, payload);
        if (!store.list().some((m) => m.name === name)) problems.push(`${phase}: ${name} was written but is not listed at once`);
        else if (!sameBytes(store.read(name)?.payload ?? new Uint8Array(0), payload)) problems.push(`${phase}: ${name} reads back different bytes at once`);
      }
    }
    const afterWrites = checkListed(store, bound, problems, phase);
    for (const [name, payload] of written) {
      const got = afterWrites.get(name);
      if (!got) {
        if (mayOverwrite(board, name)) continue;
        problems.push(`${phase}: ${name} was written but is not listed`);
      } else if (!sameBytes(got.payload, payload)) problems.push(`${phase}: ${name} reads back different bytes`);
    }
    const victim = [...afterWrites.keys()][afterWrites.size >> 1];
    if (victim !== undefined && !store.erase(victim)) problems.push(`${phase}: erase(${victim}) of a listed record returned false`);
    const kept = checkListed(store, bound, problems, "after erase");
    if (victim !== undefined && kept.has(victim)) problems.push(`after erase: ${victim} is still listed`);
    phase = "idle before reboot";
    idleToEnd(store, pages, problems, phase);
    const beforeReboot = checkListed(store, bound, problems, phase);

    phase = "reboot";
    // A soft reset: flash and retained RAM keep their content (the Storage remount matters only to Storage boards).
    if (board.backend === "storage") dev.reboot("soft");
    const again = boot(phase);
    if (!again) return problems;
    store = again;
    const afterReboot = checkListed(store, bound, problems, phase);
    for (const [name, entry] of beforeReboot) {
      const got = afterReboot.get(name);
      if (!got) problems.push(`${phase}: ${name} was listed before the reboot and is gone`);
      else if (!sameBytes(got.payload, entry.payload)) problems.push(`${phase}: ${name} reads back different bytes after the reboot`);
    }
    if (victim !== undefined && afterReboot.has(victim)) problems.push(`${phase}: ${victim} was erased and is listed again`);
    for (const v of dev.flash.violations) problems.push(`flash rule violation: ${v.message}`);
  } catch (e) {
    if (e instanceof BudgetExceeded) problems.push(`${phase}: ${e.message}`);
    else problems.push(`${phase}: unexpected exception ${message(e)}${e instanceof Error && e.stack ? "\n" + e.stack.split("\n").slice(1, 4).join("\n") : ""}`);
  }
  return problems;
}

/**
 * Runs the host decode on image file `bytes` into an archive folder held in memory (tools/fuzz/memory-fs.ts).
 * `fileDamaged` says whether the image container itself was mutated (then a DataError from openImageSource is
 * the right answer).
 */
export async function hostTarget(board: BoardDefinition, bytes: Uint8Array, fileDamaged: boolean): Promise<string[]> {
  const problems: string[] = [];
  let source;
  try {
    source = openImageSource(bytes, "fuzz.img", board.name, "fuzz");
  } catch (e) {
    if (!(e instanceof DataError) || !fileDamaged) problems.push(`openImageSource threw ${message(e)}`);
    return problems;
  }
  const fetched = new Map<string, Uint8Array[]>();
  const fetch = source.fetch;
  source.fetch = async (record, progress) => {
    const parts = await fetch(record, progress);
    fetched.set(record.name, parts);
    return parts;
  };
  try {
    const memory = new MemoryFs("/fuzz/archive");
    const result = await collectRecords(source, new Archive(memory.root, new DurableWriter(memory.fs)), { erase: false });
    for (const escape of memory.escapes) problems.push(`host: the archive tried to ${escape}, outside its folder`);
    const names = new Set<string>();
    for (const r of result.records) {
      const name = r.entry.name;
      if (names.has(name) && r.written) problems.push(`host: ${name} archived twice`);
      names.add(name);
      const parts = fetched.get(name);
      if (!parts) continue;
      const bad = name.startsWith("console-ram-") ? [] : recordProblems(name, parts);
      if (r.entry.outcome === "corrupt") {
        if (r.entry.files.length !== 1 || r.entry.files[0] !== `${name}.corrupt`) problems.push(`host: corrupt ${name} archived as ${r.entry.files.join(", ")}`);
      } else if (bad.length) {
        problems.push(...bad.map((p) => `host: archived as ${r.entry.outcome} but fails verification: ${p}`));
      }
      for (const f of r.entry.files) if (f !== name && !f.startsWith(`${name}.`)) problems.push(`host: ${name} archived under file name ${f}`);
    }
  } catch (e) {
    problems.push(`host: collectRecords threw ${message(e)}`);
  }
  return problems;
}
