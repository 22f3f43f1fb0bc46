// The fuzzer in the test suite: its oracles catch what they claim to, unmutated images pass them, a few thousand
// seeded cases run clean, and every input that ever broke something (test/regressions/) is replayed.

import test from "ava";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { getBoard } from "../boards/index";
import { encodeImage } from "../hal/sim/image";
import { seedImages } from "../tools/fuzz/corpus";
import { DEFAULT_BOARDS, buildCase, replayFile, runFuzz } from "../tools/fuzz/fuzz";
import { MemoryFs } from "../tools/fuzz/memory-fs";
import { deviceTarget, hostTarget } from "../tools/fuzz/targets";
import { partProblem, recordProblems } from "../tools/fuzz/verify";

const regressions = join(dirname(fileURLToPath(import.meta.url)), "regressions");


function hex(s: string): Uint8Array {
  return new Uint8Array(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
}

// FORMAT.md's worked example, byte for byte.
const EXAMPLE = hex(`
  50 53 54 52 01 01 01 00 01 00 01 0c 11 00 00 00
  03 00 00 00 00 f1 53 65 39 30 00 00 05 00 00 00
  05 00 00 00 e3 37 c0 18 20 2f 35 a1 ff ff ff ff
  68 65 6c 6c 6f ff ff ff 43 4d 54 21`);

test("the independent verifier accepts FORMAT.md's example and rejects each kind of damage", (t) => {
  t.is(partProblem(EXAMPLE), undefined);
  t.deepEqual(recordProblems("dmesg-flash-17", [EXAMPLE]), []);
  t.notDeepEqual(recordProblems("dmesg-flash-18", [EXAMPLE]), [], "sequence must match the name");
  const damage: Array<[number, RegExp]> = [
    [0, /magic/],
    [4, /version/],
    [11, /header length/],
    [20, /header CRC/],
    [49, /record CRC/],
    [57, /commit/],
    [44, /erase mark/],
  ];
  for (const [at, why] of damage) {
    const copy = EXAMPLE.slice();
    copy[at] ^= at === 44 ? 0xff : 0x01;
    t.regex(partProblem(copy) ?? "", why, `byte ${at}`);
  }
  t.regex(partProblem(EXAMPLE.subarray(0, 56)) ?? "", /bytes/);
});

test("unmutated seed images pass both targets on every default board (no false alarms)", async (t) => {
  for (const name of DEFAULT_BOARDS) {
    const board = getBoard(name);
    for (const seed of seedImages(board, 11)) {
      t.deepEqual(deviceTarget(board, seed.image), [], `${name} ${seed.label}: device`);
      t.deepEqual(await hostTarget(board, encodeImage(seed.image), false), [], `${name} ${seed.label}: host`);
    }
  }
});

test("the in-memory archive refuses and reports any path outside its folder", (t) => {
  const memory = new MemoryFs("/fuzz/archive");
  memory.fs.mkdirSync("/fuzz/archive", { mode: 0o700 });
  t.throws(() => memory.fs.mkdirSync("/fuzz/elsewhere", { mode: 0o700 }));
  t.throws(() => memory.fs.renameSync("/fuzz/archive/a", "/fuzz/archive/../b"));
  t.is(memory.escapes.length, 2);
});

test("a case is a pure function of board, seed and index", (t) => {
  const board = getBoard("ORIGINAL");
  const a = buildCase(board, 5, 17);
  const b = buildCase(board, 5, 17);
  t.deepEqual(a.mutations, b.mutations);
  t.deepEqual(Buffer.from(a.bytes), Buffer.from(b.bytes));
  t.notDeepEqual(Buffer.from(buildCase(board, 5, 18).bytes), Buffer.from(a.bytes));
});

// 1000 seeded cases (about 170 per default board, both targets each): ~15 s.
test("1000 seeded fuzz cases find no failure", async (t) => {
  const result = await runFuzz({ iterations: 1000, seed: 2024, boards: DEFAULT_BOARDS });
  t.log(`${result.cases} cases, ${result.deviceRuns} device, ${result.hostRuns} host, ${result.failures.length} failures, ${result.seconds.toFixed(1)} s`);
  t.true(result.deviceRuns > 850);
  t.deepEqual(
    [...result.kinds].map(([kind, k]) => `${k.count} × ${kind} (first: ${k.first.board} seed ${k.first.seed} case ${k.first.index})`),
    [],
  );
});

for (const file of readdirSync(regressions).filter((f) => f.endsWith(".img.gz")).sort()) {
  const name = file.replace(/\.img\.gz$/, "");
  test(`regression ${name}`, async (t) => {
    t.deepEqual(await replayFile(join(regressions, file)), []);
  });
}
