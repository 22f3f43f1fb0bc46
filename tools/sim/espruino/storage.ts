// The simulated Espruino's `require("Storage")`: the device-visible API over the simulated Storage area
// (hal/sim/storage.ts), with the firmware's exceptions raised as the context's own Errors.
// Not provided: Storage.open (StorageFile).

import { STORAGE_NAME_BYTES, StorageError, type EspruinoStorage } from "../../../hal/sim/storage";
import { tag, toBytes, toLatin1 } from "./bytes";
import type { Realm } from "./realm";

/** Names longer than a header holds are cut to its 28 bytes, silently, as jsfNameFromVar does. */
function fileName(name: unknown): string {
  return String(name).slice(0, STORAGE_NAME_BYTES);
}

export function storageModule(realm: Realm, storage: EspruinoStorage): unknown {
  const fn = realm.native.bind(realm);
  const call = <T>(run: () => T): T => {
    try {
      return run();
    } catch (e) {
      if (e instanceof StorageError) throw realm.error(e.message);
      throw e;
    }
  };
  const m = realm.object();
  m.read = fn("read", (_self, name: string, offset?: number, length?: number) => {
    const bytes = storage.read(fileName(name), Number(offset) || 0, Number(length) || 0);
    return bytes && toLatin1(bytes);
  });
  m.readArrayBuffer = fn("readArrayBuffer", (_self, name: string) => {
    const bytes = storage.read(fileName(name));
    return bytes && realm.bytes(bytes).buffer;
  });
  m.readJSON = fn("readJSON", (_self, name: string, noExceptions?: boolean) => {
    const bytes = storage.read(fileName(name));
    if (!bytes) return undefined;
    try {
      return realm.intrinsics.JSON.parse(toLatin1(bytes));
    } catch (e) {
      if (noExceptions) return undefined;
      throw e;
    }
  });
  m.write = fn("write", (_self, name: string, data: unknown, offset?: number, size?: number) => {
    const isObject = data !== null && typeof data === "object" && !ArrayBuffer.isView(data) && tag(data) !== "ArrayBuffer" && !Array.isArray(data);
    const bytes = isObject ? toBytes(realm.intrinsics.JSON.stringify(data)) : toBytes(data);
    return call(() => storage.write(fileName(name), bytes, isObject ? 0 : Number(offset) || 0, isObject ? 0 : Number(size) || 0));
  });
  m.writeJSON = fn("writeJSON", (_self, name: string, data: unknown) => call(() => storage.write(fileName(name), toBytes(realm.intrinsics.JSON.stringify(data)))));
  m.erase = fn("erase", (_self, name: string) => storage.erase(fileName(name)));
  m.eraseAll = fn("eraseAll", () => storage.eraseAll());
  m.list = fn("list", (_self, regex?: RegExp) => {
    const names = storage.list().filter((n) => !regex || String.prototype.match.call(n, regex) !== null);
    return realm.array(names);
  });
  m.getFree = fn("getFree", () => storage.stats().freeBytes);
  m.getStats = fn("getStats", () => Object.assign(realm.object(), storage.stats()));
  m.compact = fn("compact", () => {
    storage.compact();
  });
  return m;
}
