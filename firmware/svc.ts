// The service module (dist/<BOARD>/pstore.svc.js, Storage file "pstoresvc"): the host service (docs/PROTOCOL.md),
// the read side of the running instance (list, read, erase, status, dumps) and the boot-only code (boot-init.ts:
// options, boot scan, boot event). None of it is on the crash path, so it stays out of the resident module
// (firmware/module.ts): it is loaded at start() and for each call of the host or the application, and dropped
// from the module cache after it. Nothing of it is left in the running instance: the read side works on views
// made for the call (Object.create over the running objects), which go with it. It reaches the running instance through the main module's `running()`; the build gives it
// the main bundle's mangled property names (esbuild mangleCache), so both read the same internal fields.

import type { ZonedBackend } from "../pstore/zone";
import { addZoneReads } from "../pstore/zone-read";
import { addStoreReads } from "../pstore/core-read";
import type { Runtime } from "./runtime";
import { addRuntimeReads } from "./runtime-read";
import { SERVICE_MODULE, createService } from "./service";
import { boot, settings, watchAppSwitches } from "./boot-init";
import { captureConsole } from "./console-capture";
import { board } from "pstore-board";
import { createDeviceFlash } from "../hal/device/flash";

declare function btoa(binary: string): string;
declare var Modules: { removeCached(name: string): void };

/** An indirect call: the bundler leaves it to Espruino's require at run time (a Storage module). */
const load: (name: string) => any = require;
const main = load("pstore");
/** How long after a host's last call the service module stays loaded. */
const HOST_IDLE_MS = 2000;

/**
 * The running instance with its read side, for one call: views over the running store and backends that add the
 * reads (ram backends have theirs already), so the running objects keep no function of this module.
 */
function running(): Runtime {
  const r: Runtime = main.running();
  const core = Object.create(r.core);
  const backends = r.core.backends_;
  core.backends_ = [];
  for (let i = 0; i < backends.length; i++) {
    let b = backends[i];
    if (!b.list) {
      b = Object.create(b);
      addZoneReads(b as ZonedBackend);
    }
    core.backends_.push(b);
  }
  addStoreReads(core);
  const view = Object.create(r);
  view.core = core;
  addRuntimeReads(view);
  return view;
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
  crc32: E.CRC32,
  base64: function (data) {
    return btoa(E.toString(data));
  },
  bytes: E.toUint8Array,
  print: main.toHost,
  defer: function (fn) {
    setTimeout(fn, 0);
  },
  streams: main.streams,
});

/**
 * A host call. A host sends its calls in a row (a pull is many), so the module is dropped from the cache only once
 * the host has been silent for HOST_IDLE_MS; a stream still running goes on from its timers.
 */
function once(call: (a: any, b: any, c: any, d: any, e: any, f: any) => void) {
  return function (a: any, b: any, c: any, d: any, e: any, f: any) {
    const streams = main.streams;
    if (streams.drop) clearTimeout(streams.drop);
    streams.drop = setTimeout(function () {
      streams.drop = undefined;
      Modules.removeCached(SERVICE_MODULE);
    }, HOST_IDLE_MS);
    call(a, b, c, d, e, f);
  };
}

// The calls the host types: require("pstoresvc").g(…).
export const h = once(service.h);
export const l = once(service.l);
export const g = once(service.g);
export const a = once(service.a);
export const e = once(service.e);
export const s = once(service.s);
export const i = once(service.i);
export const d = once(service.d);

// For the main module's start(): boot-only code (boot-init.ts).
export { boot, settings, watchAppSwitches, captureConsole };
