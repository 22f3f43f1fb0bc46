// A simulated board whose store is full, as after a long run: every zone written to its capacity
// with corpus text compressed by the board's codec, and ftrace snapshots where a zone keeps traces. Shared by the
// host decode and serial pull sections, which both need "a full store".

import type { BoardDefinition, RecordTypeName } from "../../boards/types";
import { createSimHal, type SimDevice } from "../../hal/sim/index";
import type { ZoneStatus } from "../../pstore/backend";
import { encodePayload, heatshrinkCodec, lz4Codec, type PayloadCodec } from "../../pstore/codec";
import { Pstore } from "../../pstore/core";
import { Flag, Reason, typeFromName } from "../../pstore/format";
import { Tracer } from "../../pstore/ftrace";
import { heatshrinkCompress, heatshrinkDecompress } from "../../pstore/heatshrink";
import { MAX_ORIGINAL_LENGTH } from "../archive/record";
import { PAYLOAD_BYTES } from "./flash-cost";

function codecOf(board: BoardDefinition): PayloadCodec | undefined {
  if (board.codec === "lz4") return lz4Codec(board.lz4HashBits, board.timing.jsCompressBytesPerMs);
  if (board.codec === "heatshrink") {
    return heatshrinkCodec({
      compress: (data) => heatshrinkCompress(data).buffer as ArrayBuffer,
      decompress: (data) => heatshrinkDecompress(data, MAX_ORIGINAL_LENGTH).buffer as ArrayBuffer,
    });
  }
  return undefined;
}

/** An ftrace record payload: a small call tree traced a few hundred times (the ring keeps the last 64 calls). */
function tracePayload(seed: number): Uint8Array {
  let now = seed * 1000;
  const tracer = new Tracer(64, () => now++);
  const leaf = tracer.trace(() => now++, "sensor.read");
  const mid = tracer.trace(() => leaf() + leaf(), "app.sample");
  const top = tracer.trace(() => mid(), "app.tick");
  for (let i = 0; i < 100 + seed; i++) top();
  return tracer.snapshot()!;
}

/** Payload `k` of a type: a slice of the corpus text (or a trace), different for every k. */
function rawPayload(type: RecordTypeName, k: number, text: Uint8Array): Uint8Array {
  if (type === "ftrace") return tracePayload(k);
  const n = PAYLOAD_BYTES[type];
  const start = (k * 977) % Math.max(1, text.length - n);
  return text.subarray(start, start + n);
}

function zoneOf(store: Pstore, name: string): ZoneStatus {
  for (const backend of store.status().backends) for (const zone of backend.zones ?? []) if (zone.name === name) return zone;
  throw new Error(`${store.board.name}: zone ${name} is missing from the store's status`);
}

function eraseDropMarkers(store: Pstore): void {
  for (const meta of store.list()) if (meta.flags & Flag.Drop && !store.erase(meta.name)) throw new Error(`cannot erase drop marker ${meta.name}`);
}

/** A simulated board whose every zone has been written to its capacity with records of its types. */
export function fillStore(board: BoardDefinition, text: Uint8Array): SimDevice {
  const dev = createSimHal(board);
  const store = new Pstore(dev.hal, { board, ram: false });
  store.start();
  const codec = codecOf(board);
  let k = 0;
  for (const zoneConfig of board.zones) {
    const zone = zoneOf(store, zoneConfig.name);
    const capacity = zone.bytesUsed + zone.bytesFree;
    for (let written = 0; written < capacity; k++) {
      const type = zoneConfig.types[k % zoneConfig.types.length];
      const raw = rawPayload(type, k, text);
      const encoded = encodePayload(codec, raw, false, 0);
      const flags = type === "ftrace" ? Flag.FtraceNames : 0;
      const name = store.write(typeFromName(type), Reason.Periodic, encoded.bytes, { codec: encoded.codec, flags, originalLength: raw.length });
      if (!name) {
        // A full keep-first zone left a drop marker instead. tools/archive/record.ts reports a drop marker as
        // undecoded (no payload, yet the dropped record's codec and length), so it is erased: the store then holds
        // only records a pull archives.
        eraseDropMarkers(store);
        break;
      }
      written += encoded.bytes.length;
      while (store.idle());
    }
  }
  return dev;
}

