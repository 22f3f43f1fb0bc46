// Host timing shared by the sections. An operation is repeated in several rounds until enough time has passed that
// the clock's resolution and one-off costs no longer dominate; the fastest round's mean is kept, because on a
// shared machine noise (GC, other processes, JIT tiers) only ever adds time.

/** 1 MB = 10^6 bytes, as storage vendors and the lz4 tools count. */
const MB = 1e6;

const ROUNDS = 5;

/** Mean milliseconds per run of the fastest round. Runs `operation` once untimed first (warm-up). */
export function time(operation: () => void, minMs: number): number {
  return timeInterleaved([operation], minMs)[0];
}

/**
 * Times several operations whose speeds are compared with each other: their rounds alternate (a round of each in
 * turn, ROUNDS times), so a burst of load elsewhere slows all of them rather than whichever ran at that moment.
 * Returns each operation's best-round mean milliseconds per run, in order.
 */
export function timeInterleaved(operations: Array<() => void>, minMs: number): number[] {
  for (const operation of operations) operation();
  const best = operations.map(() => Infinity);
  for (let round = 0; round < ROUNDS; round++) {
    operations.forEach((operation, i) => {
      let runs = 0;
      const start = performance.now();
      let elapsed = 0;
      do {
        operation();
        runs++;
        elapsed = performance.now() - start;
      } while (elapsed < minMs / ROUNDS);
      best[i] = Math.min(best[i], elapsed / runs);
    });
  }
  return best;
}

/** Throughput of `bytes` processed in `ms`, in MB/s. */
export function mbPerSecond(bytes: number, ms: number): number {
  return ms > 0 ? bytes / MB / (ms / 1000) : 0;
}

/** As `time`, for an operation that returns a promise (run one at a time). */
export async function timeAsync(operation: () => Promise<void>, minMs: number): Promise<number> {
  await operation();
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    let runs = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      await operation();
      runs++;
      elapsed = performance.now() - start;
    } while (elapsed < minMs / ROUNDS);
    best = Math.min(best, elapsed / runs);
  }
  return best;
}
