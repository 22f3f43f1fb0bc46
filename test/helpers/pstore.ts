// Shared by the pstore core tests: a simulated board with a started store, deterministic payloads, and a record
// checker written from docs/FORMAT.md alone (it does not use pstore/format.ts, so a format bug cannot hide itself).

import { getBoard } from "../../boards/index";
import type { BoardDefinition, ZoneConfig } from "../../boards/types";
import { createSimHal, type SimDevice } from "../../hal/sim/index";
import { Pstore, type PstoreConfig } from "../../pstore/core";

import { crc32 as crc } from "../../hal/sim/crc";

export { crc };

/** `n` bytes that differ per `seed`, reproducible. */
export function payload(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function boardWith(name: string, zones?: ZoneConfig[]): BoardDefinition {
  const board = getBoard(name);
  return zones ? { ...board, zones } : board;
}

export function device(board: BoardDefinition, seed = 1): SimDevice {
  return createSimHal(board, { seed });
}

/** A started store over `dev` (a new one over the same device is a reboot). */
export function open(dev: SimDevice, extra: Partial<PstoreConfig> = {}): Pstore {
  const store = new Pstore(dev.hal, { board: dev.board, ...extra });
  store.start();
  return store;
}

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/**
 * Checks one stored part against FORMAT.md: magic, version, header length, header CRC, record CRC (over bytes 0..35,
 * twelve 0xFF, payload), padding and commit word. Returns what is wrong, or undefined when the part is intact.
 */
export function partProblem(raw: Uint8Array): string | undefined {
  if (raw.length < 52) return "shorter than 52 bytes";
  if (u32(raw, 0) !== 0x52545350) return "bad magic";
  if (raw[4] !== 1 || raw[11] !== 12) return "bad version or header length";
  if (crc(raw.subarray(0, 36)) !== u32(raw, 36)) return "bad header CRC";
  const n = u32(raw, 28);
  const padded = (n + 3) & ~3;
  if (raw.length !== 52 + padded) return `length ${raw.length} does not match stored length ${n}`;
  const image = new Uint8Array(48 + n);
  image.set(raw.subarray(0, 36));
  image.fill(0xff, 36, 48);
  image.set(raw.subarray(48, 48 + n), 48);
  if (crc(image) !== u32(raw, 40)) return "bad record CRC";
  if (u32(raw, 44) !== 0xffffffff) return "erase mark programmed";
  for (let i = 48 + n; i < 48 + padded; i++) if (raw[i] !== 0xff) return "padding is not 0xFF";
  if (u32(raw, raw.length - 4) !== 0x21544d43) return "bad commit word";
  return undefined;
}

/** Every part of every listed record checked with partProblem; returns "name part k: problem" lines. */
export function listedProblems(store: Pstore): string[] {
  const out: string[] = [];
  for (const meta of store.list()) {
    for (let k = 0; k < meta.parts; k++) {
      const raw = store.readPart(meta.name, k);
      const problem = raw ? partProblem(raw) : "part unreadable";
      if (problem) out.push(`${meta.name} part ${k}: ${problem}`);
      else if (u32(raw!, 12) !== ((meta.seq + k) >>> 0) || raw![9] !== k) out.push(`${meta.name} part ${k}: wrong seq or part index`);
    }
  }
  return out;
}
