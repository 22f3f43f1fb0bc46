// A stand-in for a Uint8Array that notices every access outside its bounds. Plain typed arrays silently ignore
// such writes and return undefined for such reads, so a codec bug there would go unseen without this. It sits
// inside a larger buffer with guard bytes on both sides, and forwards stray writes there so they can be seen.

const guardByte = 0xa5;
const guardSize = 64;

export interface GuardedBytes {
  /** Use wherever the code under test wants a Uint8Array (index access, length, set, subarray, fill, slice). */
  bytes: Uint8Array;
  /** Accesses outside the bounds, as "read 12" / "write -1" / "subarray 3..99"; empty when all stayed inside. */
  strays: string[];
  /** Whether the guard bytes around the array are untouched. */
  guardsIntact(): boolean;
  /** A plain copy of the current content. */
  content(): Uint8Array;
}

export function guardedBytes(lengthOrContent: number | Uint8Array): GuardedBytes {
  const length = typeof lengthOrContent === "number" ? lengthOrContent : lengthOrContent.length;
  const backing = new Uint8Array(length + 2 * guardSize).fill(guardByte);
  if (typeof lengthOrContent !== "number") backing.set(lengthOrContent, guardSize);
  const strays: string[] = [];

  const read = (base: number, viewLength: number, index: number): number | undefined => {
    if (!(index >= 0 && index < viewLength)) strays.push(`read ${index}`);
    const at = guardSize + base + index;
    return at >= 0 && at < backing.length ? backing[at] : undefined;
  };
  const write = (base: number, viewLength: number, index: number, value: number): void => {
    if (!(index >= 0 && index < viewLength)) strays.push(`write ${index}`);
    const at = guardSize + base + index;
    if (at >= 0 && at < backing.length) backing[at] = value;
  };

  const view = (base: number, viewLength: number): Uint8Array => {
    const methods: Record<string, unknown> = {
      length: viewLength,
      set(source: ArrayLike<number>, offset = 0) {
        if (!(offset >= 0 && offset + source.length <= viewLength)) strays.push(`set ${offset}+${source.length}`);
        const values = Array.from({ length: source.length }, (_, k) => source[k]);
        values.forEach((value, k) => write(base, viewLength, offset + k, value));
      },
      subarray(start: number, end = viewLength) {
        if (!(start >= 0 && start <= end && end <= viewLength)) strays.push(`subarray ${start}..${end}`);
        return view(base + start, end - start);
      },
      slice(start = 0, end = viewLength) {
        if (!(start >= 0 && start <= end && end <= viewLength)) strays.push(`slice ${start}..${end}`);
        return Uint8Array.from({ length: end - start }, (_, k) => read(base, viewLength, start + k) ?? 0);
      },
      fill(value: number) {
        for (let k = 0; k < viewLength; k++) write(base, viewLength, k, value);
        return proxy;
      },
    };
    const isIndex = (key: string | symbol): key is string => typeof key === "string" && /^-?\d+$/.test(key);
    const proxy = new Proxy(methods, {
      get(target, key) {
        if (isIndex(key)) return read(base, viewLength, Number(key));
        if (typeof key === "string" && key in target) return target[key];
        throw new Error(`guardedBytes: the code under test used .${String(key)}, which this stand-in does not provide`);
      },
      set(_target, key, value) {
        if (!isIndex(key)) throw new Error(`guardedBytes: the code under test assigned .${String(key)}`);
        write(base, viewLength, Number(key), Number(value) & 255);
        return true;
      },
    }) as unknown as Uint8Array;
    return proxy;
  };

  return {
    bytes: view(0, length),
    strays,
    guardsIntact: () =>
      backing.subarray(0, guardSize).every((b) => b === guardByte) &&
      backing.subarray(guardSize + length).every((b) => b === guardByte),
    content: () => backing.slice(guardSize, guardSize + length),
  };
}
