// Byte views and copies that behave the same on Espruino and in Node. Espruino's `subarray(start, end)` does not
// clamp `end` to the length (the view runs on into the neighbouring bytes) and its TypedArray `slice()` returns a
// plain Array (ESPRUINO.md §10), so device code takes its views and copies from here.

/** bytes[start, end) as a view, `end` clamped to the length. */
export function view(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return bytes.subarray(start, Math.min(end, bytes.length));
}

/** bytes[start, end) as a new Uint8Array of its own, `end` clamped to the length. */
export function copy(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(view(bytes, start, end));
}
