// The port surface: everything pstore needs from a device, and nothing more.
// The device implementation (hal/device) wraps Espruino built-ins; the simulated one (hal/sim) runs on the host.
// Kept to ES5-level types so the same interfaces type-check under tsconfig.device.json.

/** Raw NOR flash. Addresses are absolute, as `require("Flash")` takes them. */
export interface FlashHal {
  read(addr: number, length: number): Uint8Array;
  /** Programs bytes (can only clear bits). Callers pass whole, 4-byte-aligned, never-programmed words. */
  program(addr: number, data: Uint8Array): void;
  /** Erases the page or sector that starts at `addr` (sets it to 0xFF). */
  erase(pageAddr: number): void;
}

/** Memory that survives a soft or watchdog reset (garbage after power loss). Offsets are relative to the area. */
export interface RetainedHal {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

/** A pre-allocated Storage file (the `storage` backend's medium): written at increasing offsets, erased by re-creating it. */
export interface StorageHal {
  /**
   * Bytes of the file, or undefined when it does not exist. With `into` (`length` bytes long) they go there: the
   * result is `into`, or its first part when the file ends sooner, and no new array is made.
   */
  read(name: string, offset: number, length: number, into?: Uint8Array): Uint8Array | undefined;
  /** Creates `name` with `size` bytes of 0xFF (replacing any previous file). */
  create(name: string, size: number): void;
  /** Writes into a file created by `create`, at bytes that are still 0xFF. */
  write(name: string, offset: number, data: Uint8Array): void;
  remove(name: string): void;
}

export interface ClockHal {
  /** Milliseconds since this boot. */
  uptimeMs(): number;
  /** Wall-clock seconds since 1970, or 0 when the clock was never set. */
  wallSeconds(): number;
}

export interface ResetReasonHal {
  /** The raw reset-reason register, or -1 where the chip has none readable. */
  readRaw(): number;
  /** Clears the cumulative register so the next boot sees only its own cause. */
  clear(): void;
}

export interface Hal {
  crc32(data: Uint8Array): number;
  clock: ClockHal;
  /**
   * Read once per boot, by the boot event. The device hal leaves it out: the boot code (the service module) makes
   * its own from the board, so the resident module does not carry the register access.
   */
  reset?: ResetReasonHal;
  flash?: FlashHal;
  retained?: RetainedHal;
  storage?: StorageHal;
  /** Prints a line on the console (used by the `debug` setting and the host service). */
  log(text: string): void;
}
