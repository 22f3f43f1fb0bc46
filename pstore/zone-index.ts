// A zone's packed index (Zone.ix_ in zone.ts): INDEX_WORDS words of a Uint32Array per intact part, no object per
// record. A module of its own, outside the import cycle of zone.ts and its boot scan and read side, so that the
// bundler writes its constants out where they are used: a module-level name costs the interpreter a search of the
// module's scope at every use, in loops that run over every part.

import type { Zone } from "./zone";

/**
 * Words per indexed part in Zone.ix_: the sequence number, the boot counter, page * PAGE_SPAN + offset, and
 * type | reason << 8 | part << 16 | parts << 24.
 */
export const INDEX_WORDS = 4;
/** Offsets within a page stay below this (the largest erase unit, an STM32F4 sector, is 128 KB): 2^PAGE_SHIFT. */
export const PAGE_SPAN = 131072;
/** A part's page is its where-word shifted down: a shift, where Math.floor of a division is a call. */
export const PAGE_SHIFT = 17;

export function ixSeq(z: Zone, k: number): number {
  return z.ix_[k * INDEX_WORDS];
}
export function ixPage(z: Zone, k: number): number {
  return z.ix_[k * INDEX_WORDS + 2] >>> PAGE_SHIFT;
}
export function ixOff(z: Zone, k: number): number {
  return z.ix_[k * INDEX_WORDS + 2] % PAGE_SPAN;
}

/** Appends an intact part to the index: its words (INDEX_WORDS) `seq`, `boot`, `where` (page * PAGE_SPAN + offset) and `info`. */
export function ixPush(z: Zone, seq: number, boot: number, where: number, info: number): void {
  let ix = z.ix_;
  const at = z.n_ * INDEX_WORDS;
  if (at + INDEX_WORDS > ix.length) {
    // The boot scan leaves room for 8 parts at least.
    const grown = new Uint32Array(ix.length * 2);
    grown.set(ix);
    ix = z.ix_ = grown;
  }
  ix[at] = seq;
  ix[at + 1] = boot;
  ix[at + 2] = where;
  ix[at + 3] = info;
  z.n_++;
}

/** Removes `count` parts from k on. */
export function ixRemove(z: Zone, k: number, count: number): void {
  z.ix_.set(z.ix_.subarray((k + count) * INDEX_WORDS, z.n_ * INDEX_WORDS), k * INDEX_WORDS);
  z.n_ -= count;
}

/** Number of parts when part k starts a complete record, else 0. */
export function complete(z: Zone, k: number): number {
  const ix = z.ix_;
  const w = k * INDEX_WORDS;
  const info = ix[w + 3];
  const parts = info >>> 24;
  if ((info >>> 16) & 255 || k + parts > z.n_) return 0;
  for (let j = 1; j < parts; j++) {
    const p = w + j * INDEX_WORDS;
    // The same type and part count, part j, the next sequence number and the same boot.
    if (((ix[p + 3] ^ info) & 0xff0000ff) || ((ix[p + 3] >>> 16) & 255) !== j || ix[p] !== ((ix[w] + j) >>> 0) || ix[p + 1] !== ix[w + 1]) return 0;
  }
  return parts;
}
