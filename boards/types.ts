// What a board definition says. One file per board in this folder fills it in from ../shared/ESPRUINO.md;
// boards/validate.ts refuses a definition that could not work, naming the board and the field.

/** A run of `count` equal erase units (pages or sectors) starting at `addr`. */
export interface FlashSpan {
  addr: number;
  size: number;
  count: number;
}

/** How a chip punishes programming a location again before it is erased. */
export type ReprogramRule =
  /** nRF52840: at most `max` programs of one 32-bit word between erases. */
  | { kind: "word-writes"; max: number }
  /** nRF52832: at most `max` word programs in one `block`-byte block between erases. */
  | { kind: "block-writes"; block: number; max: number }
  /** STM32F1: a half-word that is not 0xFFFF cannot be programmed again (the chip silently skips it). */
  | { kind: "halfword-once" }
  /** SPI NOR, STM32F4, Linux file: programming only clears bits; no count limit. */
  | { kind: "clear-only" };

export type ResetReasonKind = "nrf52" | "stm32f4" | "stm32f1" | "none";

export type RetainedKind =
  /** nRF52 RAM above the stack end, found at run time from process.memory().stackEndAddress. */
  | "nrf52-ram"
  /** STM32F4 RTC backup registers, 32 bits each. */
  | "stm32f4-bkp"
  /** STM32F1 backup data registers: 16 bits of data in each 32-bit slot. */
  | "stm32f1-bkp"
  /** ESP32 RTC slow memory. */
  | "esp32-rtc";

export interface RetainedArea {
  kind: RetainedKind;
  /** Absolute address; for "nrf52-ram" the offset above stackEndAddress. */
  addr: number;
  /** Usable bytes. */
  size: number;
  /** Whether survival across resets has been confirmed on real hardware. */
  verified: boolean;
}

export type CodecName = "raw" | "lz4" | "heatshrink";
export type BackendName = "flash" | "storage";
export type ZonePolicy = "ring" | "keep-first" | "priority";
export type RecordTypeName = "dmesg" | "console" | "ftrace" | "pmsg" | "event";

export interface ZoneConfig {
  name: string;
  /** Record types stored in this zone. */
  types: RecordTypeName[];
  /** Erase units (pages or sectors) given to the zone, taken in order from the region. */
  pages: number;
  policy: ZonePolicy;
}

export interface BoardTiming {
  /** Time to program one 32-bit word, microseconds. */
  programWordUs: number;
  /** Typical erase time of a unit of `bytes` size, milliseconds. */
  eraseMs: Array<{ bytes: number; ms: number }>;
  /** Read throughput used by the cost model, bytes per millisecond. */
  readBytesPerMs: number;
  /** Rated erase cycles per unit. */
  endurance: number;
  /** Rough interpreter speed for the crash-path cost model: bytes compressed per millisecond by the JS codec. */
  jsCompressBytesPerMs: number;
}

export interface BoardDefinition {
  name: string;
  chip: string;
  /** Every erase unit the simulation knows about: at least the pstore region and the Storage area. */
  flash: FlashSpan[];
  /** Programming granularity in bytes (alignment of a program operation). */
  programUnit: number;
  reprogram: ReprogramRule;
  /** The Storage area (never touched by the flash backend). */
  storage: { addr: number; size: number };
  /** Default backend: raw flash pages, or pre-allocated Storage files where raw pages are not known. */
  backend: BackendName;
  /** Raw flash region for the `flash` backend: page-aligned, clear of firmware and Storage. */
  region?: {
    addr: number;
    size: number;
    /** "fixed": use as given; "getFree": confirm at run time that Flash.getFree() contains it. */
    find: "fixed" | "getFree";
    verified: boolean;
  };
  /** Erase-unit size used by the `storage` backend (one Storage file per unit). */
  storagePageSize: number;
  retained?: RetainedArea;
  resetReason: { kind: ResetReasonKind; register: number };
  /** JS variables available on the interpreter, and the bytes each takes. */
  jsVars: number;
  varBytes: number;
  timing: BoardTiming;
  /** Codec the firmware offers natively ("heatshrink") or the JS one to bundle ("lz4"). */
  codec: CodecName;
  /** log2 of the LZ4 compressor's hash-table entries (2 bytes each): the codec's working-memory budget. */
  lz4HashBits: number;
  /** Optional parts built into this board's default bundle (a build flag can change them). */
  features: { retained: boolean; ftrace: boolean };
  /** Default zones (each zone takes whole erase units of the region, in order). */
  zones: ZoneConfig[];
}
