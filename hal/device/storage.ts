// Pre-allocated Storage files. Reads copy out of the memory-mapped file so a later write or re-create cannot change
// bytes the caller already holds (the simulation behaves the same).

import type { StorageHal } from "../types";
import { copy } from "../../pstore/bytes";

export function createDeviceStorage(): StorageHal {
  const storage = require("Storage");
  return {
    read: function (name, offset, length) {
      const buffer = storage.readArrayBuffer(name);
      if (!buffer) return undefined;
      const start = offset;
      return copy(new Uint8Array(buffer), start, start + length);
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
