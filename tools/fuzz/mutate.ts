// Mutations of seed images: damage a flash image (and its retained area) the ways power loss, worn cells, foreign
// data and an adversary would, including bytes that pass their CRCs but say absurd things. Every mutation is
// drawn from a seeded generator, so a case replays exactly from (board, seed, case index).

import type { FlashImage } from "../../hal/sim/image";
import { randomBelow } from "../../hal/sim/random";
import type { MediumPage, SeedImage } from "./corpus";
import { crc32 as crc } from "../../hal/sim/crc";
import { u32 } from "./verify";

const PAGE_MAGIC = 0x47505350;
const RECORD_MAGIC = 0x52545350;
const RETAINED_MAGIC = 0x42525350;

type Rand = () => number;

/** Rounds up to a multiple of 4 without 32-bit overflow (stored lengths here may be forged). */
function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 255;
  b[o + 1] = (v >>> 8) & 255;
  b[o + 2] = (v >>> 16) & 255;
  b[o + 3] = (v >>> 24) & 255;
}

export function cloneImage(image: FlashImage): FlashImage {
  return {
    board: image.board,
    kind: image.kind,
    spans: image.spans.map((s) => ({ ...s })),
    data: image.data.map((d) => d.slice()),
    retained: image.retained ? image.retained.slice() : undefined,
    // The layout says where the pages are, not what they hold: mutations leave it as the seed wrote it.
    layout: image.layout,
  };
}

/** The bytes of a medium page inside the image, as a live view (writes change the image). */
function pageBytes(image: FlashImage, page: MediumPage): Uint8Array {
  const i = image.spans.findIndex((s) => page.addr >= s.addr && page.addr + page.size <= s.addr + s.size);
  return image.data[i].subarray(page.addr - image.spans[i].addr, page.addr - image.spans[i].addr + page.size);
}

/** Offsets of word-aligned record magics in a page (real headers, copies, or chance). */
function recordOffsets(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let o = 24; o + 48 <= b.length; o += 4) if (u32(b, o) === RECORD_MAGIC) out.push(o);
  return out;
}

function pick<T>(rand: Rand, items: T[]): T {
  return items[randomBelow(rand, items.length)];
}

function alignedOffset(rand: Rand, size: number, room: number): number {
  return 4 * randomBelow(rand, Math.max(1, Math.floor((size - room) / 4) + 1));
}

/** A 32-bit value that tends to hit edges: 0, 1, all ones, sign bit, page-ish sizes, or random. */
function edgyValue(rand: Rand, pageSize: number): number {
  const choices = [0, 1, 2, 0xffffffff, 0x7fffffff, 0x80000000, pageSize, pageSize - 52, pageSize - 76, pageSize + 4, 0xfffffffc, rand() >>> 0, randomBelow(rand, 4096)];
  return pick(rand, choices) >>> 0;
}

/** Re-seals a record header at `o`: header CRC always, record CRC over the payload when it fits in the page. */
function resealRecord(b: Uint8Array, o: number, withRecordCrc: boolean): void {
  put32(b, o + 36, crc(b.subarray(o, o + 36)));
  if (!withRecordCrc) return;
  const n = u32(b, o + 28);
  if (o + 48 + n > b.length) return;
  const img = new Uint8Array(48 + n);
  img.set(b.subarray(o, o + 36));
  img.fill(0xff, 36, 48);
  img.set(b.subarray(o + 48, o + 48 + n), 48);
  put32(b, o + 40, crc(img));
}

function resealPage(b: Uint8Array): void {
  put32(b, 20, crc(b.subarray(0, 20)));
}

interface MutationContext {
  rand: Rand;
  image: FlashImage;
  pages: MediumPage[];
}

type Mutation = (c: MutationContext) => string | undefined;

function randomPage(c: MutationContext): { b: Uint8Array; index: number } | undefined {
  if (!c.pages.length) return undefined;
  const index = randomBelow(c.rand, c.pages.length);
  return { b: pageBytes(c.image, c.pages[index]), index };
}

/** A page that holds records, when one does (most mutations are more telling there). */
function recordPage(c: MutationContext): { b: Uint8Array; index: number; offs: number[] } | undefined {
  const withRecords = c.pages.map((p, index) => ({ b: pageBytes(c.image, p), index })).map((p) => ({ ...p, offs: recordOffsets(p.b) }));
  const some = withRecords.filter((p) => p.offs.length);
  return some.length ? pick(c.rand, some) : undefined;
}

const MUTATIONS: { [name: string]: Mutation } = {
  flipBits(c) {
    const p = randomPage(c);
    if (!p) return undefined;
    const n = 1 + randomBelow(c.rand, 16);
    for (let k = 0; k < n; k++) p.b[randomBelow(c.rand, p.b.length)] ^= 1 << randomBelow(c.rand, 8);
    return `flip ${n} bits in page ${p.index}`;
  },
  flipBitInRecord(c) {
    const p = recordPage(c);
    if (!p) return undefined;
    const o = pick(c.rand, p.offs);
    const at = o + randomBelow(c.rand, Math.min(p.b.length - o, 120));
    p.b[at] ^= 1 << randomBelow(c.rand, 8);
    return `flip a bit at ${at} in the record at ${o} of page ${p.index}`;
  },
  zeroWords(c) {
    const p = randomPage(c);
    if (!p) return undefined;
    const o = alignedOffset(c.rand, p.b.length, 4);
    const n = Math.min(1 + randomBelow(c.rand, 8), (p.b.length - o) / 4);
    p.b.fill(0, o, o + 4 * n);
    return `zero ${n} words at ${o} of page ${p.index}`;
  },
  eraseRange(c) {
    const p = randomPage(c);
    if (!p) return undefined;
    const o = alignedOffset(c.rand, p.b.length, 4);
    const n = 4 * (1 + randomBelow(c.rand, (p.b.length - o) / 4));
    p.b.fill(0xff, o, o + n);
    return `0xFF over ${n} bytes at ${o} of page ${p.index}`;
  },
  truncatePage(c) {
    const p = recordPage(c);
    if (!p) return undefined;
    const o = pick(c.rand, p.offs) + 4 * randomBelow(c.rand, 20);
    p.b.fill(0xff, Math.min(o, p.b.length));
    return `page ${p.index} blank from ${o} (write cut)`;
  },
  interruptedErase(c) {
    const p = randomPage(c);
    if (!p) return undefined;
    for (let i = 0; i < p.b.length; i++) {
      const r = randomBelow(c.rand, 10);
      if (r < 4) p.b[i] = 0xff;
      else if (r < 7) p.b[i] |= c.rand() & 0xff;
    }
    return `interrupted erase of page ${p.index}`;
  },
  garbagePage(c) {
    const p = randomPage(c);
    if (!p) return undefined;
    for (let i = 0; i < p.b.length; i++) p.b[i] = c.rand() & 0xff;
    if (randomBelow(c.rand, 2)) {
      put32(p.b, 0, PAGE_MAGIC);
      p.b[4] = 1;
      resealPage(p.b);
      return `garbage page ${p.index} behind a valid page header`;
    }
    return `garbage page ${p.index}`;
  },
  copyHeader(c) {
    const from = recordPage(c);
    const to = randomPage(c);
    if (!from || !to) return undefined;
    const o = pick(c.rand, from.offs);
    const header = from.b.slice(o, o + 48);
    const at = 24 + alignedOffset(c.rand, to.b.length - 24, 48);
    to.b.set(header, at);
    return `copy the header at ${o} of page ${from.index} to ${at} of page ${to.index}`;
  },
  copyRecord(c) {
    const from = recordPage(c);
    const to = randomPage(c);
    if (!from || !to) return undefined;
    const o = pick(c.rand, from.offs);
    const n = Math.min(from.b.length - o, 52 + pad4(u32(from.b, o + 28)));
    if (n > to.b.length - 24) return undefined;
    const at = 24 + alignedOffset(c.rand, to.b.length - 24, n);
    to.b.set(from.b.slice(o, o + n), at);
    return `copy the record at ${o} of page ${from.index} (${n} bytes) to ${at} of page ${to.index}`;
  },
  forgeHeaderField(c) {
    const p = recordPage(c);
    if (!p) return undefined;
    const o = pick(c.rand, p.offs);
    const fields: Array<[string, () => void]> = [
      ["stored length", () => put32(p.b, o + 28, edgyValue(c.rand, p.b.length))],
      ["original length", () => put32(p.b, o + 32, edgyValue(c.rand, p.b.length))],
      ["sequence", () => put32(p.b, o + 12, edgyValue(c.rand, p.b.length))],
      ["boot", () => put32(p.b, o + 16, edgyValue(c.rand, p.b.length))],
      ["part count", () => (p.b[o + 10] = pick(c.rand, [1, 2, 3, 255, randomBelow(c.rand, 256)]))],
      ["part index", () => (p.b[o + 9] = pick(c.rand, [0, 1, 2, 254, randomBelow(c.rand, 256)]))],
      ["type", () => (p.b[o + 5] = pick(c.rand, [1, 2, 3, 4, 5, 6, 200, 255]))],
      ["codec", () => (p.b[o + 7] = pick(c.rand, [0, 1, 2, 3, 255]))],
      ["flags", () => (p.b[o + 8] = c.rand() & 0xff)],
      ["reason", () => (p.b[o + 6] = c.rand() & 0xff)],
    ];
    const count = 1 + randomBelow(c.rand, 3);
    const names: string[] = [];
    for (let k = 0; k < count; k++) {
      const [name, apply] = pick(c.rand, fields);
      apply();
      names.push(name);
    }
    const full = randomBelow(c.rand, 2) === 0;
    resealRecord(p.b, o, full);
    return `forge ${names.join(", ")} of the record at ${o} of page ${p.index} with a valid header CRC${full ? " and record CRC" : ""}`;
  },
  forgePageHeader(c) {
    const p = randomPage(c);
    if (!p) return undefined;
    put32(p.b, 0, PAGE_MAGIC);
    p.b[4] = 1;
    put32(p.b, 8, edgyValue(c.rand, p.b.length));
    put32(p.b, 12, edgyValue(c.rand, p.b.length));
    put32(p.b, 16, edgyValue(c.rand, p.b.length));
    resealPage(p.b);
    return `forge the page header of page ${p.index} (erase count, sequence and boot watermarks) with a valid CRC`;
  },
  spliceHalves(c) {
    const a = randomPage(c);
    const b = randomPage(c);
    if (!a || !b || a.index === b.index || a.b.length !== b.b.length) return undefined;
    const cut = alignedOffset(c.rand, a.b.length, 4);
    a.b.set(b.b.slice(cut), cut);
    return `page ${a.index} from offset ${cut} replaced by page ${b.index}'s bytes`;
  },
  duplicatePage(c) {
    const a = randomPage(c);
    const b = randomPage(c);
    if (!a || !b || a.index === b.index || a.b.length !== b.b.length) return undefined;
    a.b.set(b.b);
    return `page ${a.index} overwritten with a copy of page ${b.index}`;
  },
  swapPages(c) {
    const a = randomPage(c);
    const b = randomPage(c);
    if (!a || !b || a.index === b.index || a.b.length !== b.b.length) return undefined;
    const t = a.b.slice();
    a.b.set(b.b);
    b.b.set(t);
    return `pages ${a.index} and ${b.index} swapped`;
  },
  forgeRecordAtFreeSpace(c) {
    const p = recordPage(c);
    if (!p) return undefined;
    // A well-formed record header at the start of free space whose length runs past the page or over garbage.
    const last = p.offs[p.offs.length - 1];
    const o = last + 52 + pad4(u32(p.b, last + 28));
    if (o + 48 > p.b.length || last + 48 > p.b.length) return undefined;
    p.b.set(p.b.slice(last, last + 48), o);
    put32(p.b, o + 12, edgyValue(c.rand, p.b.length));
    put32(p.b, o + 28, edgyValue(c.rand, p.b.length));
    resealRecord(p.b, o, true);
    return `forge a record header in the free space at ${o} of page ${p.index}`;
  },
};

const RETAINED_MUTATIONS: { [name: string]: (rand: Rand, r: Uint8Array) => string } = {
  random(rand, r) {
    for (let i = 0; i < r.length; i++) r[i] = rand() & 0xff;
    return "retained area random";
  },
  badCrc(rand, r) {
    put32(r, 0, RETAINED_MAGIC);
    r[4 + randomBelow(rand, 4)] ^= 1 << randomBelow(rand, 8);
    return "retained area with a valid magic and a bad CRC";
  },
  absurdFields(rand, r) {
    put32(r, 0, RETAINED_MAGIC);
    const ring = r.length - 24;
    put32(r, 20, pick(rand, [0xffffffff, ring, ring + 1, ring * 2 - 1, 0x80000000, rand() >>> 0]));
    if (randomBelow(rand, 2)) r[12] = rand() & 0xff;
    if (randomBelow(rand, 2)) put32(r, 16, pick(rand, [0, 0xffffffff, 0xfffffffe, rand() >>> 0]));
    if (randomBelow(rand, 2)) put32(r, 8, rand() >>> 0);
    put32(r, 4, crc(r.subarray(8, 24)));
    return "retained area with a valid CRC and absurd position, reason, boot or crash count";
  },
  allSame(rand, r) {
    const v = pick(rand, [0, 0xff]);
    r.fill(v);
    return `retained area all 0x${v.toString(16)}`;
  },
};

export interface MutatedCase {
  image: FlashImage;
  mutations: string[];
}

/** 1–4 flash mutations, and (on boards with retained RAM) sometimes one of the retained area. */
export function mutate(seedImage: SeedImage, rand: Rand): MutatedCase {
  const image = cloneImage(seedImage.image);
  const c: MutationContext = { rand, image, pages: seedImage.pages };
  const names = Object.keys(MUTATIONS);
  const mutations: string[] = [];
  const count = 1 + randomBelow(rand, 4);
  for (let k = 0; k < count; k++) {
    const done = MUTATIONS[pick(rand, names)](c);
    if (done) mutations.push(done);
  }
  if (image.retained && randomBelow(rand, 3) === 0) {
    const retainedNames = Object.keys(RETAINED_MUTATIONS);
    mutations.push(RETAINED_MUTATIONS[pick(rand, retainedNames)](rand, image.retained));
  }
  return { image, mutations };
}

/** Damage to the image file itself (header JSON, lengths, truncation): only the host decoder ever reads that. */
export function mutateFile(bytes: Uint8Array, rand: Rand): { bytes: Uint8Array; mutation: string } {
  const kind = randomBelow(rand, 4);
  if (kind === 0) {
    const n = randomBelow(rand, bytes.length);
    return { bytes: bytes.slice(0, n), mutation: `image file truncated to ${n} bytes` };
  }
  const out = bytes.slice();
  const jsonLength = u32(out, 8);
  if (kind === 1) {
    put32(out, 8, edgyValue(rand, jsonLength));
    return { bytes: out, mutation: "image header length forged" };
  }
  if (kind === 2) {
    const at = 12 + randomBelow(rand, Math.max(1, jsonLength));
    out[at] = pick(rand, [0x22, 0x7d, 0x2d, 0x30, 0x39, rand() & 0xff]);
    return { bytes: out, mutation: `image header JSON byte ${at} changed` };
  }
  const json = new TextDecoder().decode(out.subarray(12, 12 + jsonLength));
  const forged = json.replace(/"size":(\d+)/, (_m, n) => `"size":${pick(rand, [0, 1, Number(n) + 4, 1e15, -4])}`).replace(/"retained":(\d+)/, (_m, n) => `"retained":${pick(rand, [0, Number(n), Number(n) + 1, 9e9])}`);
  const head = new TextEncoder().encode(forged);
  const rebuilt = new Uint8Array(12 + head.length + out.length - 12 - jsonLength);
  rebuilt.set(out.subarray(0, 8));
  put32(rebuilt, 8, head.length);
  rebuilt.set(head, 12);
  rebuilt.set(out.subarray(12 + jsonLength), 12 + head.length);
  return { bytes: rebuilt, mutation: "image header spans or retained length forged" };
}
