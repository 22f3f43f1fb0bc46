import test from "ava";
import { getBoard } from "../boards/index";
import { createSimHal, PowerLoss, SimClock, SimResetReason, SimRetained, SimStorage } from "../hal/sim/index";
import { SimFlash } from "../hal/sim/flash";
import { readStorageFiles, STORAGE_HEADER_BYTES } from "../hal/sim/storage";
import { decodeImage, readImage } from "../hal/sim/image";
import { PAGE_FILE_PREFIX, storagePages } from "../pstore/pages";

const jolt = getBoard("JOLTJS");
const linux = getBoard("LINUX");
const text = (s: string) => new TextEncoder().encode(s);

test("retained RAM survives soft and watchdog resets and turns to garbage on power loss", (t) => {
  const retained = new SimRetained(jolt);
  t.is(retained.size, jolt.retained!.size);
  const data = new Uint8Array(retained.size).map((_, i) => (i * 7) & 0xff);
  retained.write(0, data);
  retained.softReset();
  t.deepEqual(retained.read(0, retained.size), data);
  retained.watchdogReset();
  t.deepEqual(retained.read(0, retained.size), data);
  retained.powerLoss(42);
  const garbage = retained.read(0, retained.size);
  t.notDeepEqual(garbage, data);
  const again = new SimRetained(jolt);
  again.powerLoss(42);
  t.deepEqual(again.read(0, again.size), garbage, "garbage is reproducible from the seed");
  t.throws(() => retained.read(retained.size - 2, 4), { message: /JOLTJS.*outside/ });
  t.throws(() => new SimRetained(linux), { message: /LINUX.*no retained area/ });
});

test("the clock: wall 0 until set, then it runs with uptime", (t) => {
  const clock = new SimClock();
  clock.advance(1500);
  t.is(clock.uptimeMs(), 1500);
  t.is(clock.wallSeconds(), 0);
  clock.setWall(1_700_000_000);
  clock.advance(2000);
  t.is(clock.wallSeconds(), 1_700_000_002);
  clock.reboot(true);
  t.is(clock.uptimeMs(), 0);
  t.is(clock.wallSeconds(), 1_700_000_002);
  clock.reboot(false);
  t.is(clock.wallSeconds(), 0);
});

test("nRF52 RESETREAS is cumulative until cleared; power-on reads 0", (t) => {
  const reset = new SimResetReason("nrf52");
  reset.cause("watchdog");
  reset.cause("soft");
  t.is(reset.readRaw(), 0x2 | 0x4);
  reset.clear();
  t.is(reset.readRaw(), 0);
  reset.cause("lockup");
  t.is(reset.readRaw(), 0x8);
  reset.cause("power-on");
  t.is(reset.readRaw(), 0);
});

test("STM32 RCC_CSR: reset flags cleared by RMVF, other bits kept", (t) => {
  const reset = new SimResetReason("stm32f4");
  reset.setRaw(0x1 | (1 << 29) | (1 << 26)); // LSION + IWDG + PIN
  reset.clear();
  t.is(reset.readRaw(), 0x1);
  reset.cause("power-on");
  t.is(reset.readRaw() >>> 25, 0b0111, "POR, PIN and BOR after a power-on");
  const f1 = new SimResetReason("stm32f1");
  f1.cause("brownout");
  t.is(f1.readRaw() & (1 << 25), 0, "STM32F1 has no BOR flag");
  t.is(new SimResetReason("none").readRaw(), -1);
});

test("Storage: create pre-fills 0xFF, writes land only on 0xFF bytes, remove and replace work", (t) => {
  const flash = new SimFlash(jolt);
  const storage = new SimStorage(flash);
  t.is(storage.read("pst0", 0, 4), undefined);
  storage.create("pst0", 64);
  t.deepEqual(storage.read("pst0", 0, 64), new Uint8Array(64).fill(0xff));
  storage.write("pst0", 8, text("abcd"));
  t.deepEqual(storage.read("pst0", 8, 4), text("abcd"));
  t.throws(() => storage.write("pst0", 10, text("x")), { message: /"pst0", 1 bytes at offset 10\): File already written/ });
  t.throws(() => storage.write("pst0", 62, text("xyz")), { message: /do not fit in "pst0"/ });
  t.throws(() => storage.write("nope", 4, text("x")), { message: /"nope" does not exist/ });
  t.throws(() => storage.write("pst0", 0, text("x")), { message: /"pst0" already holds data/ }, "offset 0 would make the firmware re-create it");
  t.deepEqual(storage.read("pst0", 60, 100)!.length, 4, "a read past the end is cut at the file end");
  storage.create("pst0", 32);
  t.deepEqual(storage.read("pst0", 0, 32), new Uint8Array(32).fill(0xff), "re-creating gives a fresh file");
  storage.write("pst0", 0, text("head"));
  t.deepEqual(storage.read("pst0", 0, 8), new Uint8Array([0x68, 0x65, 0x61, 0x64, 0xff, 0xff, 0xff, 0xff]), "offset 0 fills the file, not a new one");
  t.deepEqual(storage.list(), ["pst0"]);
  storage.remove("pst0");
  t.is(storage.read("pst0", 0, 1), undefined);
  t.deepEqual(flash.violations, []);
});

test("Storage: a read into the caller's array fills it and returns it, past the file's end only the bytes there are", (t) => {
  const storage = new SimStorage(new SimFlash(jolt));
  storage.create("pst0", 16);
  storage.write("pst0", 4, text("abcd"));
  const into = new Uint8Array(8);
  const got = storage.read("pst0", 2, 8, into)!;
  t.is(got.buffer, into.buffer);
  t.deepEqual(got, new Uint8Array([0xff, 0xff, 0x61, 0x62, 0x63, 0x64, 0xff, 0xff]));
  const tail = storage.read("pst0", 12, 8, new Uint8Array(8))!;
  t.is(tail.length, 4);
  t.is(storage.read("none", 0, 8, new Uint8Array(8)), undefined);
  // A page device over it: a read past the page file's end is erased bytes, in the caller's array.
  const pages = storagePages(storage, 1, 16);
  storage.create(PAGE_FILE_PREFIX + "0", 12);
  storage.write(PAGE_FILE_PREFIX + "0", 8, text("wxyz"));
  const page = new Uint8Array(8).fill(7);
  const read = pages.read(0, 8, 8, page);
  t.is(read, page);
  t.deepEqual(read, new Uint8Array([0x77, 0x78, 0x79, 0x7a, 0xff, 0xff, 0xff, 0xff]));
  t.deepEqual(pages.read(0, 8, 8), read, "without an array to fill, the same bytes in a new one");
});

test("Storage: files are in Espruino's on-flash layout, deleted ones marked by a zero name word", (t) => {
  const flash = new SimFlash(jolt);
  const storage = new SimStorage(flash);
  storage.create("old", 8);
  storage.create("old", 16);
  const base = jolt.storage.addr;
  const word = (addr: number) => new DataView(flash.peek(addr, 4).buffer).getUint32(0, true);
  t.is(word(base), 8, "size word, flags 0");
  t.deepEqual(flash.peek(base + 4, 4), new Uint8Array(4), "the replaced file's name word is zeroed");
  const next = base + STORAGE_HEADER_BYTES + 8;
  t.is(word(next), 16);
  t.deepEqual(flash.peek(next + 4, 4), text("old\0"));
  t.deepEqual(storage.area.files().map((f) => [f.name, f.deleted]), [["", true], ["old", false]]);
});

test("Storage: unaligned writes are merged into whole words like the firmware does", (t) => {
  const flash = new SimFlash(jolt);
  const storage = new SimStorage(flash);
  storage.create("log", 16);
  storage.write("log", 5, text("ab"));
  storage.write("log", 7, text("c"));
  t.deepEqual(storage.read("log", 4, 5), new Uint8Array([0xff, 0x61, 0x62, 0x63, 0xff]));
  // A third program of the same word breaks the nRF52840 rule, as it would on the chip.
  t.throws(() => storage.write("log", 4, text("z")), { message: /JOLTJS.*word-writes/ });
});

test("Storage: running out of space compacts and keeps live files", (t) => {
  const flash = new SimFlash(linux);
  const storage = new SimStorage(flash);
  const fileBytes = 1024 + STORAGE_HEADER_BYTES;
  const fit = Math.floor(linux.storage.size / fileBytes);
  storage.create("keep", 1024);
  storage.write("keep", 0, text("kept data"));
  for (let i = 0; i < fit * 2; i++) {
    storage.create("churn", 1024);
    // Written, so the next create replaces it (an all-0xFF file of the same size would be kept as it is).
    storage.write("churn", 0, text("x"));
  }
  t.true(storage.compactions > 0);
  t.deepEqual(storage.read("keep", 0, 9), text("kept data"));
  t.deepEqual(storage.list().sort(), ["churn", "keep"]);
  t.throws(() => storage.create("huge", linux.storage.size), { message: /not enough free space for "huge"/ });
});

test("Storage files survive a remount and are readable from an image", (t) => {
  const device = createSimHal(linux);
  device.storage.create("pst3", 100);
  device.storage.write("pst3", 0, text("hello"));
  device.reboot("soft");
  t.deepEqual(device.storage.read("pst3", 0, 5), text("hello"));
  const image = decodeImage(device.toImage());
  t.is(image.kind, "storage");
  const files = readStorageFiles(readImage(image, linux.storage.addr, linux.storage.size), linux);
  t.deepEqual(Object.keys(files), ["pst3"]);
  t.deepEqual(files.pst3.subarray(0, 5), text("hello"));
});

test("a power cut during a Storage operation shares the flash's operation counter", (t) => {
  const device = createSimHal(jolt, { seed: 5 });
  device.storage.create("a", 16);
  device.cutPowerAfter(1, "clean");
  device.storage.write("a", 0, text("1234"));
  t.throws(() => device.storage.write("a", 4, text("5678")), { instanceOf: PowerLoss });
  device.reboot("power-on");
  t.deepEqual(device.storage.read("a", 0, 8), new Uint8Array([0x31, 0x32, 0x33, 0x34, 0xff, 0xff, 0xff, 0xff]));
});

test("a corrupt Storage area is wiped at mount, except on Bangle.js", (t) => {
  const flash = new SimFlash(jolt);
  const storage = new SimStorage(flash);
  storage.create("x", 8);
  // A header that makes no sense where free space should start (the firmware's walk stops there, not at 0xFF).
  flash.poke(jolt.storage.addr + STORAGE_HEADER_BYTES + 8, new Uint8Array(4));
  storage.mount();
  t.is(storage.wipes, 1);
  t.deepEqual(storage.list(), []);
  t.deepEqual(flash.peek(jolt.storage.addr, 64), new Uint8Array(64).fill(0xff));
  const bangle = getBoard("BANGLEJS2");
  const bflash = new SimFlash(bangle);
  const bstorage = new SimStorage(bflash);
  bstorage.create("good", 8);
  bstorage.create("bad", 8);
  bflash.poke(bangle.storage.addr + STORAGE_HEADER_BYTES + 8, new Uint8Array(4));
  bstorage.mount();
  t.is(bstorage.wipes, 0);
  t.deepEqual(bstorage.list(), ["good"]);
});

test("createSimHal: a complete Hal with standard CRC-32 and reboots by cause", (t) => {
  const device = createSimHal(jolt, { wallSeconds: 1_000_000 });
  const hal = device.hal;
  t.is(hal.crc32(text("123456789")), 0xcbf43926);
  t.is(hal.flash, device.flash);
  t.is(hal.retained, device.retained);
  t.is(hal.storage, device.storage);
  hal.log("hello");
  t.deepEqual(device.logs, ["hello"]);
  hal.retained!.write(0, text("PSRB"));
  device.clock.advance(5000);
  device.reboot("watchdog");
  t.deepEqual(hal.retained!.read(0, 4), text("PSRB"));
  t.is(hal.reset.readRaw(), 0x2);
  t.is(hal.clock.uptimeMs(), 0);
  t.is(hal.clock.wallSeconds(), 1_000_005, "nRF52 keeps its clock over a watchdog reset");
  device.reboot("power-on", 9);
  t.notDeepEqual(hal.retained!.read(0, 4), text("PSRB"));
  t.is(hal.clock.wallSeconds(), 0);
  // Boards without a raw region or retained area leave those parts out.
  const l = createSimHal(linux).hal;
  t.is(l.flash, undefined);
  t.is(l.retained, undefined);
  t.is(l.reset.readRaw(), -1);
});

test("createSimHal restores flash and retained RAM from an image", (t) => {
  const first = createSimHal(jolt);
  first.flash.program(jolt.region!.addr, new Uint8Array([1, 2, 3, 4]));
  first.retained!.write(0, text("keep"));
  const second = createSimHal(jolt, { image: first.toImage() });
  t.deepEqual(second.flash.peek(jolt.region!.addr, 4), new Uint8Array([1, 2, 3, 4]));
  t.deepEqual(second.retained!.read(0, 4), text("keep"));
});

test("a new simulated board reads as freshly powered on", (t) => {
  t.is(createSimHal(getBoard("PICO")).hal.reset.readRaw() >>> 24, 0b1110, "STM32F4: POR, PIN and BOR set");
  t.is(createSimHal(getBoard("ORIGINAL")).hal.reset.readRaw() >>> 24, 0b1100, "STM32F1: POR and PIN set");
  t.is(createSimHal(jolt).hal.reset.readRaw(), 0, "nRF52: nothing set");
});
