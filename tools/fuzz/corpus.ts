// Seed images for the fuzzer: real flash images written by the core itself, with records of every type the board
// stores, raw and compressed payloads, multi-part records, erased records, a ring that overwrote its oldest page,
// crash writes, a torn write, and a valid retained-RAM area. Mutations start from these, so most mutated images
// are "almost right", which is where parsers break.

import type { BoardDefinition } from "../../boards/types";
import { pagesOf } from "../../boards/geometry";
import { createSimHal, PowerLoss, type FlashImage, type SimDevice } from "../../hal/sim/index";
import { STORAGE_HEADER_BYTES } from "../../hal/sim/storage";
import { seededRandom, randomBelow } from "../../hal/sim/random";
import { Pstore } from "../../pstore/core";
import { Codec, Flag, Reason, RecordType, typeFromName } from "../../pstore/format";
import { heatshrinkCompress } from "../../pstore/heatshrink";
import { lz4Compress, lz4CompressBound } from "../../pstore/lz4";
import { PAGE_FILE_PREFIX } from "../../pstore/pages";

/** One erase unit of the store's medium, as absolute flash addresses (a raw page, or a Storage file's data). */
export interface MediumPage {
  addr: number;
  size: number;
}

export interface SeedImage {
  label: string;
  image: FlashImage;
  /** Where the store's pages lie in the image (mutations aim there). */
  pages: MediumPage[];
}

/** The pages pstore keeps its records in on this device: the region's units, or the `pstore.p<N>` files' data. */
export function mediumPages(dev: SimDevice): MediumPage[] {
  const board = dev.board;
  if (board.backend === "flash") return pagesOf(board);
  const out: MediumPage[] = [];
  for (let i = 0; ; i++) {
    const file = dev.storage.area.find(PAGE_FILE_PREFIX + i);
    if (!file) break;
    out.push({ addr: file.addr + STORAGE_HEADER_BYTES, size: file.size });
  }
  return out;
}

/** The store configuration every fuzz and soak run uses: the board's zones, retained RAM when the board has it. */
export function openStore(dev: SimDevice): Pstore {
  const store = new Pstore(dev.hal, { board: dev.board, ram: !!dev.board.retained });
  store.start();
  return store;
}

/** Record types the board's zones store. */
export function storedTypes(board: BoardDefinition): RecordType[] {
  const out: RecordType[] = [];
  for (const z of board.zones) for (const t of z.types) if (!out.includes(typeFromName(t))) out.push(typeFromName(t));
  return out;
}

function text(rand: () => number, n: number): Uint8Array {
  const words = ["boot", "ok", "Uncaught", "Error:", "at", "line", "42", "col", "7", "BLE", "connected", "temp=21.5", "\n"];
  const out = new Uint8Array(n);
  let at = 0;
  while (at < n) {
    const w = words[randomBelow(rand, words.length)] + " ";
    for (let i = 0; i < w.length && at < n; i++) out[at++] = w.charCodeAt(i);
  }
  return out;
}

function lz4(data: Uint8Array): Uint8Array | undefined {
  const dst = new Uint8Array(lz4CompressBound(data.length));
  const n = lz4Compress(data, dst, new Uint16Array(1 << 10));
  return n > 0 ? dst.slice(0, n) : undefined;
}

/** An ftrace payload as pstore/ftrace.ts lays it out: header, n entries, name table. */
function tracePayload(rand: () => number, n: number): Uint8Array {
  const names = new TextEncoder().encode("onInit\nloop\nsend\nparse");
  const out = new Uint8Array(8 + n * 8 + names.length);
  out[0] = 8;
  out[2] = n & 255;
  out[3] = n >> 8;
  out[4] = n + 3;
  for (let i = 0; i < n; i++) {
    out[8 + i * 8] = 1 + randomBelow(rand, 4);
    out[8 + i * 8 + 2] = randomBelow(rand, 5);
    out[8 + i * 8 + 4] = i;
  }
  out.set(names, 8 + n * 8);
  return out;
}

/** Writes records of each stored type in several shapes (raw, lz4, heatshrink, crash, multi-part). */
function writeVariety(store: Pstore, board: BoardDefinition, rand: () => number): void {
  const minPage = Math.min(...(board.backend === "flash" ? pagesOf(board).map((p) => p.size) : [board.storagePageSize]));
  for (const type of storedTypes(board)) {
    const reason = 1 + randomBelow(rand, 13);
    if (type === RecordType.Ftrace) {
      store.write(type, reason, tracePayload(rand, 1 + randomBelow(rand, 40)), { flags: Flag.FtraceNames });
      continue;
    }
    const plain = text(rand, 20 + randomBelow(rand, 300));
    store.write(type, reason, plain);
    const packed = lz4(plain);
    if (packed) store.write(type, reason, packed, { codec: Codec.Lz4, originalLength: plain.length });
    store.write(type, reason, heatshrinkCompress(plain), { codec: Codec.Heatshrink, originalLength: plain.length });
    store.write(type, Reason.Panic, text(rand, 40), { crash: true });
  }
  // A record of more than one part, where the dmesg zone can hold one.
  try {
    store.write(RecordType.Dmesg, Reason.Exception, text(rand, Math.floor(minPage * 1.3)));
  } catch {
    // The zone is too small for it: the other shapes are enough.
  }
}

/**
 * The seed images of a board. Each is reproducible from `seed`. Kinds: "workload" (records of every shape, one
 * erased, ring overflowed, idle run), "pending" (the same without idle: pages waiting for erase), "torn" (a power
 * cut in the middle of the workload, torn operation), "retained" (a committed-to-be console tail in retained
 * RAM), "blank" (a new device).
 */
export function seedImages(board: BoardDefinition, seed: number): SeedImage[] {
  const out: SeedImage[] = [];
  const run = (label: string, idle: boolean, cut: number, retained: boolean) => {
    const rand = seededRandom(seed * 7919 + out.length);
    const dev = createSimHal(board, { seed, wallSeconds: 1_700_000_000 });
    try {
      if (cut) dev.cutPowerAfter(cut, "torn", seed);
      let store = openStore(dev);
      writeVariety(store, board, rand);
      const first = store.list()[0];
      if (first) store.erase(first.name);
      const ring = board.zones.find((z) => z.policy === "ring");
      if (ring) {
        const type = typeFromName(ring.types[0]);
        for (let i = 0; i < ring.pages * 4; i++) store.write(type, Reason.Periodic, text(rand, Math.floor(minPageOf(board) / 3)));
      }
      if (idle) while (store.idle());
      store = openStore(dev);
      writeVariety(store, board, rand);
      if (retained && store.ram) {
        store.ram.appendConsole("Uncaught Error: fuzz seed\r\n>" + "x".repeat(randomBelow(rand, 400)));
        store.ram.setBreadcrumb(Reason.Watchdog);
      }
    } catch (e) {
      if (!(e instanceof PowerLoss)) throw e;
      dev.reboot("power-on", seed);
    }
    out.push({ label, image: dev.flash.snapshot(dev.retained ? dev.retained.snapshot() : undefined), pages: mediumPages(dev) });
  };
  run("workload", true, 0, false);
  run("pending", false, 0, false);
  run("torn", false, 20 + (seed % 97), false);
  if (board.retained) run("retained", true, 0, true);
  const blank = createSimHal(board, { seed });
  out.push({ label: "blank", image: blank.flash.snapshot(blank.retained ? blank.retained.snapshot() : undefined), pages: mediumPages(blank) });
  return out;
}

function minPageOf(board: BoardDefinition): number {
  return board.backend === "flash" ? Math.min(...pagesOf(board).map((p) => p.size)) : board.storagePageSize;
}
