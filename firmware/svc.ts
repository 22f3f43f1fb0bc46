// The service module (dist/<BOARD>/pstore.svc.js, Storage file "pstoresvc"): the host service (docs/PROTOCOL.md),
// the read side of the running instance (list, read, erase, status, dumps) and the boot-only code (boot-init.ts:
// options, boot scan, boot event). None of it is on the crash path, so it stays out of the resident module
// (firmware/module.ts) and is loaded only at start() and when the host or the application asks for records. It reaches the running instance through the main module's `running()`; the build gives it
// the main bundle's mangled property names (esbuild mangleCache), so both read the same internal fields.

import type { ZonedBackend } from "../pstore/zone";
import { addZoneReads } from "../pstore/zone-read";
import { addStoreReads } from "../pstore/core-read";
import type { Runtime } from "./runtime";
import { addRuntimeReads } from "./runtime-read";
import { createService } from "./service";
import { boot, settings, watchAppSwitches } from "./boot-init";
import { captureConsole } from "./console-capture";
import { board } from "pstore-board";
import { createDeviceFlash } from "../hal/device/flash";

declare function btoa(binary: string): string;

/** An indirect call: the bundler leaves it to Espruino's require at run time (a Storage module). */
const load: (name: string) => any = require;
const main = load("pstore");

/** The running instance, its read side added on first use (ram backends have theirs already). */
function running(): Runtime {
  const r: Runtime = main.running();
  if (!r.status) {
    const backends = r.core.backends_;
    for (let i = 0; i < backends.length; i++) if (!backends[i].list) addZoneReads(backends[i] as ZonedBackend);
    addStoreReads(r.core);
    addRuntimeReads(r);
  }
  return r;
}

/**
 * What a dump reads: the running instance, or for the storage backend a view of it with the Storage area and raw
 * flash, which the resident module leaves out (only a dump needs them, and this module is dropped after use).
 */
function dumpTarget(): Runtime {
  const r = running();
  if (PSTORE_BACKEND !== "storage") return r;
  return {
    board_: board,
    settings_: r.settings_,
    hal: { flash: createDeviceFlash(), retained: r.hal.retained },
    dumpInfo: r.dumpInfo,
    dumpRead: r.dumpRead,
  } as unknown as Runtime;
}

export function list(): object[] {
  return running().list();
}

export function read(name: string): string | Uint8Array {
  return running().read(name);
}

export function erase(name: string): boolean {
  if (typeof name !== "string") throw new Error("pstore.erase: takes a record's name (a string), got " + JSON.stringify(name));
  return running().core.erase(name);
}

export function status(): object {
  const s: any = running().status();
  // The host names its archive folder after the device: board and serial number.
  s.board = PSTORE_BOARD;
  s.serial = process.env.SERIAL;
  return s;
}

const service = createService({
  list: list,
  readPart: function (name, part) {
    return running().core.readPart(name, part);
  },
  erase: erase,
  status: status,
  dumpInfo: function () {
    return dumpTarget().dumpInfo();
  },
  dumpRead: function (area, offset, length) {
    return dumpTarget().dumpRead(area, offset, length);
  },
  crc32: function (data) {
    return running().hal.crc32(data);
  },
  base64: function (data) {
    return btoa(E.toString(data));
  },
  print: main.toHost,
  defer: function (fn) {
    setTimeout(fn, 0);
  },
});

// The calls the host types: require("pstoresvc").g(…).
export const h = service.h;
export const l = service.l;
export const g = service.g;
export const a = service.a;
export const e = service.e;
export const s = service.s;
export const i = service.i;
export const d = service.d;

// For the main module's start(): boot-only code (boot-init.ts).
export { boot, settings, watchAppSwitches, captureConsole };
