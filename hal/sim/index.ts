// A whole simulated board: the Hal the core runs on, plus handles to drive and inspect each part.

import type { BoardDefinition } from "../../boards/types";
import type { Hal, ResetReasonHal } from "../types";
import { crc32 } from "./crc";
import { SimClock } from "./clock";
import { SimFlash, type PowerCutMode } from "./flash";
import { decodeImage, encodeImage, type FlashImage } from "./image";
import { SimResetReason, type ResetCause } from "./reset";
import { SimRetained } from "./retained";
import { SimStorage } from "./storage";

export { SimClock } from "./clock";
export { crc32 } from "./crc";
export { FlashRuleViolation, PowerLoss, SimFlash, type FlashCounters, type PowerCutMode, type ViolationRecord } from "./flash";
export { decodeImage, encodeImage, loadImageFile, readImage, saveImageFile, type FlashImage, type ImageKind, type ImageSpan } from "./image";
export { SimResetReason, type ResetCause } from "./reset";
export { SimRetained } from "./retained";
export { EspruinoStorage, SimStorage, StorageError, readStorageFiles, type StorageStats, type StoredFile } from "./storage";

export interface SimHalOptions {
  /** Seed for torn writes and retained garbage (default 1). */
  seed?: number;
  /** Start from an image (bytes or decoded) instead of erased flash; it must be of this board. */
  image?: Uint8Array | FlashImage;
  /** Wall clock at start, seconds since 1970 (default 0: never set). */
  wallSeconds?: number;
  /** Also print every hal.log line. */
  echo?: boolean;
}

export interface SimDevice {
  board: BoardDefinition;
  /** With the reset register always: a simulated board is its own boot code too. */
  hal: Hal & { reset: ResetReasonHal };
  flash: SimFlash;
  storage: SimStorage;
  retained?: SimRetained;
  clock: SimClock;
  reset: SimResetReason;
  /** Every line passed to hal.log. */
  logs: string[];
  /**
   * Restarts the board as `cause` would: power comes back, Storage is mounted again, uptime restarts, the reset
   * register records the cause, and on "power-on"/"brownout" retained RAM turns to garbage and the wall clock is lost.
   */
  reboot(cause: ResetCause, seed?: number): void;
  /** Arms a power cut at the n-th flash program/erase from now (Storage operations included). */
  cutPowerAfter(n: number, mode: PowerCutMode, seed?: number): void;
  /** Image of flash and retained RAM, in the image file format. */
  toImage(): Uint8Array;
}

export function createSimHal(board: BoardDefinition, options: SimHalOptions = {}): SimDevice {
  const seed = options.seed ?? 1;
  let flash: SimFlash;
  let retainedBytes: Uint8Array | undefined;
  if (options.image) {
    const image = options.image instanceof Uint8Array ? decodeImage(options.image) : options.image;
    const restored = SimFlash.fromImage(image, board, { seed });
    flash = restored.flash;
    retainedBytes = restored.retained;
  } else {
    flash = new SimFlash(board, { seed });
  }
  const storage = new SimStorage(flash);
  const retained = board.retained ? new SimRetained(board, { seed, initial: retainedBytes }) : undefined;
  const clock = new SimClock();
  if (options.wallSeconds) clock.setWall(options.wallSeconds);
  const reset = new SimResetReason(board.resetReason.kind);
  // The simulated board starts as if just powered on.
  reset.cause("power-on");
  const logs: string[] = [];
  const hal: Hal & { reset: ResetReasonHal } = {
    crc32,
    clock,
    reset,
    storage,
    log(text: string) {
      logs.push(text);
      if (options.echo) console.log(text);
    },
  };
  if (board.region) hal.flash = flash;
  if (retained) hal.retained = retained;

  return {
    board,
    hal,
    flash,
    storage,
    retained,
    clock,
    reset,
    logs,
    reboot(cause: ResetCause, rebootSeed?: number) {
      const powerLost = cause === "power-on" || cause === "brownout";
      flash.powerOn();
      storage.mount();
      if (powerLost && retained) retained.powerLoss(rebootSeed ?? seed);
      // nRF52 keeps its clock over soft and watchdog resets; other chips, and any board after power loss, do not.
      clock.reboot(!powerLost && board.resetReason.kind === "nrf52");
      reset.cause(cause);
    },
    cutPowerAfter(n: number, mode: PowerCutMode, cutSeed?: number) {
      flash.cutPowerAfter(n, mode, cutSeed);
    },
    toImage() {
      return encodeImage(flash.snapshot(retained ? retained.snapshot() : undefined));
    },
  };
}
