// Pre-allocated Storage files. Reads copy out of the file (E.toUint8Array of the string Storage.read gives) so a
// later write or re-create cannot change bytes the caller already holds (the simulation behaves the same).

import type { StorageHal } from "../types";

export function createDeviceStorage(): StorageHal {
  const storage = require("Storage");
  return {
    read: function (name, offset, length) {
      // Only the bytes asked for: where Storage is not memory-mapped (Linux, Bangle.js 2's external flash) a read
      // of the whole file would copy all of it for each record header.
      // Bangle.js 2's firmware throws ("byteOffset too large") for an offset past the end instead of giving less.
      let text;
      try {
        text = storage.read(name, offset, length);
      } catch (e) {
        text = storage.read(name, 0, 1) === undefined ? undefined : "";
      }
      return text === undefined ? undefined : E.toUint8Array(text);
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
