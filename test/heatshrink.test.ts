import test, { type ExecutionContext } from "ava";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { heatshrinkCompress, heatshrinkDecompress } from "../pstore/heatshrink";
import { blocksOf, loadCorpus } from "./helpers/corpus";
import { guardedBytes } from "./helpers/guarded-bytes";

// The reference: Espruino's own heatshrink C code (same configuration as the firmware), compiled to JS with
// Emscripten and shipped in the `espruino` package. Test-only.
const require = createRequire(import.meta.url);
const reference = require("espruino/libs/heatshrink.js") as {
  compress(data: Uint8Array): Uint8Array;
  decompress(data: Uint8Array): Uint8Array;
};
const corpus = loadCorpus();

function sameBytes(t: ExecutionContext, actual: Uint8Array, expected: Uint8Array, what: string): void {
  const differs = actual.findIndex((byte, k) => byte !== expected[k]);
  t.true(
    actual.length === expected.length && differs < 0,
    `${what}: ${actual.length} bytes instead of ${expected.length}, first difference at ${differs}`,
  );
}

function decodeOrError(data: Uint8Array, maxLength: number): Uint8Array | string {
  try {
    return heatshrinkDecompress(data, maxLength);
  } catch (error) {
    return String(error);
  }
}

for (const { name, data } of corpus) {
  test(`${name}: our stream decodes with the reference, the reference's with ours, and they are identical`, (t) => {
    const ours = heatshrinkCompress(data);
    const theirs = reference.compress(data);
    t.log(`ratio ${(data.length / ours.length).toFixed(3)}, reference ${(data.length / theirs.length).toFixed(3)}`);
    sameBytes(t, reference.decompress(ours), data, "reference decoder on our stream");
    sameBytes(t, heatshrinkDecompress(theirs, data.length), data, "our decoder on the reference stream");
    sameBytes(t, ours, theirs, "our stream against the reference stream");
  });
}

test("4 KB corpus blocks round trip both ways", (t) => {
  for (const { data } of corpus) {
    for (const block of blocksOf(data, 4096)) {
      sameBytes(t, reference.decompress(heatshrinkCompress(block)), block, "reference decoder");
      sameBytes(t, heatshrinkDecompress(reference.compress(block), block.length), block, "our decoder");
    }
  }
});

test("tiny, zero-filled and incompressible inputs round trip both ways", (t) => {
  const inputs = [0, 1, 2, 4, 12, 13, 300].flatMap((n) => [
    new Uint8Array(n),
    Uint8Array.from({ length: n }, (_, k) => 97 + (k % 3)),
    new Uint8Array(randomBytes(n)),
  ]);
  for (const input of [...inputs, new Uint8Array(randomBytes(4096))]) {
    sameBytes(t, reference.decompress(heatshrinkCompress(input)), input, `${input.length} bytes, reference decoder`);
    sameBytes(t, heatshrinkDecompress(reference.compress(input), input.length), input, `${input.length} bytes, ours`);
  }
});

test("a back-reference before the first byte reads zeros, as the C encoder assumes", (t) => {
  // What the C encoder makes of 10 zero bytes: one back-reference into the (zero) window before the start.
  const tenZeros = reference.compress(new Uint8Array(10));
  t.is(tenZeros.length, 2);
  sameBytes(t, heatshrinkDecompress(tenZeros, 100), new Uint8Array(10), "10 zeros");
});

test("output beyond the caller's limit is refused", (t) => {
  const data = corpus[0].data.subarray(0, 2000);
  const compressed = heatshrinkCompress(data);
  t.throws(() => heatshrinkDecompress(compressed, data.length - 1), {
    message: `heatshrink: output exceeds the limit of ${data.length - 1} bytes`,
  });
  sameBytes(t, heatshrinkDecompress(compressed, data.length), data, "at exactly the limit");
});

test("a stream that ends inside a symbol is rejected; cut at a symbol boundary it decodes to a prefix", (t) => {
  const data = corpus[1].data.subarray(0, 1500);
  const compressed = heatshrinkCompress(data);
  let rejected = 0;
  for (let cut = 0; cut < compressed.length; cut++) {
    const result = decodeOrError(compressed.subarray(0, cut), data.length);
    if (typeof result === "string") {
      t.regex(result, /^Error: heatshrink: stream ends inside a symbol at bit \d+ of \d+$/);
      rejected++;
    } else sameBytes(t, result, data.subarray(0, result.length), `cut at ${cut}`);
  }
  t.true(rejected > compressed.length / 2, `only ${rejected} of ${compressed.length} cuts were rejected`);
  // Bits left over after the last whole symbol: ones, or eight or more zeros, are not padding.
  t.regex(String(decodeOrError(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 100)), /ends inside a symbol at bit 27 of 32/);
  // "a", "a", then 14 zero bits.
  t.regex(String(decodeOrError(Uint8Array.of(0xb0, 0xd8, 0x40, 0x00), 100)), /ends inside a symbol at bit 18 of 32/);
  sameBytes(t, heatshrinkDecompress(Uint8Array.of(0xb0, 0xd8, 0x40), 100), Uint8Array.of(97, 97), "with 6 bits of padding");
});

test("random streams end, stay inside the input and the limit, and agree with the reference when accepted", (t) => {
  let accepted = 0;
  for (let round = 0; round < 300; round++) {
    const stream = new Uint8Array(randomBytes(1 + (round % 50)));
    const source = guardedBytes(stream);
    const limit = round % 2 ? 64 : 1 << 20;
    const result = decodeOrError(source.bytes, limit);
    t.deepEqual(source.strays, []);
    if (typeof result === "string") {
      t.regex(result, /^Error: heatshrink: /);
    } else {
      accepted++;
      t.true(result.length <= limit);
      sameBytes(t, result, reference.decompress(stream), `random stream ${round}`);
    }
  }
  t.true(accepted > 0, "no random stream was accepted, so the comparison with the reference never ran");
});
