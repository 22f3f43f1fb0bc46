// Retained RAM on the host: survives soft and watchdog resets, turns to garbage on power loss.

import type { BoardDefinition } from "../../boards/types";
import type { RetainedHal } from "../types";
import { randomBytes, seededRandom } from "./random";

export class SimRetained implements RetainedHal {
  readonly size: number;
  private bytes: Uint8Array;
  private readonly owner: string;

  /** `initial` (e.g. from an image) must be exactly `size` bytes; otherwise the area starts as power-on garbage. */
  constructor(board: BoardDefinition, options: { seed?: number; initial?: Uint8Array } = {}) {
    if (!board.retained) throw new Error(`${board.name}: has no retained area (board.retained)`);
    this.owner = board.name;
    this.size = board.retained.size;
    if (options.initial) {
      if (options.initial.length !== this.size) {
        throw new Error(`${board.name}: retained image is ${options.initial.length} bytes, the area is ${this.size}`);
      }
      this.bytes = options.initial.slice();
    } else {
      this.bytes = randomBytes(seededRandom(options.seed ?? 1), this.size);
    }
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length, "read");
    return this.bytes.slice(offset, offset + length);
  }

  write(offset: number, data: Uint8Array): void {
    this.check(offset, data.length, "write");
    this.bytes.set(data, offset);
  }

  /** A soft reset (reset(), load(), E.reboot()): content survives. */
  softReset(): void {}

  /** A watchdog reset: content survives. */
  watchdogReset(): void {}

  /** Total power loss: content becomes garbage, reproducible from `seed`. */
  powerLoss(seed: number): void {
    this.bytes = randomBytes(seededRandom(seed), this.size);
  }

  /** Copy of the whole area, e.g. for an image file. */
  snapshot(): Uint8Array {
    return this.bytes.slice();
  }

  private check(offset: number, length: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > this.size || Math.floor(offset) !== offset) {
      throw new Error(`${this.owner}: retained ${what} at offset ${offset} of ${length} bytes is outside the ${this.size}-byte area`);
    }
  }
}
