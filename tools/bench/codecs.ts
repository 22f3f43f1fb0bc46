// Codec section: compression ratio and host speed of pstore's LZ4 and heatshrink on the shared log corpus, next to
// the reference LZ4 (lz4js) measured in the same process, so the speed ratios do not depend on the machine.
// Every codec's output is decoded and compared with the input before it is timed: a wrong codec cannot post a figure.

import { createRequire } from "node:module";
import { boards } from "../../boards/index";
import { heatshrinkCompress, heatshrinkDecompress } from "../../pstore/heatshrink";
import { lz4Compress, lz4CompressBound, lz4Decompress } from "../../pstore/lz4";
import { blocksOf, type CorpusFile } from "../../test/helpers/corpus";
import { mbPerSecond, timeInterleaved } from "./measure";

const require = createRequire(import.meta.url);
const lz4js = require("lz4js") as {
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
};

export const BLOCK_SIZE = 4096;
export const REFERENCE_CODEC = "lz4js (reference)";
/** lz4js always uses a table of 2^16 entries; pstore's LZ4 is also run with one that size for a like-for-like row. */
const REFERENCE_HASH_BITS = 16;

/** A codec over a list of independent inputs (the whole file, or its blocks). */
interface CodecUnderTest {
  name: string;
  /** Compresses every input; returns the compressed inputs (an input the codec refuses is kept as is). */
  compress(inputs: Uint8Array[]): Uint8Array[];
  /** Decodes what `compress` returned into `outputs` (preallocated, one per input, of the input's length). */
  decompress(packed: Uint8Array[], outputs: Uint8Array[]): void;
}

function referenceLz4(): CodecUnderTest {
  const table = new Uint32Array(1 << REFERENCE_HASH_BITS);
  return {
    name: REFERENCE_CODEC,
    compress(inputs) {
      return inputs.map((input) => {
        const dst = new Uint8Array(lz4js.compressBound(input.length));
        table.fill(0);
        const n = lz4js.compressBlock(input, dst, 0, input.length, table);
        return n === 0 ? input : dst.subarray(0, n); // 0: nothing to compress, stored raw
      });
    },
    decompress(packed, outputs) {
      packed.forEach((block, i) => {
        if (block.length === outputs[i].length) outputs[i].set(block);
        else lz4js.decompressBlock(block, outputs[i], 0, block.length, 0);
      });
    },
  };
}

function pstoreLz4(hashBits: number): CodecUnderTest {
  const table = new Uint16Array(1 << hashBits);
  return {
    name: `pstore lz4 (2^${hashBits} table)`,
    compress(inputs) {
      return inputs.map((input) => {
        const dst = new Uint8Array(lz4CompressBound(input.length));
        const n = lz4Compress(input, dst, table);
        if (n < 0) throw new Error(`pstore lz4 refused ${input.length} bytes with a dst of lz4CompressBound`);
        return dst.subarray(0, n);
      });
    },
    decompress(packed, outputs) {
      packed.forEach((block, i) => lz4Decompress(block, outputs[i]));
    },
  };
}

function pstoreHeatshrink(): CodecUnderTest {
  return {
    name: "heatshrink (w8 l6)",
    compress: (inputs) => inputs.map((input) => heatshrinkCompress(input)),
    decompress(packed, outputs) {
      packed.forEach((block, i) => outputs[i].set(heatshrinkDecompress(block, outputs[i].length)));
    },
  };
}

/** Table sizes of the boards that bundle the JS LZ4, plus the reference's own size. */
function lz4HashBitsToRun(): number[] {
  const bits = new Set<number>([REFERENCE_HASH_BITS]);
  for (const board of Object.values(boards)) if (board.codec === "lz4") bits.add(board.lz4HashBits);
  return [...bits].sort((a, b) => a - b);
}

export interface CodecRow {
  file: string;
  /** "whole" (the file as one block) or "4k-blocks" (independent 4 KB blocks, as records are compressed). */
  mode: "whole" | "4k-blocks";
  codec: string;
  inputBytes: number;
  compressedBytes: number;
  /** inputBytes / compressedBytes. */
  ratio: number;
  compressMBps: number;
  decompressMBps: number;
  /** Speed divided by the reference LZ4's speed on the same input in this run (1 = as fast). */
  compressVsReference: number;
  decompressVsReference: number;
}

export interface CodecOptions {
  /** Minimum timed milliseconds per measurement. */
  minMs: number;
}

function checkRoundTrip(codec: CodecUnderTest, inputs: Uint8Array[], outputs: Uint8Array[], what: string): void {
  inputs.forEach((input, i) => {
    const output = outputs[i];
    if (output.length !== input.length || Buffer.compare(output, input) !== 0) {
      throw new Error(`${codec.name} on ${what}: input ${i} does not decode back to the original ${input.length} bytes`);
    }
  });
}

/** Checks the round trip once, then times every codec on the same inputs, interleaved (see timeInterleaved). */
function measureAll(codecs: CodecUnderTest[], file: string, mode: CodecRow["mode"], inputs: Uint8Array[], options: CodecOptions): CodecRow[] {
  const inputBytes = inputs.reduce((n, input) => n + input.length, 0);
  const runs = codecs.map((codec) => {
    const packed = codec.compress(inputs);
    const outputs = inputs.map((input) => new Uint8Array(input.length));
    codec.decompress(packed, outputs);
    checkRoundTrip(codec, inputs, outputs, `${file} (${mode})`);
    return { codec, packed, outputs };
  });
  const compressMs = timeInterleaved(runs.map((r) => () => void r.codec.compress(inputs)), options.minMs);
  const decompressMs = timeInterleaved(runs.map((r) => () => r.codec.decompress(r.packed, r.outputs)), options.minMs);
  return runs.map((r, i) => {
    const compressedBytes = r.packed.reduce((n, block) => n + block.length, 0);
    return {
      file,
      mode,
      codec: r.codec.name,
      inputBytes,
      compressedBytes,
      ratio: inputBytes / compressedBytes,
      compressMBps: mbPerSecond(inputBytes, compressMs[i]),
      decompressMBps: mbPerSecond(inputBytes, decompressMs[i]),
      compressVsReference: compressMs[0] / compressMs[i],
      decompressVsReference: decompressMs[0] / decompressMs[i],
    };
  });
}

export function benchCodecs(corpus: CorpusFile[], options: CodecOptions): CodecRow[] {
  // The reference first: measureAll divides the others' speeds by the first codec's.
  const codecs = [referenceLz4(), ...lz4HashBitsToRun().map(pstoreLz4), pstoreHeatshrink()];
  const rows: CodecRow[] = [];
  for (const file of corpus) {
    const modes: Array<[CodecRow["mode"], Uint8Array[]]> = [
      ["whole", [file.data]],
      ["4k-blocks", blocksOf(file.data, BLOCK_SIZE)],
    ];
    for (const [mode, inputs] of modes) rows.push(...measureAll(codecs, file.name, mode, inputs, options));
  }
  return rows;
}
