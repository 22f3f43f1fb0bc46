// Byte views and copies that behave the same on Espruino and in Node. Espruino's `subarray(start, end)` does not
// clamp `end` to the length (the view runs on into the neighbouring bytes) and its TypedArray `slice()` returns a
// plain Array (ESPRUINO.md §10), so device code takes its views and copies from here.

/** bytes[start, end) as a view, both ends clamped to the length (Espruino throws for a start past the end). */
export function view(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const n = bytes.length;
  return bytes.subarray(Math.min(start, n), Math.min(end, n));
}

/** bytes[start, end) as a new Uint8Array of its own, `end` clamped to the length. */
export function copy(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(view(bytes, start, end));
}
