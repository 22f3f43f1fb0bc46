// Pre-allocated Storage files. Reads copy out of the file (E.toUint8Array of the string Storage.read gives, or into
// the caller's array) so a later write or re-create cannot change bytes the caller already holds (the simulation
// behaves the same).

import type { StorageHal } from "../types";

export function createDeviceStorage(): StorageHal {
  const storage = require("Storage");
  return {
    read: function (name, offset, length, into) {
      // Only the bytes asked for: where Storage is not memory-mapped (Linux, Bangle.js 2's external flash) a read
      // of the whole file would copy all of it for each record header.
      // Bangle.js 2's firmware throws ("byteOffset too large") for an offset past the end instead of giving less.
      let text;
      try {
        text = storage.read(name, offset, length);
      } catch (e) {
        text = storage.read(name, 0, 1) === undefined ? undefined : "";
      }
      if (text === undefined) return undefined;
      if (!into) return E.toUint8Array(text);
      // Espruino's set() takes a string's characters as bytes (test/conformance probe typedarray-set-string; in Node
      // they would be zeros, hence no such signature in the types): no array to allocate, so no garbage collection
      // to find a block for it (the boot scan reads every page).
      into.set(text as unknown as ArrayLike<number>);
      return text.length < length ? into.subarray(0, text.length) : into;
    },
    create: function (name, size) {
      // Writing one 0xFF byte with a size allocates the whole file, 0xFF-filled, replacing any previous one.
      storage.write(name, new Uint8Array([255]), 0, size);
    },
    write: function (name, offset, data) {
      // At offset 0 Storage.write re-creates the file (as long as data) unless it is given the file's own size.
      const file = offset === 0 ? storage.read(name) : undefined;
      if (!storage.write(name, data, offset, file ? file.length : 0)) throw new Error("Storage.write " + name + " @" + offset);
    },
    remove: function (name) {
      storage.erase(name);
    },
  };
}
