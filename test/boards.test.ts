import test from "ava";
import { boardNames, boards, getBoard } from "../boards/index";
import { pagesOf, unitAt, zonePageCount } from "../boards/geometry";
import type { BoardDefinition } from "../boards/types";
import { validateBoard } from "../boards/validate";
import { SimFlash } from "../hal/sim/flash";

const EXPECTED = ["PUCKJS", "PIXLJS", "MDBT42Q", "BANGLEJS2", "JOLTJS", "PICO", "ESPRUINOWIFI", "ORIGINAL", "ESP32", "LINUX"];

function copy(board: BoardDefinition): BoardDefinition {
  return JSON.parse(JSON.stringify(board));
}

test("the registry holds every board under its own name", (t) => {
  t.deepEqual(boardNames().sort(), EXPECTED.slice().sort());
  for (const name of EXPECTED) t.is(getBoard(name).name, name);
});

test("an unknown board name is refused with the list of valid names", (t) => {
  const error = t.throws(() => getBoard("PUCK"));
  t.regex(error!.message, /"PUCK"/);
  for (const name of EXPECTED) t.true(error!.message.includes(name), `lists ${name}`);
  t.throws(() => getBoard("hasOwnProperty"), { message: /unknown board/ });
});

for (const name of EXPECTED) {
  test(`${name} validates and its region and Storage are simulated`, (t) => {
    const board = boards[name];
    t.notThrows(() => validateBoard(board));
    const flash = new SimFlash(board);
    const pages = pagesOf(board);
    if (board.backend === "flash") {
      t.is(pages.reduce((n, p) => n + p.size, 0), board.region!.size);
      t.true(zonePageCount(board.zones) <= pages.length);
      // Every region page can be erased and programmed in the simulation.
      for (const page of pages) {
        flash.erase(page.addr);
        flash.program(page.addr, new Uint8Array(board.programUnit * 2).fill(0));
      }
    } else {
      t.is(board.region, undefined);
      t.deepEqual(pages, []);
    }
    const last = board.storage.addr + board.storage.size - 4;
    t.is(flash.read(last, 4).length, 4);
    t.deepEqual(flash.violations, []);
  });
}

test("unitAt finds the erase unit of an address in mixed sector sizes", (t) => {
  const pico = getBoard("PICO");
  t.deepEqual(unitAt(pico.flash, 0x08004000 + 0x4000 + 5), { addr: 0x08008000, size: 0x4000 });
  t.deepEqual(unitAt(pico.flash, 0x08070000), { addr: 0x08060000, size: 0x20000 });
  t.is(unitAt(pico.flash, 0x08000000), undefined);
});

function refused(t: any, board: BoardDefinition, field: RegExp, zones?: BoardDefinition["zones"]) {
  const error = t.throws(() => validateBoard(board, zones));
  t.regex(error.message, new RegExp("^" + board.name + ": "));
  t.regex(error.message, field);
}

test("a region not aligned to erase units is refused", (t) => {
  const b = copy(getBoard("PUCKJS"));
  b.region!.addr += 0x100;
  refused(t, b, /region.*not aligned/);
  const c = copy(getBoard("PICO"));
  c.region!.size = 0x10000; // half a 128 KB sector
  refused(t, c, /region.*not aligned/);
});

test("a region overlapping Storage is refused", (t) => {
  const b = copy(getBoard("PUCKJS"));
  b.region!.addr = 0x6b000;
  refused(t, b, /region.*overlaps Storage/);
});

test("a region outside the known flash spans is refused", (t) => {
  const b = copy(getBoard("ESP32"));
  b.region!.addr = 0x200000;
  refused(t, b, /region.*outside the known flash spans/);
});

test("zones needing more pages than the region has are refused", (t) => {
  const b = copy(getBoard("PUCKJS"));
  b.zones[1].pages = 10;
  refused(t, b, /zones: need 16 pages but the region has 10/);
  const storageBoard = copy(getBoard("LINUX"));
  refused(t, storageBoard, /zones: need 300 Storage files/, [{ name: "all", types: ["dmesg"], pages: 300, policy: "ring" }]);
});

test("zero sizes are refused, naming the field", (t) => {
  const a = copy(getBoard("PIXLJS"));
  a.region!.size = 0;
  refused(t, a, /region\.size/);
  const b = copy(getBoard("PIXLJS"));
  b.flash[0].size = 0;
  refused(t, b, /flash\[0\]\.size/);
  const c = copy(getBoard("PIXLJS"));
  c.zones[0].pages = 0;
  refused(t, c, /zones\[0\] \(dmesg\)\.pages/);
  const d = copy(getBoard("PIXLJS"));
  d.timing.programWordUs = 0;
  refused(t, d, /timing\.programWordUs/);
  const e = copy(getBoard("BANGLEJS2"));
  e.storagePageSize = 0;
  refused(t, e, /storagePageSize/);
});

test("a ring or priority zone of one page is refused; keep-first may have one", (t) => {
  const b = copy(getBoard("JOLTJS"));
  refused(t, b, /zones\[1\] \(console\)\.pages.*at least 2/, [
    { name: "dmesg", types: ["dmesg"], pages: 1, policy: "keep-first" },
    { name: "console", types: ["console"], pages: 1, policy: "priority" },
  ]);
  t.notThrows(() => validateBoard(b, [{ name: "dmesg", types: ["dmesg"], pages: 1, policy: "keep-first" }]));
});

test("other impossible definitions are refused, naming the field", (t) => {
  const cases: Array<[string, (b: BoardDefinition) => void, RegExp]> = [
    ["JOLTJS", (b) => (b.retained!.size = 16), /retained\.size.*too small/],
    ["PICO", (b) => (b.retained!.size = 128), /retained\.size.*more than stm32f4-bkp/],
    ["PUCKJS", (b) => ((b as any).codec = "zip"), /codec.*"zip"/],
    ["PUCKJS", (b) => (b.programUnit = 3), /programUnit/],
    ["PUCKJS", (b) => delete b.region, /region.*required/],
    ["ESP32", (b) => (b.zones[3].types = ["console"]), /zones\[3\] \(ftrace\)\.types.*already stored by zone console/],
    ["ESP32", (b) => ((b.zones[0].types as string[]) = ["crash"]), /types.*"crash"/],
    ["ESP32", (b) => (b.zones[1].name = "dmesg"), /zones\[1\].*used twice/],
    ["LINUX", (b) => (b.features.retained = true), /features\.retained/],
    ["PUCKJS", (b) => (b.lz4HashBits = 20), /lz4HashBits/],
    ["PUCKJS", (b) => (b.flash = [{ addr: 0x62000, size: 4096, count: 10 }]), /storage.*not whole erase units/],
  ];
  for (const [name, breakIt, field] of cases) {
    const b = copy(getBoard(name));
    breakIt(b);
    refused(t, b, field);
  }
});

test("a reset-reason kind that needs a register must name it", (t) => {
  const b = copy(getBoard("PICO"));
  b.resetReason.register = 0;
  refused(t, b, /resetReason\.register/);
});
