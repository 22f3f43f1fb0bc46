// Flash cost section: what one record of each type costs on each board's medium, through the real core (pstore/core)
// over the simulated board (hal/sim), whose counters and cost model (BoardTiming) give bytes programmed, erases and
// modelled time. Measured three ways: one normal write, one crash-path write (must erase nothing), and the
// amortised cost per record while a zone is filled (ring zones: three times over), idle work included.

import { boardNames, getBoard } from "../../boards/index";
import type { BoardDefinition, RecordTypeName } from "../../boards/types";
import { createSimHal, type SimDevice } from "../../hal/sim/index";
import { Pstore } from "../../pstore/core";
import { Reason, typeFromName } from "../../pstore/format";

/** Representative payload sizes (bytes, as stored): a crash report, a console flush, a trace, a user message, an event. */
export const PAYLOAD_BYTES: Record<RecordTypeName, number> = {
  dmesg: 1024,
  console: 2048,
  ftrace: 512,
  pmsg: 128,
  event: 32,
};

const RECORD_TYPES = Object.keys(PAYLOAD_BYTES) as RecordTypeName[];
/** Reason each type is written with (dmesg/event as after an uncaught exception, the others as routine). */
const REASONS: Record<RecordTypeName, Reason> = {
  dmesg: Reason.Exception,
  console: Reason.Periodic,
  ftrace: Reason.Periodic,
  pmsg: Reason.User,
  event: Reason.Exception,
};
/** A ring zone is filled this many times over so the amortised figure includes its page rotation. */
const RING_LAPS = 3;

export interface WriteCost {
  programBytes: number;
  programOps: number;
  erases: number;
  /** Time the operations take on the board's flash (BoardTiming), milliseconds. */
  modelledMs: number;
  /** programBytes / payload bytes. */
  amplification: number;
}

export interface FlashCostRow {
  board: string;
  backend: string;
  type: RecordTypeName;
  zone: string;
  policy: string;
  payloadBytes: number;
  /** One write into a freshly prepared zone, then the idle work it leaves. */
  write: WriteCost;
  /** One crash-path write (crash: true) into a freshly prepared zone. */
  crash: WriteCost;
  /** Per stored record while the zone is filled (ring: RING_LAPS times), idle work included. */
  amortised: WriteCost & { records: number };
}

function payloadOf(type: RecordTypeName, text: Uint8Array): Uint8Array {
  const n = PAYLOAD_BYTES[type];
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = text[i % text.length];
  return out;
}

function drainIdle(store: Pstore): void {
  for (let i = 0; i < 10000 && store.idle(); i++);
}

/** A started store on a fresh simulated board with every page prepared, counters at zero. */
function freshStore(board: BoardDefinition): { dev: SimDevice; store: Pstore } {
  const dev = createSimHal(board);
  const store = new Pstore(dev.hal, { board, ram: false });
  store.start();
  drainIdle(store);
  dev.flash.resetCounters();
  return { dev, store };
}

function cost(dev: SimDevice, payloadBytes: number): WriteCost {
  const c = dev.flash.counters();
  return {
    programBytes: c.programBytes,
    programOps: c.programOps,
    erases: c.eraseOps,
    modelledMs: dev.flash.modelledMs(),
    amplification: payloadBytes > 0 ? c.programBytes / payloadBytes : 0,
  };
}

function perRecord(total: WriteCost, records: number, payloadBytes: number): WriteCost & { records: number } {
  return {
    records,
    programBytes: total.programBytes / records,
    programOps: total.programOps / records,
    erases: total.erases / records,
    modelledMs: total.modelledMs / records,
    amplification: total.programBytes / (records * payloadBytes),
  };
}

function single(board: BoardDefinition, type: RecordTypeName, payload: Uint8Array, crash: boolean): WriteCost {
  const { dev, store } = freshStore(board);
  const name = store.write(typeFromName(type), REASONS[type], payload, { crash });
  if (!name) throw new Error(`${board.name}: a ${crash ? "crash" : "normal"} ${type} write of ${payload.length} bytes into a fresh store was not stored`);
  if (!crash) drainIdle(store);
  return cost(dev, payload.length);
}

function amortised(board: BoardDefinition, type: RecordTypeName, payload: Uint8Array, ring: boolean): WriteCost & { records: number } {
  const { dev, store } = freshStore(board);
  const zone = zoneStatus(store, type);
  const target = (zone.bytesUsed + zone.bytesFree) * (ring ? RING_LAPS : 1);
  let records = 0;
  for (let written = 0; written < target; written += payload.length) {
    if (!store.write(typeFromName(type), REASONS[type], payload)) break; // a keep-first zone is full
    records++;
    drainIdle(store);
  }
  if (records === 0) throw new Error(`${board.name}: no ${type} record of ${payload.length} bytes could be stored`);
  return perRecord(cost(dev, payload.length), records, payload.length);
}

function zoneStatus(store: Pstore, type: RecordTypeName) {
  const code = typeFromName(type);
  for (const backend of store.status().backends) {
    for (const zone of backend.zones ?? []) if (zone.types.indexOf(code) >= 0) return zone;
  }
  throw new Error(`${store.board.name}: no zone stores ${type}`);
}

export interface FlashCostOptions {
  boards?: string[];
  /** Text the payloads are cut from (its content does not change a raw record's cost). */
  text: Uint8Array;
}

export function benchFlashCost(options: FlashCostOptions): FlashCostRow[] {
  const rows: FlashCostRow[] = [];
  for (const boardName of options.boards ?? boardNames()) {
    const board = getBoard(boardName);
    for (const type of RECORD_TYPES) {
      const zone = board.zones.find((z) => z.types.indexOf(type) >= 0);
      if (!zone) continue;
      const payload = payloadOf(type, options.text);
      rows.push({
        board: board.name,
        backend: board.backend,
        type,
        zone: zone.name,
        policy: zone.policy,
        payloadBytes: payload.length,
        write: single(board, type, payload, false),
        crash: single(board, type, payload, true),
        amortised: amortised(board, type, payload, zone.policy === "ring"),
      });
    }
  }
  return rows;
}
