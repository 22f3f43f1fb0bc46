// Seeded PRNG so that power cuts, torn writes and garbage RAM replay identically from a seed.

/** mulberry32: small, fast, good enough for fault injection. Returns a generator of integers in [0, 2^32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Integer in [0, bound). */
export function randomBelow(next: () => number, bound: number): number {
  return next() % bound;
}

export function randomBytes(next: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = next() & 0xff;
  return out;
}
