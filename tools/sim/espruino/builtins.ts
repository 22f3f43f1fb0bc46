// The interpreter's built-ins that bundles use, backed by the simulated media: require("Flash"/"heatshrink") and
// require("Storage") (storage.ts), E, process, peek/poke, timers, print/console, the console devices and Loopback
// pair, `global`, Modules/require. Everything visible to device code is made in the context's realm (Realm.native / Realm.object).
// Not provided: E.memoryArea (memory-mapped strings cannot be modelled), save() images.

import { heatshrinkCompress, heatshrinkDecompress } from "../../../pstore/heatshrink";
import vm from "node:vm";
import type { BoardDefinition } from "../../../boards/types";
import { crc32 } from "../../../hal/sim/crc";
import { firmwareFlashWrite, type SimFlash } from "../../../hal/sim/flash";
import type { SimRetained } from "../../../hal/sim/retained";
import type { SimResetReason } from "../../../hal/sim/reset";
import type { SimClock } from "../../../hal/sim/clock";
import type { EspruinoStorage } from "../../../hal/sim/storage";
import { toBytes, toLatin1 } from "./bytes";
import type { Emitters } from "./emitters";
import { formatNumber, formatValue } from "./format";
import { NATIVE_FILE, type Realm } from "./realm";
import type { Repl } from "./repl";
import { storageModule } from "./storage";
import type { TimerQueue } from "./timers";

/** What the built-ins need from the device that runs them. */
export interface DeviceInternals {
  readonly board: BoardDefinition;
  readonly realm: Realm;
  readonly flash: SimFlash;
  readonly storage: EspruinoStorage;
  readonly retained?: SimRetained;
  readonly resetReason: SimResetReason;
  readonly clock: SimClock;
  readonly repl: Repl;
  readonly emitters: Emitters;
  readonly timers: TimerQueue;
  readonly version: string;
  readonly serial: string;
  readonly stackEndAddress: number;
  readonly memoryUsage: number;
  /** Device objects by name (USB, Serial1, Telnet, LoopbackA, ...). */
  readonly devices: Map<string, object>;
  /** Virtual milliseconds since the simulation started. */
  now(): number;
  /** Set by setTime(): getTime() is `seconds` at virtual time `atMs` (undefined: seconds since boot). */
  wallClock?: { seconds: number; atMs: number };
  /** Runs a callback; an exception goes to the uncaughtException handler or is printed. */
  invoke(fn: unknown, thisArg: unknown, args: unknown[]): void;
  transmit(device: string, text: string): void;
  errorFlags: Set<string>;
  enableWatchdog(seconds: number, auto: boolean): void;
  kickWatchdog(): void;
  /** reset()/load(): done at idle, after the running code returns. */
  requestReset(kind: "reset" | "load", file?: string): void;
  /** E.reboot(): kill handlers, then the chip resets at once (the running code is unwound). */
  rebootNow(): never;
  /** Evaluates a module's source with `exports` and `module`; returns module.exports. `fromStorage`: the file `name`. */
  evaluateModule(name: string, code: string, fromStorage?: boolean): unknown;
}


/** Text for print()/console.log: strings as they are, everything else as Espruino's JSON with quoted keys. */
export function printText(args: unknown[], deviceName: (v: object) => string | undefined): string {
  return args.map((a) => (typeof a === "string" ? a : typeof a === "number" ? formatNumber(a) : formatValue(a, deviceName, [], true))).join(" ");
}

function resetReasonAccess(dev: DeviceInternals): { register: number } | undefined {
  const kind = dev.board.resetReason.kind;
  return kind === "none" ? undefined : { register: dev.board.resetReason.register };
}

/** Where a peek/poke address falls in the retained area: byte offset and usable bytes (STM32F1 has 2 per slot). */
function retainedSlot(dev: DeviceInternals, addr: number): { offset: number; bytes: number } | undefined {
  const area = dev.board.retained;
  if (!area || !dev.retained) return undefined;
  if (area.kind === "stm32f1-bkp") {
    // DR1..DR10 from the base, DR11..DR42 in a second bank 0x3C further on (0x40 from BKP).
    const rel = addr - area.addr;
    const slots = area.size / 2;
    let slot = -1;
    if (rel >= 0 && rel < 40 && rel % 4 === 0) slot = rel / 4;
    else if (rel >= 0x3c && (rel - 0x3c) % 4 === 0) slot = 10 + (rel - 0x3c) / 4;
    return slot >= 0 && slot < slots ? { offset: slot * 2, bytes: 2 } : undefined;
  }
  const base = area.kind === "nrf52-ram" ? dev.stackEndAddress + area.addr : area.addr;
  const offset = addr - base;
  return offset >= 0 && offset < area.size ? { offset, bytes: area.size - offset } : undefined;
}

function peek(dev: DeviceInternals, addr: number, width: number): number {
  if (dev.board.name === "LINUX") throw dev.realm.error("peek/poke crash Espruino's Linux build (no memory there to read)");
  const rr = resetReasonAccess(dev);
  if (rr && addr === rr.register) {
    const raw = dev.resetReason.readRaw() >>> 0;
    return width === 32 ? raw : raw & ((1 << width) - 1);
  }
  const slot = retainedSlot(dev, addr);
  if (!slot || !dev.retained) return 0;
  const n = Math.min(width / 8, slot.bytes);
  const bytes = dev.retained.read(slot.offset, n);
  let value = 0;
  for (let i = n - 1; i >= 0; i--) value = value * 256 + bytes[i];
  return value;
}

function poke(dev: DeviceInternals, addr: number, value: number, width: number): void {
  if (dev.board.name === "LINUX") throw dev.realm.error("peek/poke crash Espruino's Linux build (no memory there to write)");
  const rr = resetReasonAccess(dev);
  if (rr && addr === rr.register) {
    const kind = dev.board.resetReason.kind;
    if (kind === "nrf52") dev.resetReason.setRaw((dev.resetReason.readRaw() & ~value) >>> 0);
    else if (value & (1 << 24)) dev.resetReason.clear();
    return;
  }
  const slot = retainedSlot(dev, addr);
  if (!slot || !dev.retained) return;
  const n = Math.min(width / 8, slot.bytes);
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (value >>> (8 * i)) & 0xff;
  dev.retained.write(slot.offset, bytes);
}

/**
 * Flash areas the firmware leaves alone: every simulated erase unit outside Storage, merged. The Linux build
 * reports its whole flash file, although Storage lives in it.
 */
function freeAreas(board: BoardDefinition): Array<{ addr: number; length: number }> {
  const out: Array<{ addr: number; length: number }> = [];
  if (board.name === "LINUX") return board.flash.map((span) => ({ addr: span.addr, length: span.size * span.count }));
  const spans = board.flash.slice().sort((a, b) => a.addr - b.addr);
  const sStart = board.storage.addr;
  const sEnd = board.storage.addr + board.storage.size;
  for (const span of spans) {
    for (let i = 0; i < span.count; i++) {
      const addr = span.addr + i * span.size;
      if (addr + span.size > sStart && addr < sEnd) continue;
      const last = out[out.length - 1];
      if (last && last.addr + last.length === addr) last.length += span.size;
      else out.push({ addr, length: span.size });
    }
  }
  return out;
}

/** The rest of process.env on the Linux build (2v29.277), whose flash is its 256 KB espruino.flash file. */
const LINUX_ENV = {
  GIT_COMMIT: "c5ff787b1",
  RAM: 0,
  FLASH: 262144,
  SPIFLASH: 262144,
  STORAGE: 262144,
  MODULES: "timer,Flash,Storage,heatshrink,fs,net,dgram,tls,http,NetworkJS,TelnetServer,crypto,tensorflow",
  EXPTR: 0,
};

export function installBuiltins(dev: DeviceInternals): void {
  const { realm, emitters } = dev;
  const g = realm.global;
  const fn = realm.native.bind(realm);
  const deviceName = (v: object): string | undefined => {
    for (const [name, obj] of dev.devices) if (obj === v) return name;
    return undefined;
  };
  const define = (target: Record<string, unknown>, name: string, value: unknown): void => {
    Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });
  };
  const addEvents = (target: Record<string, unknown>): void => {
    define(target, "on", fn("on", (_self, event: string, listener: (...a: unknown[]) => unknown) => {
      emitters.on(target, String(event), listener);
    }));
    define(target, "addListener", target.on);
    define(target, "removeListener", fn("removeListener", (_self, event: string, listener: (...a: unknown[]) => unknown) => {
      emitters.removeListener(target, String(event), listener);
    }));
    define(target, "removeAllListeners", fn("removeAllListeners", (_self, event?: string) => {
      emitters.removeAll(target, event === undefined ? undefined : String(event));
    }));
    define(target, "emit", fn("emit", (_self, event: string, ...args: unknown[]) => {
      for (const l of emitters.listeners(target, String(event))) l.apply(target, args);
    }));
  };

  // ---- console output ----
  const print = fn("print", (_self, ...args: unknown[]) => dev.repl.print(printText(args, deviceName) + "\n"));
  g.print = print;
  const consoleObject = realm.object();
  for (const name of ["log", "info", "warn", "error", "debug"]) consoleObject[name] = print;
  g.console = consoleObject;

  // ---- Espruino's JSON: stringify(undefined) is "null", typed arrays become arrays, no replacer ----
  const json = realm.intrinsics.JSON;
  // Characters outside printable ASCII come out as \u00XX, upper-case.
  const stringify = new vm.Script(
    "(function (orig) { return function stringify(v, replacer, space) {" +
      " if (v === undefined) return 'null';" +
      " var out = orig(v, function (k, x) { if (x !== null && typeof x === 'object') {" +
      "   if (typeof x.BYTES_PER_ELEMENT === 'number') return [].slice.call(x);" +
      "   if (Object.prototype.toString.call(x) === '[object ArrayBuffer]') return [].slice.call(new Uint8Array(x)); }" +
      "   return x; }, space);" +
      " return typeof out === 'string' ? out.replace(/\\\\u00([0-9a-f]{2})|[\\u007f-\\u00ff]/g, function (m, h) {" +
      "   return '\\\\u00' + (h || m.charCodeAt(0).toString(16)).toUpperCase(); }) : out; }; })",
    { filename: NATIVE_FILE },
  ).runInContext(realm.context) as (orig: unknown) => unknown;
  define(json as unknown as Record<string, unknown>, "stringify", stringify(json.stringify.bind(json)));

  // ---- timers ----
  const schedule = (repeat: boolean) => (_self: unknown, callback: unknown, ms?: number, ...args: unknown[]) => {
    if (typeof callback !== "function" && typeof callback !== "string") throw realm.error("Function or String not supplied!");
    const run = typeof callback === "string" ? () => dev.evaluateModule("timer", callback) : () => dev.invoke(callback, undefined, args);
    return dev.timers.add(dev.now(), Number(ms) || 0, run, repeat);
  };
  g.setTimeout = fn("setTimeout", schedule(false));
  g.setInterval = fn("setInterval", schedule(true));
  const clear = fn("clearTimeout", (_self, ...ids: unknown[]) => {
    if (ids.length === 0) {
      dev.timers.clearAll();
      return;
    }
    for (const id of ids) if (id !== undefined && !dev.timers.remove(Number(id))) throw realm.error("Unknown Timeout");
  });
  g.clearTimeout = clear;
  g.clearInterval = clear;
  g.changeInterval = fn("changeInterval", (_self, id: number, ms: number) => {
    if (!dev.timers.change(Number(id), dev.now(), Number(ms))) throw realm.error("Unknown Interval");
  });
  const wallSeconds = (): number => {
    const wall = dev.wallClock;
    return wall ? wall.seconds + (dev.now() - wall.atMs) / 1000 : dev.clock.uptimeMs() / 1000;
  };
  g.getTime = fn("getTime", () => wallSeconds());
  g.setTime = fn("setTime", (_self, seconds: number) => {
    dev.wallClock = { seconds: Number(seconds), atMs: dev.now() };
    dev.clock.setWall(Number(seconds));
  });
  // Date reads the virtual clock: `new Date()` and Date.now() follow getTime(), not the host's wall clock.
  const virtualDate = new vm.Script(
    "(function (D, now) { var VDate = function Date(a, b, c, d, e, f, g) { var n = arguments.length;" +
      " if (!new.target) return String(new D(now()));" +
      " return n === 0 ? new D(now()) : n === 1 ? new D(a) : new D(a, b, n > 2 ? c : 1, n > 3 ? d : 0, n > 4 ? e : 0, n > 5 ? f : 0, n > 6 ? g : 0); };" +
      " VDate.prototype = D.prototype; VDate.UTC = D.UTC; VDate.parse = D.parse; VDate.now = now; return VDate; })",
    { filename: NATIVE_FILE },
  ).runInContext(realm.context) as (D: unknown, now: unknown) => unknown;
  define(g, "Date", virtualDate(g.Date, fn("now", () => Math.floor(wallSeconds() * 1000))));

  // ---- peek / poke ----
  for (const width of [8, 16, 32]) {
    g["peek" + width] = fn("peek" + width, (_self, addr: number, count?: number) => {
      if (count === undefined) return peek(dev, Number(addr) >>> 0, width);
      const out: number[] = [];
      for (let i = 0; i < count; i++) out.push(peek(dev, (Number(addr) + (i * width) / 8) >>> 0, width));
      return realm.array(out);
    });
    g["poke" + width] = fn("poke" + width, (_self, addr: number, value: number | number[]) => {
      const values = Array.isArray(value) ? value : [value];
      values.forEach((v, i) => poke(dev, (Number(addr) + (i * width) / 8) >>> 0, Number(v) >>> 0, width));
    });
  }

  // ---- btoa / atob ----
  g.btoa = fn("btoa", (_self, s: string) => Buffer.from(toBytes(String(s))).toString("base64"));
  g.atob = fn("atob", (_self, s: string) => toLatin1(new Uint8Array(Buffer.from(String(s), "base64"))));

  // ---- devices ----
  for (const [name, obj] of dev.devices) {
    const target = obj as Record<string, unknown>;
    addEvents(target);
    const write = (...args: unknown[]): void => {
      let text = "";
      for (const a of args) text += toLatin1(toBytes(a));
      dev.transmit(name, text);
    };
    define(target, "write", fn("write", (_self, ...args: unknown[]) => write(...args)));
    define(target, "print", fn("print", (_self, s: unknown) => write(String(s))));
    define(target, "println", fn("println", (_self, s: unknown) => write(String(s) + "\r\n")));
    define(target, "setConsole", fn("setConsole", (_self, force?: boolean) => dev.repl.setConsole(name, !!force)));
    g[name] = target;
  }
  // Espruino's root scope by name, as Node's `global`: the devices above are its properties, and so is every global variable.
  define(g, "global", g);

  // ---- E ----
  const E = realm.object();
  addEvents(E);
  E.CRC32 = fn("CRC32", (_self, data: unknown) => crc32(toBytes(data)));
  E.getErrorFlags = fn("getErrorFlags", () => {
    const order = ["FIFO_FULL", "BUFFER_FULL", "CALLBACK", "LOW_MEMORY", "MEMORY", "MEMORY_BUSY", "UART_OVERFLOW"];
    const flags = order.filter((f) => dev.errorFlags.has(f));
    dev.errorFlags.clear();
    return realm.array(flags);
  });
  E.setConsole = fn("setConsole", (_self, device: unknown, options?: { force?: boolean }) => {
    const name = typeof device === "string" ? device : device && typeof device === "object" ? deviceName(device) : undefined;
    const target = name ?? dev.repl.consoleDevice;
    if (!dev.devices.has(target)) throw realm.error(`Unknown device "${String(device)}"`);
    dev.repl.setConsole(target, !!(options && options.force));
  });
  E.getConsole = fn("getConsole", () => dev.repl.consoleDevice);
  E.enableWatchdog = fn("enableWatchdog", (_self, seconds: number, isAuto?: unknown) => {
    const s = Number(seconds);
    dev.enableWatchdog(s >= 0 ? s : 1, isAuto === undefined || !!isAuto);
  });
  E.kickWatchdog = fn("kickWatchdog", () => dev.kickWatchdog());
  E.reboot = fn("reboot", () => dev.rebootNow());
  E.toUint8Array = fn("toUint8Array", (_self, ...args: unknown[]) => {
    const parts = args.map(toBytes);
    const out = new realm.intrinsics.Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  });
  E.toString = fn("toString", (_self, ...args: unknown[]) => args.map((a) => toLatin1(toBytes(a))).join(""));
  E.toArrayBuffer = fn("toArrayBuffer", (_self, s: unknown) => realm.bytes(toBytes(s)).buffer);
  E.setFlags = fn("setFlags", () => undefined);
  E.getFlags = fn("getFlags", () => realm.object());
  E.getSizeOf = fn("getSizeOf", () => 0);
  g.E = E;

  // ---- process ----
  const linux = dev.board.name === "LINUX";
  const processObject = realm.object();
  addEvents(processObject);
  const env = realm.object();
  env.VERSION = dev.version;
  env.BOARD = dev.board.name;
  env.SERIAL = dev.serial;
  env.CONSOLE = dev.repl.consoleDevice;
  if (linux) Object.assign(env, LINUX_ENV);
  processObject.env = env;
  processObject.version = dev.version;
  processObject.memory = fn("memory", () => {
    const m = realm.object();
    const total = dev.board.jsVars;
    const usage = Math.min(total, dev.memoryUsage);
    m.free = total - usage;
    m.usage = usage;
    m.total = total;
    m.history = 0;
    m.gc = 0;
    m.gctime = 0;
    m.blocksize = dev.board.varBytes;
    if (linux) {
      // Bytes received and sent on the console; figures of no use to the device code, there for the field list.
      m.rx = 0;
      m.tx = 0;
      return m;
    }
    if (dev.board.retained?.kind === "nrf52-ram") m.stackEndAddress = dev.stackEndAddress;
    m.flash_start = dev.board.flash[0].addr;
    m.flash_length = dev.board.flash.reduce((n, s) => n + s.size * s.count, 0);
    return m;
  });
  g.process = processObject;

  // ---- modules ----
  const cache = new Map<string, unknown>();
  const Modules = realm.object();
  Modules.addCached = fn("addCached", (_self, id: string, source: unknown) => {
    cache.set(String(id), typeof source === "function" ? (source as () => unknown)() : dev.evaluateModule(String(id), String(source)));
  });
  Modules.removeCached = fn("removeCached", (_self, id: string) => {
    cache.delete(String(id));
  });
  Modules.removeAllCached = fn("removeAllCached", () => cache.clear());
  Modules.getCached = fn("getCached", () => realm.array(Array.from(cache.keys())));
  g.Modules = Modules;

  const natives: { [name: string]: () => unknown } = {
    Flash: () => flashModule(dev),
    Storage: () => storageModule(realm, dev.storage),
  };
  natives.heatshrink = () => heatshrinkModule(dev);
  g.require = fn("require", (_self, name: string) => {
    const id = String(name);
    if (cache.has(id)) return cache.get(id);
    if (Object.prototype.hasOwnProperty.call(natives, id)) {
      const m = natives[id]();
      cache.set(id, m);
      return m;
    }
    const source = dev.storage.read(id);
    if (source) {
      const exports = dev.evaluateModule(id, toLatin1(source), true);
      cache.set(id, exports);
      return exports;
    }
    throw realm.error(`Module "${id}" not found`);
  });

  // ---- reset / load / save ----
  g.reset = fn("reset", () => dev.requestReset("reset"));
  g.load = fn("load", (_self, file?: string) => dev.requestReset("load", file === undefined ? undefined : String(file)));
  g.save = fn("save", () => dev.requestReset("load"));
}

function flashModule(dev: DeviceInternals): unknown {
  const { realm } = dev;
  const fn = realm.native.bind(realm);
  const m = realm.object();
  m.getFree = fn("getFree", () =>
    realm.array(
      freeAreas(dev.board).map((a) => {
        const o = realm.object();
        o.addr = a.addr;
        o.length = a.length;
        return o;
      }),
    ),
  );
  m.getPage = fn("getPage", (_self, addr: number) => {
    try {
      const unit = dev.flash.unitAt(Number(addr));
      const o = realm.object();
      o.addr = unit.addr;
      o.length = unit.size;
      return o;
    } catch {
      return undefined;
    }
  });
  m.erasePage = fn("erasePage", (_self, addr: unknown) => {
    if (typeof addr !== "number") throw realm.error("Expecting an integer address");
    dev.flash.erase(dev.flash.unitAt(addr).addr);
  });
  m.write = fn("write", (_self, data: unknown, addr: number) => firmwareFlashWrite(dev.flash, Number(addr), toBytes(data)));
  m.read = fn("read", (_self, length: number, addr: number) => realm.bytes(dev.flash.read(Number(addr), Number(length))));
  return m;
}

/** The firmware's C heatshrink, played by the project's codec: the same bytes both ways (test/heatshrink.test.ts). */
function heatshrinkModule(dev: DeviceInternals): unknown {
  const { realm } = dev;
  const fn = realm.native.bind(realm);
  const m = realm.object();
  m.compress = fn("compress", (_self, data: unknown) => realm.bytes(heatshrinkCompress(toBytes(data))).buffer);
  m.decompress = fn("decompress", (_self, data: unknown) => realm.bytes(heatshrinkDecompress(toBytes(data), Infinity)).buffer);
  return m;
}
