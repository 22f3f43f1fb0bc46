import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBoard } from "../boards/index";
import { FlashRuleViolation, PowerLoss, SimFlash } from "../hal/sim/flash";
import { decodeImage, encodeImage } from "../hal/sim/image";

const puck = getBoard("PUCKJS"); // nRF52832: block-writes
const jolt = getBoard("JOLTJS"); // nRF52840: word-writes
const original = getBoard("ORIGINAL"); // STM32F1: halfword-once
const esp32 = getBoard("ESP32"); // SPI NOR: clear-only
const pico = getBoard("PICO"); // STM32F4 sectors of mixed sizes

function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}

function wordAt(flash: SimFlash, addr: number): number {
  return new DataView(flash.peek(addr, 4).buffer).getUint32(0, true);
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n >>> 0; v; v >>>= 1) c += v & 1;
  return c;
}

const region = (b: typeof puck) => b.region!.addr;

test("a new flash is erased, erase sets a unit back to 0xFF and program can only clear bits", (t) => {
  const flash = new SimFlash(esp32);
  const page = region(esp32);
  t.true(flash.read(page, 4096).every((b) => b === 0xff));
  flash.program(page, words(0x0f0f0f0f));
  flash.program(page, words(0xff00ff00));
  t.is(wordAt(flash, page), 0x0f000f00);
  flash.erase(page);
  t.true(flash.read(page, 4096).every((b) => b === 0xff));
  t.is(flash.eraseCountAt(page), 1);
  t.is(flash.eraseCounts().get(page + 4096), 0);
});

test("read returns a copy", (t) => {
  const flash = new SimFlash(esp32);
  const copy = flash.read(region(esp32), 8);
  copy[0] = 0;
  t.is(flash.peek(region(esp32), 1)[0], 0xff);
});

test("misaligned programs, erases not at a unit start and addresses outside the spans are refused", (t) => {
  const flash = new SimFlash(puck);
  const page = region(puck);
  t.throws(() => flash.program(page + 2, words(0)), { message: /PUCKJS.*0x62002.*aligned/ });
  t.throws(() => flash.program(page, new Uint8Array(6)), { message: /PUCKJS.*6 bytes.*aligned/ });
  t.throws(() => flash.erase(page + 4), { message: /PUCKJS.*0x62004.*start of an erase unit/ });
  t.throws(() => flash.read(0x1000, 4), { message: /PUCKJS.*0x1000.*outside/ });
  t.throws(() => flash.program(0x76000, words(0)), { message: /0x76000.*outside/ });
  t.throws(() => flash.read(0x75ffc, 8), { message: /0x75ffc.*runs past/ });
  // STM32F1 programs half-words, so 2-byte alignment is enough there.
  const f1 = new SimFlash(original);
  f1.program(region(original) + 2, new Uint8Array([0x34, 0x12]));
  t.is(f1.peek(region(original) + 2, 2)[1], 0x12);
  t.throws(() => f1.program(region(original) + 1, new Uint8Array(2)), { message: /ORIGINAL.*aligned/ });
});

test("nRF52840: a word may be programmed twice between erases, the third program is a violation", (t) => {
  const flash = new SimFlash(jolt);
  const addr = region(jolt) + 8;
  flash.program(addr, words(0xfffffff0));
  flash.program(addr, words(0xffffff00));
  const error = t.throws(() => flash.program(addr, words(0xfff00000)), { instanceOf: FlashRuleViolation });
  t.regex(error!.message, /JOLTJS/);
  t.regex(error!.message, /0x87008/);
  t.regex(error!.message, /word-writes/);
  t.is(flash.violations.length, 1);
  t.is(flash.violations[0].addr, addr);
  t.is(wordAt(flash, addr), 0xffffff00, "the refused program changed nothing");
  // The neighbouring word is independent, and an erase resets the count.
  flash.program(addr + 4, words(0));
  flash.erase(region(jolt));
  flash.program(addr, words(1));
  flash.program(addr, words(0));
  t.is(flash.violations.length, 1);
});

test("nRF52840: programming 0xFFFFFFFF still counts as a write", (t) => {
  const flash = new SimFlash(jolt);
  const addr = region(jolt);
  flash.program(addr, words(0xffffffff, 0xffffffff));
  flash.program(addr, words(0xffffffff));
  t.throws(() => flash.program(addr, words(0)), { instanceOf: FlashRuleViolation });
  flash.program(addr + 4, words(0)); // second write of the second word: still allowed
  t.is(flash.violations.length, 1);
});

test("nRF52832: 181 word programs per 512-byte block, the 182nd is a violation", (t) => {
  const flash = new SimFlash(puck);
  const block = region(puck) + 512;
  for (let i = 0; i < 180; i++) flash.program(block + (i % 128) * 4, words(0xffffffff));
  // A two-word program that would make 182 is refused as a whole...
  t.throws(() => flash.program(block + 8, words(0, 0)), { instanceOf: FlashRuleViolation, message: /PUCKJS.*0x62200.*block-writes/ });
  // ...while the 181st single program is fine, and the next block is unaffected.
  flash.program(block + 508, words(0));
  flash.program(block + 512, words(0));
  t.throws(() => flash.program(block, words(0)), { instanceOf: FlashRuleViolation });
  t.is(flash.violations.length, 2);
  flash.erase(region(puck));
  flash.program(block, words(0));
  t.is(flash.violations.length, 2);
});

test("STM32F1: a programmed half-word takes 0x0000 and nothing else, not even the value it holds", (t) => {
  const flash = new SimFlash(original);
  const addr = region(original);
  flash.program(addr, new Uint8Array([0x34, 0x12, 0xff, 0xff, 0x78, 0x56, 0x00, 0x00]));
  // The untouched 0xFFFF half-word next to it can be programmed with any value.
  flash.program(addr + 2, new Uint8Array([0xcd, 0xab]));
  t.throws(() => flash.program(addr, new Uint8Array([0x34, 0x12])), { instanceOf: FlashRuleViolation, message: /ORIGINAL.*0x8037000.*halfword-once.*0x1234.*not 0x1234/ });
  t.throws(() => flash.program(addr + 2, new Uint8Array([0x00, 0x01])), { instanceOf: FlashRuleViolation, message: /0x8037002.*halfword-once/ });
  t.is(flash.violations.length, 2);
  t.deepEqual([...flash.peek(addr, 8)], [0x34, 0x12, 0xcd, 0xab, 0x78, 0x56, 0, 0], "refused programs change nothing");
  // 0x0000 goes over any half-word, programmed or already zero, as the chip allows (the firmware zeroes words so).
  flash.program(addr, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0]));
  t.deepEqual([...flash.peek(addr, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  t.is(flash.violations.length, 2);
});

test("clear-only flash allows any number of programs that clear more bits", (t) => {
  const flash = new SimFlash(esp32);
  const addr = region(esp32);
  let value = 0xffffffff;
  for (let bit = 0; bit < 32; bit++) {
    value = (value & ~(1 << bit)) >>> 0;
    flash.program(addr, words(value));
  }
  t.is(wordAt(flash, addr), 0);
  t.is(flash.violations.length, 0);
});

test("counters and the modelled time follow the board's timing", (t) => {
  const flash = new SimFlash(puck);
  const page = region(puck);
  flash.erase(page);
  flash.program(page, new Uint8Array(16).fill(0));
  flash.read(page, 100);
  flash.read(page, 28);
  t.deepEqual(flash.counters(), { readOps: 2, readBytes: 128, programOps: 1, programBytes: 16, eraseOps: 1 });
  const tm = puck.timing;
  t.is(flash.modelledMs(), (4 * tm.programWordUs) / 1000 + tm.eraseMs[0].ms + 128 / tm.readBytesPerMs);
  flash.resetCounters();
  t.deepEqual(flash.counters(), { readOps: 0, readBytes: 0, programOps: 0, programBytes: 0, eraseOps: 0 });
  t.is(flash.modelledMs(), 0);
  t.is(flash.eraseCountAt(page), 1, "erase counts are wear, not counters: they survive resetCounters");
});

test("erase time uses the entry nearest the unit size", (t) => {
  const flash = new SimFlash(pico);
  const small = pico.flash[0].addr;
  const big = pico.region!.addr;
  flash.erase(big);
  const bigMs = flash.modelledMs();
  flash.resetCounters();
  flash.erase(small);
  const smallMs = flash.modelledMs();
  const entry = (bytes: number) => pico.timing.eraseMs.find((e) => e.bytes === bytes)!.ms;
  t.is(bigMs, entry(0x20000));
  t.is(smallMs, entry(0x4000));
});

test("clean power cut: the n-th operation completes, then everything throws PowerLoss until powerOn", (t) => {
  const flash = new SimFlash(esp32);
  const page = region(esp32);
  flash.cutPowerAfter(2, "clean");
  flash.program(page, words(1));
  t.true(flash.powered);
  flash.program(page + 4, words(2));
  t.false(flash.powered);
  t.throws(() => flash.program(page + 8, words(3)), { instanceOf: PowerLoss });
  t.throws(() => flash.read(page, 4), { instanceOf: PowerLoss });
  t.throws(() => flash.erase(page), { instanceOf: PowerLoss });
  flash.powerOn();
  t.is(wordAt(flash, page), 1);
  t.is(wordAt(flash, page + 4), 2);
  t.is(wordAt(flash, page + 8), 0xffffffff);
  // Reads do not count towards the cut.
  flash.cutPowerAfter(1, "clean");
  flash.read(page, 4);
  t.true(flash.powered);
  flash.erase(page);
  t.false(flash.powered);
});

test("torn program: earlier words written, one word with some but not all of its bits cleared, the rest untouched", (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const flash = new SimFlash(jolt);
    const page = region(jolt);
    flash.cutPowerAfter(1, "torn", seed);
    flash.program(page, new Uint8Array(64).fill(0));
    t.throws(() => flash.read(page, 4), { instanceOf: PowerLoss });
    flash.powerOn();
    const values = Array.from({ length: 16 }, (_, i) => wordAt(flash, page + i * 4));
    const tornIndex = values.findIndex((v) => v !== 0);
    t.true(tornIndex >= 0, `seed ${seed}: some word is not fully written`);
    const cleared = popcount(~values[tornIndex]);
    t.true(cleared > 0 && cleared < 32, `seed ${seed}: word ${tornIndex} has ${cleared} of 32 bits cleared`);
    t.true(values.slice(tornIndex + 1).every((v) => v === 0xffffffff), `seed ${seed}: words after the torn one are untouched`);
  }
});

test("torn program is reproducible from the seed", (t) => {
  const run = (seed: number) => {
    const flash = new SimFlash(esp32);
    flash.cutPowerAfter(1, "torn", seed);
    flash.program(region(esp32), new Uint8Array(256).fill(0x5a));
    return flash.peek(region(esp32), 256);
  };
  t.deepEqual(run(7), run(7));
  t.notDeepEqual(run(7), run(8));
});

test("interrupted erase leaves the unit partly erased and partly as before", (t) => {
  const flash = new SimFlash(puck);
  const page = region(puck);
  flash.program(page, new Uint8Array(4096).fill(0));
  flash.program(page + 4096, new Uint8Array(8).fill(0));
  flash.cutPowerAfter(1, "torn", 3);
  flash.erase(page);
  t.throws(() => flash.program(page, words(0)), { instanceOf: PowerLoss });
  flash.powerOn();
  const bytes = flash.peek(page, 4096);
  const erased = bytes.filter((b) => b === 0xff).length;
  t.true(erased > 0 && erased < 4096, `${erased} of 4096 bytes erased`);
  t.true(flash.peek(page + 4096, 8).every((b) => b === 0), "the next unit is untouched");
  t.is(flash.eraseCountAt(page), 1);
});

test("a pending cut can be cancelled by powerOn and n = 0 cuts at once", (t) => {
  const flash = new SimFlash(esp32);
  flash.cutPowerAfter(1, "clean");
  flash.powerOn();
  flash.program(region(esp32), words(0));
  t.true(flash.powered);
  flash.cutPowerAfter(0, "clean");
  t.throws(() => flash.read(region(esp32), 4), { instanceOf: PowerLoss });
});

test("image save/load round trip keeps flash bytes and retained bytes", (t) => {
  const flash = new SimFlash(pico);
  flash.program(pico.region!.addr + 100, words(0x12345678, 0x9abcdef0));
  flash.program(pico.storage.addr, words(0xa5a5a5a5));
  const retained = new Uint8Array(76).map((_, i) => i);
  const dir = mkdtempSync(join(tmpdir(), "pstore-img-"));
  try {
    const path = join(dir, "pico.img");
    flash.saveImage(path, retained);
    const loaded = SimFlash.loadImage(path, pico);
    t.deepEqual(loaded.flash.peek(pico.region!.addr, 0x20000), flash.peek(pico.region!.addr, 0x20000));
    t.deepEqual(loaded.flash.peek(pico.storage.addr, 0xc000), flash.peek(pico.storage.addr, 0xc000));
    t.deepEqual(loaded.retained, retained);
    t.is(loaded.kind, "flash");
    t.throws(() => SimFlash.loadImage(path, puck), { message: /PICO.*not PUCKJS/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("in-memory images decode to the documented layout", (t) => {
  const flash = new SimFlash(puck);
  flash.program(region(puck), words(0xdeadbeef));
  const bytes = flash.toImage();
  t.is(new TextDecoder().decode(bytes.subarray(0, 8)), "PSIMG001");
  const jsonLength = new DataView(bytes.buffer).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength)));
  const pages = Array.from({ length: 10 }, (_, i) => ({ addr: 0x62000 + i * 4096, size: 4096 }));
  t.deepEqual(header, {
    format: 2,
    board: "PUCKJS",
    kind: "flash",
    spans: [{ addr: 0x62000, size: 20 * 4096 }],
    retained: 0,
    units: [{ addr: 0x62000, size: 4096, count: 20 }],
    pages,
  });
  t.is(bytes.length, 12 + jsonLength + 20 * 4096);
  const image = decodeImage(bytes);
  t.deepEqual(encodeImage(image), bytes);
  const again = SimFlash.fromImage(bytes, puck).flash;
  t.is(wordAt(again, region(puck)), 0xdeadbeef);
  t.throws(() => decodeImage(bytes.subarray(0, bytes.length - 1), "cut.img"), { message: /cut\.img/ });
  t.throws(() => decodeImage(new Uint8Array(20), "junk.img"), { message: /junk\.img.*not a pstore image/ });
});
