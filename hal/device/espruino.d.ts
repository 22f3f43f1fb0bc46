// The Espruino built-ins device code may use, on top of lib ES5 (tsconfig.device.json). Only what the interpreter
// really has (ESPRUINO.md §1, §3, §4, §5, §7): a missing declaration is the point, it turns a call that would fail on
// the chip into a type error.
//
// This file is also seen by the host compile (tsconfig.json includes hal/), next to @types/node. So globals Node
// also has are declared through the same names Node uses (NodeJS.Require, NodeJS.Process, Console,
// PromiseConstructor), which merge instead of clashing, and the timer functions add overloads returning `any`.

interface EspruinoFlashArea {
  addr: number;
  length: number;
}

interface EspruinoFlash {
  getFree(): EspruinoFlashArea[];
  getPage(addr: number): EspruinoFlashArea | undefined;
  erasePage(addr: number): void;
  write(data: Uint8Array | string | number[], addr: number): void;
  read(length: number, addr: number): Uint8Array;
}

interface EspruinoStorage {
  /** A memory-mapped string (no RAM), or undefined when the file does not exist. */
  read(name: string, offset?: number, length?: number): string | undefined;
  readArrayBuffer(name: string): ArrayBuffer | undefined;
  readJSON(name: string, noExceptions?: boolean): any;
  /** With `size`, pre-allocates a 0xFF-filled file; later writes at increasing offsets fill it. */
  write(name: string, data: string | Uint8Array | ArrayBuffer, offset?: number, size?: number): boolean;
  writeJSON(name: string, data: any): boolean;
  erase(name: string): void;
  list(pattern?: RegExp, filter?: { sf?: boolean }): string[];
  getFree(): number;
  compact(): void;
}

interface EspruinoHeatshrink {
  compress(data: Uint8Array | string | ArrayBuffer): ArrayBuffer;
  decompress(data: Uint8Array | string | ArrayBuffer): ArrayBuffer;
}

interface EspruinoSerial {
  on(event: "data", callback: (data: string) => void): void;
  removeAllListeners(event?: string): void;
  write(data: string | Uint8Array): void;
  setConsole(force?: boolean): void;
}

interface EspruinoMemory {
  free: number;
  usage: number;
  total: number;
  history: number;
  gc: number;
  gctime: number;
  blocksize: number;
  stackEndAddress: number;
  flash_start: number;
  flash_binary_end: number;
  flash_code_start: number;
  flash_length: number;
}

interface EspruinoE {
  /** Standard CRC-32, unsigned. */
  CRC32(data: Uint8Array | string | ArrayBuffer): number;
  /** Every argument's bytes, one after the other, in one new array. */
  toUint8Array(...data: Array<string | ArrayBuffer | Uint8Array | number[]>): Uint8Array;
  toString(data: Uint8Array | ArrayBuffer | number[]): string;
  toArrayBuffer(data: string): ArrayBuffer;
  on(event: "kill" | "init", callback: () => void): void;
  on(event: "errorFlag", callback: (flags: string[]) => void): void;
  removeListener(event: string, callback: (...args: any[]) => void): void;
  /** Returns and clears the interpreter's error flags. */
  getErrorFlags(): string[];
  enableWatchdog(timeout: number, isAuto?: boolean): void;
  kickWatchdog(): void;
  reboot(): void;
  setConsole(device: EspruinoSerial | string | null, options?: { force?: boolean }): void;
  /** Name of the console device ("USB", "Bluetooth", "LoopbackA", ...), undefined when there is none. */
  getConsole(): string | undefined;
  memoryArea(addr: number, length: number): string;
  getAddressOf(value: any, flatAddress: boolean): number;
}

declare var E: EspruinoE;
/**
 * Espruino's root scope, where the console devices (USB, Bluetooth, Serial1, Telnet, LoopbackA/B) and every global
 * variable live. Typed as @types/node types Node's `global`, so the host compile merges the two declarations.
 */
declare var global: typeof globalThis;
declare var LoopbackA: EspruinoSerial;
declare var LoopbackB: EspruinoSerial;

declare function peek8(addr: number): number;
declare function peek8(addr: number, count: number): Uint8Array;
declare function peek32(addr: number): number;
declare function poke8(addr: number, value: number | Uint8Array | number[]): void;
declare function poke32(addr: number, value: number): void;
/** Seconds (float) since boot, or since 1970 once the clock was set. */
declare function getTime(): number;
declare function setTime(seconds: number): void;
declare function print(...text: any[]): void;
declare function btoa(binary: string): string;
declare function atob(base64: string): string;

declare function setTimeout(callback: () => void, ms?: number): any;
declare function setInterval(callback: () => void, ms?: number): any;
declare function clearTimeout(id?: any): void;
declare function clearInterval(id?: any): void;

declare namespace NodeJS {
  interface Require {
    (name: "Flash"): EspruinoFlash;
    (name: "Storage"): EspruinoStorage;
    (name: "heatshrink"): EspruinoHeatshrink;
    (name: string): any;
  }
  interface ProcessEnv {
    VERSION?: string;
    BOARD?: string;
    SERIAL?: string;
  }
  interface Process {
    env: ProcessEnv;
    memory(gc?: boolean): EspruinoMemory;
    on(event: "uncaughtException", callback: (error: any) => void): any;
  }
}
declare var require: NodeJS.Require;
declare var process: NodeJS.Process;

interface Console {
  log(...data: any[]): void;
}
declare var console: Console;

interface PromiseConstructor {
  new <T>(executor: (resolve: (value: T | PromiseLike<T>) => void, reject: (reason?: any) => void) => void): Promise<T>;
  resolve<T>(value: T | PromiseLike<T>): Promise<T>;
  reject<T = never>(reason?: any): Promise<T>;
  all<T>(values: Array<T | PromiseLike<T>>): Promise<T[]>;
}
declare var Promise: PromiseConstructor;

interface ObjectConstructor {
  assign<T extends {}, U>(target: T, source: U): T & U;
  values(o: {}): any[];
  entries(o: {}): [string, any][];
}

interface Array<T> {
  includes(searchElement: T, fromIndex?: number): boolean;
  find(predicate: (value: T, index: number, obj: T[]) => unknown): T | undefined;
  findIndex(predicate: (value: T, index: number, obj: T[]) => unknown): number;
}

interface String {
  includes(searchString: string, position?: number): boolean;
  startsWith(searchString: string, position?: number): boolean;
  endsWith(searchString: string, endPosition?: number): boolean;
  padStart(maxLength: number, fillString?: string): string;
  padEnd(maxLength: number, fillString?: string): string;
}
