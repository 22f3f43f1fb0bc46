// Boot scan section: what opening the store (the boot scan of pstore/core) costs as the number of records grows,
// in flash reads (operations and bytes, from the simulated flash's counters), the time those reads take on the
// board (BoardTiming) and host time. The store is filled with small records, then "rebooted" (a new Pstore over the
// same simulated flash) and only that start() is measured.

import { getBoard } from "../../boards/index";
import type { BoardDefinition } from "../../boards/types";
import { createSimHal, type SimDevice } from "../../hal/sim/index";
import { Pstore } from "../../pstore/core";
import { Reason, RecordType } from "../../pstore/format";
import { time } from "./measure";

/**
 * PICO's default layout is one 128 KB keep-first zone holding every type: 1000 event records of 32 bytes (84 bytes
 * each on flash) fit with room to spare, so no zone had to be enlarged for the measurement.
 */
export const BOOT_SCAN_BOARD = "PICO";
export const BOOT_SCAN_PAYLOAD_BYTES = 32;

export interface BootScanRow {
  board: string;
  records: number;
  /** Records the scan listed (must equal `records`). */
  listed: number;
  readOps: number;
  readBytes: number;
  /** Time the reads take on the board's flash, milliseconds. */
  modelledMs: number;
  /** Host milliseconds per start() (boot scan included), best round. */
  hostMs: number;
}

function filled(board: BoardDefinition, records: number): SimDevice {
  const dev = createSimHal(board);
  const store = new Pstore(dev.hal, { board, ram: false });
  store.start();
  const payload = new Uint8Array(BOOT_SCAN_PAYLOAD_BYTES);
  for (let i = 0; i < records; i++) {
    payload.fill(i & 0xff);
    if (!store.write(RecordType.Event, Reason.Reset, payload)) {
      throw new Error(`${board.name}: the store took only ${i} of ${records} records of ${payload.length} bytes; choose a bigger board or zone`);
    }
  }
  while (store.idle());
  return dev;
}

function boot(dev: SimDevice): Pstore {
  const store = new Pstore(dev.hal, { board: dev.board, ram: false });
  store.start();
  return store;
}

export function benchBootScan(counts: number[], minMs: number): BootScanRow[] {
  const board = getBoard(BOOT_SCAN_BOARD);
  return counts.map((records) => {
    const dev = filled(board, records);
    dev.reboot("soft");
    dev.flash.resetCounters();
    const listed = boot(dev).list().length;
    const reads = dev.flash.counters();
    const row: BootScanRow = {
      board: board.name,
      records,
      listed,
      readOps: reads.readOps,
      readBytes: reads.readBytes,
      modelledMs: dev.flash.modelledMs(),
      hostMs: time(() => boot(dev), minMs),
    };
    if (listed !== records) throw new Error(`${board.name}: boot scan listed ${listed} of ${records} records`);
    return row;
  });
}
