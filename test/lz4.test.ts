import test, { type ExecutionContext } from "ava";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { lz4Compress, lz4CompressBound, lz4Decompress } from "../pstore/lz4";
import { blocksOf, loadCorpus } from "./helpers/corpus";
import { guardedBytes } from "./helpers/guarded-bytes";

// lz4js (plain JS port of LZ4) is the reference codec; the official `lz4` command, where installed, is a second one.
const require = createRequire(import.meta.url);
const lz4js = require("lz4js") as {
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
};
const xxh32 = (require("lz4js/xxh32.js") as { hash(seed: number, src: Uint8Array, index: number, len: number): number })
  .hash;
const hasLz4Command = spawnSync("lz4", ["--version"]).status === 0;
const corpus = loadCorpus();
const blockSize = 4096;

function compress(data: Uint8Array, hashBits = 10): Uint8Array {
  const dst = new Uint8Array(lz4CompressBound(data.length));
  const length = lz4Compress(data, dst, new Uint16Array(1 << hashBits));
  if (length < 0) throw new Error(`lz4Compress refused ${data.length} bytes with a dst of lz4CompressBound`);
  return dst.slice(0, length);
}

function decompress(block: Uint8Array, originalLength: number): Uint8Array {
  const dst = new Uint8Array(originalLength);
  const written = lz4Decompress(block, dst);
  return dst.subarray(0, written);
}

function referenceCompress(data: Uint8Array): Uint8Array | undefined {
  const dst = new Uint8Array(lz4js.compressBound(data.length));
  const length = lz4js.compressBlock(data, dst, 0, data.length, new Uint32Array(1 << 16));
  return length === 0 ? undefined : dst.slice(0, length); // 0: lz4js found nothing to compress
}

function referenceDecompress(block: Uint8Array, originalLength: number): Uint8Array {
  const dst = new Uint8Array(originalLength);
  return dst.subarray(0, lz4js.decompressBlock(block, dst, 0, block.length, 0));
}

/** Walks the sequences of a block and names the first breach of the format's end-of-block rules, if any. */
function endRuleBreach(block: Uint8Array, originalLength: number): string | undefined {
  let ip = 0;
  let op = 0;
  const readLength = (nibble: number) => {
    let length = nibble;
    if (nibble === 15) for (let byte = 255; byte === 255; length += byte) byte = block[ip++];
    return length;
  };
  for (;;) {
    const token = block[ip++];
    const literals = readLength(token >> 4);
    ip += literals;
    op += literals;
    if (ip >= block.length) break;
    const offset = block[ip] | (block[ip + 1] << 8);
    ip += 2;
    const matchLength = readLength(token & 15) + 4;
    if (offset === 0 || offset > op) return `offset ${offset} at output ${op}`;
    if (op > originalLength - 12) return `match at ${op} starts less than 12 bytes before the end (${originalLength})`;
    op += matchLength;
    if (op > originalLength - 5) return `match ending at ${op} covers the last 5 bytes of ${originalLength}`;
  }
  return op === originalLength ? undefined : `sequences cover ${op} bytes, not ${originalLength}`;
}

/** An LZ4 frame (independent blocks, 4 MB maximum, no checksums) around blocks, for the official command. */
function frame(blocks: Uint8Array[]): Uint8Array {
  const header = [0x04, 0x22, 0x4d, 0x18, 0x60, 0x70];
  header.push((xxh32(0, Uint8Array.from(header), 4, 2) >> 8) & 255);
  const parts: Uint8Array[] = [Uint8Array.from(header)];
  for (const block of [...blocks, new Uint8Array(0)]) {
    const size = new Uint8Array(4);
    new DataView(size.buffer).setUint32(0, block.length, true);
    parts.push(size, block);
  }
  return Buffer.concat(parts);
}

/** The compressed blocks of an LZ4 frame made by the official command with independent blocks and no checksums. */
function unframe(data: Uint8Array): Array<{ block: Uint8Array; raw: boolean }> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== 0x184d2204) throw new Error("not an LZ4 frame");
  const flags = data[4];
  if ((flags & 0x34) !== 0x20) throw new Error(`frame flags 0x${flags.toString(16)}: expected independent blocks, no checksums`);
  let at = 7 + (flags & 0x08 ? 8 : 0) + (flags & 0x01 ? 4 : 0);
  const blocks: Array<{ block: Uint8Array; raw: boolean }> = [];
  for (;;) {
    const size = view.getUint32(at, true);
    at += 4;
    if (size === 0) return blocks;
    const length = size & 0x7fffffff;
    blocks.push({ block: data.subarray(at, at + length), raw: size !== length });
    at += length;
  }
}

function lz4Command(args: string[], input: Uint8Array): Uint8Array {
  const run = spawnSync("lz4", args, { input, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`lz4 ${args.join(" ")} failed: ${run.stderr.toString()}`);
  return new Uint8Array(run.stdout);
}

/** Byte equality with a short message (ava's deep diff of 300 KB arrays is slow and unreadable). */
function sameBytes(t: ExecutionContext, actual: Uint8Array, expected: Uint8Array, what: string): void {
  const differs = actual.findIndex((byte, k) => byte !== expected[k]);
  t.true(
    actual.length === expected.length && differs < 0,
    `${what}: ${actual.length} bytes instead of ${expected.length}, first difference at ${differs}`,
  );
}

const tinyInputs: Uint8Array[] = [0, 1, 4, 12, 13].flatMap((n) => [
  new Uint8Array(n),
  Uint8Array.from({ length: n }, (_, k) => 97 + (k % 3)),
  new Uint8Array(randomBytes(n)),
]);

for (const { name, data } of corpus) {
  test(`${name}: our blocks decode with the reference decoder and keep LZ4's end-of-block rules`, (t) => {
    for (const block of [data, ...blocksOf(data, blockSize)]) {
      const compressed = compress(block);
      sameBytes(t, referenceDecompress(compressed, block.length), block, `${block.length}-byte piece`);
      t.is(endRuleBreach(compressed, block.length), undefined);
    }
  });

  test(`${name}: reference blocks (whole file and 4 KB) decode with our decoder`, (t) => {
    for (const block of [data, ...blocksOf(data, blockSize)]) {
      const reference = referenceCompress(block);
      if (!reference) t.fail(`lz4js did not compress a ${block.length}-byte piece of ${name}`);
      else sameBytes(t, decompress(reference, block.length), block, `${block.length}-byte piece`);
    }
  });

  (hasLz4Command ? test : test.skip)(`${name}: the official lz4 command decodes our blocks, and we decode its`, (t) => {
    const blocks = blocksOf(data, blockSize);
    sameBytes(t, lz4Command(["-d", "-c"], frame(blocks.map((block) => compress(block, 8)))), data, "4 KB blocks");
    sameBytes(t, lz4Command(["-d", "-c"], frame([compress(data)])), data, "whole file");
    for (const level of ["-1", "-12"]) {
      const official = unframe(lz4Command([level, "-c", "-B4", "-BI", "--no-frame-crc"], data));
      const decoded = official.map(({ block, raw }) => (raw ? block : decompress(block, 1 << 16)));
      sameBytes(t, new Uint8Array(Buffer.concat(decoded)), data, `lz4 ${level}`);
    }
  });
}

test("ratio on 4 KB corpus blocks stays within 5% of the reference with hash tables of 2^8..2^10", (t) => {
  const original = corpus.reduce((sum, { data }) => sum + data.length, 0);
  const referenceSize = corpus.reduce(
    (sum, { data }) =>
      sum + blocksOf(data, blockSize).reduce((s, block) => s + (referenceCompress(block)?.length ?? block.length), 0),
    0,
  );
  for (const hashBits of [8, 9, 10]) {
    const ourSize = corpus.reduce(
      (sum, { data }) => sum + blocksOf(data, blockSize).reduce((s, block) => s + compress(block, hashBits).length, 0),
      0,
    );
    const ours = original / ourSize;
    const reference = original / referenceSize;
    t.log(`hashBits ${hashBits}: ratio ${ours.toFixed(3)}, reference ${reference.toFixed(3)}`);
    t.true(ours >= reference / 1.05, `hashBits ${hashBits}: ratio ${ours} is more than 5% below ${reference}`);
  }
});

test("tiny and incompressible inputs round trip through both decoders", (t) => {
  for (const input of [...tinyInputs, new Uint8Array(randomBytes(4096)), new Uint8Array(70000).fill(7)]) {
    const compressed = compress(input);
    t.deepEqual(decompress(compressed, input.length), input, `${input.length} bytes`);
    t.deepEqual(referenceDecompress(compressed, input.length), input, `${input.length} bytes`);
    t.is(endRuleBreach(compressed, input.length), undefined);
  }
});

test("the compressor stays inside its buffers and returns -1 when the result does not fit", (t) => {
  const random = new Uint8Array(randomBytes(600));
  const text = corpus[0].data.subarray(0, 600);
  for (const input of [random, text, ...tinyInputs]) {
    const fitting = compress(input, 8).length;
    for (const room of [0, fitting - 1, fitting, lz4CompressBound(input.length)]) {
      if (room < 0) continue;
      const source = guardedBytes(input);
      const dst = guardedBytes(room);
      const length = lz4Compress(source.bytes, dst.bytes, new Uint16Array(256));
      t.is(length, room >= fitting ? fitting : -1, `${input.length} bytes into ${room}`);
      t.deepEqual([...source.strays, ...dst.strays], []);
      t.true(dst.guardsIntact());
    }
  }
});

/** Decodes through guarded buffers; returns the thrown message, or the decoded bytes. */
function guardedDecode(t: ExecutionContext, block: Uint8Array, room: number): string | Uint8Array {
  const source = guardedBytes(block);
  const dst = guardedBytes(room);
  let result: string | Uint8Array;
  try {
    const written = lz4Decompress(source.bytes, dst.bytes);
    result = dst.content().subarray(0, written);
  } catch (error) {
    result = String(error);
  }
  t.deepEqual([...source.strays, ...dst.strays], [], `${block.length} bytes into ${room}`);
  t.true(dst.guardsIntact());
  return result;
}

test("malformed blocks are rejected with an Error that says what is wrong", (t) => {
  const cases: Array<[number[], number, RegExp]> = [
    [[], 16, /input ends before the last literals/],
    [[0x10, 97, 0, 0], 16, /match offset 0 /],
    [[0x10, 97, 2, 0], 16, /match offset 2 at output 1 is out of range/],
    [[0x10, 97, 1, 0], 16, /input ends before the last literals/],
    [[0x10, 97, 1], 16, /match offset at byte 2 is cut off/],
    [[0x50, 1, 2], 16, /5 literals at byte 1 run past the input/],
    [[0xf0], 16, /literal length runs past the end/],
    [[0xf0, 255, 255], 16, /literal length runs past the end/],
    [[0x30, 1, 2, 3], 2, /3 literals at output 0 overflow the output/],
    [[0x1f, 97, 1, 0], 64, /match length runs past the end/],
    [[0x1f, 97, 1, 0, 200, 0x00], 64, /match of 219 at output 1 overflows the output/],
  ];
  for (const [bytes, room, message] of cases) {
    t.regex(String(guardedDecode(t, Uint8Array.from(bytes), room)), message, `[${bytes}]`);
  }
});

test("truncated blocks are rejected or decode to a prefix of the original", (t) => {
  const original = corpus[0].data.subarray(0, 1500);
  const compressed = compress(original);
  let rejected = 0;
  for (let cut = 0; cut < compressed.length; cut++) {
    const result = guardedDecode(t, compressed.subarray(0, cut), original.length);
    if (typeof result === "string") {
      t.regex(result, /^Error: LZ4: /);
      rejected++;
    } else t.deepEqual(result, original.subarray(0, result.length));
  }
  t.true(rejected > compressed.length / 2, `only ${rejected} of ${compressed.length} cuts were rejected`);
});

test("random bytes never make the decoder leave its buffers", (t) => {
  for (let round = 0; round < 300; round++) {
    const result = guardedDecode(t, new Uint8Array(randomBytes(1 + (round % 40))), 64);
    if (typeof result === "string") t.regex(result, /^Error: LZ4: /);
  }
});
