// Device values as bytes and back, the way the interpreter converts them (strings hold one byte per character).

import { latin1Bytes } from "../../bytes";

/** The internal class of a value ("ArrayBuffer", "Uint8Array", ...), across realms. */
export function tag(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

/** The bytes of a string (one byte per char), ArrayBuffer, typed array, DataView or array of numbers. */
export function toBytes(value: unknown): Uint8Array {
  if (typeof value === "string") return latin1Bytes(value);
  // Host views over the device's buffers: the device's own ArrayBuffer.prototype.slice is missing on purpose.
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength).slice();
  if (tag(value) === "ArrayBuffer") return new Uint8Array(value as ArrayBuffer).slice();
  if (Array.isArray(value)) return Uint8Array.from(value, (v) => Number(v) & 0xff);
  if (typeof value === "number") return Uint8Array.of(value & 0xff);
  if (value === undefined || value === null) return new Uint8Array(0);
  return toBytes(String(value));
}

export { latin1Text as toLatin1 } from "../../bytes";
