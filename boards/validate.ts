// Refuses a board definition (and zone list) that could not work, naming the board and the field.
// ES5-level like the rest of boards/, but meant for the host (build, tests, tools): it is too wordy to bundle.

import { unitAt, unitsIn } from "./geometry";
import { checkZones } from "./zone-check";
import type { BoardDefinition, ZoneConfig } from "./types";

/** Bytes Storage spends on each file besides its data: a 32-byte header (data stays 4-byte aligned). */
export const STORAGE_FILE_OVERHEAD = 32;

const CODECS = ["raw", "lz4", "heatshrink"];
const RESET_KINDS = ["nrf52", "stm32f4", "stm32f1", "none"];
const RETAINED_KINDS = ["nrf52-ram", "stm32f4-bkp", "stm32f1-bkp", "esp32-rtc"];
/** Largest retained area each kind can offer (bytes of data). */
const RETAINED_MAX: { [kind: string]: number } = { "nrf52-ram": 4096, "stm32f4-bkp": 76, "stm32f1-bkp": 84, "esp32-rtc": 8192 };
const MIN_RETAINED = 32;

function hex(n: number): string {
  return "0x" + n.toString(16);
}

function isCount(n: number): boolean {
  return typeof n === "number" && n > 0 && Math.floor(n) === n;
}

/** Throws `<board>: <field>: <problem>` at the first problem found. */
export function validateBoard(board: BoardDefinition, zones?: ZoneConfig[]): void {
  const name = board && board.name ? board.name : "(unnamed board)";
  function fail(field: string, problem: string): never {
    throw new Error(name + ": " + field + ": " + problem);
  }
  function positive(field: string, n: number): void {
    if (!(typeof n === "number" && n > 0)) fail(field, "must be a positive number, got " + n);
  }
  if (!board.name) fail("name", "missing");
  if (!board.chip) fail("chip", "missing");

  if (!board.flash || board.flash.length === 0) fail("flash", "no flash spans");
  board.flash.forEach(function (s, i) {
    if (!isCount(s.size)) fail("flash[" + i + "].size", "must be a positive whole number, got " + s.size);
    if (!isCount(s.count)) fail("flash[" + i + "].count", "must be a positive whole number, got " + s.count);
    if (s.addr % 4 !== 0) fail("flash[" + i + "].addr", hex(s.addr) + " is not word aligned");
    board.flash.forEach(function (t, j) {
      if (j > i && s.addr < t.addr + t.size * t.count && t.addr < s.addr + s.size * s.count) {
        fail("flash[" + i + "]", "overlaps flash[" + j + "]");
      }
    });
  });

  if (board.programUnit !== 2 && board.programUnit !== 4) fail("programUnit", "must be 2 or 4, got " + board.programUnit);
  const rule = board.reprogram;
  if (!rule) fail("reprogram", "missing");
  if (rule.kind === "word-writes") {
    if (!isCount(rule.max)) fail("reprogram.max", "must be a positive whole number, got " + rule.max);
  } else if (rule.kind === "block-writes") {
    if (!isCount(rule.block) || rule.block % 4 !== 0) fail("reprogram.block", "must be a positive multiple of 4, got " + rule.block);
    if (!isCount(rule.max)) fail("reprogram.max", "must be a positive whole number, got " + rule.max);
  } else if (rule.kind !== "halfword-once" && rule.kind !== "clear-only") {
    fail("reprogram.kind", 'unknown rule "' + (rule as { kind: string }).kind + '"');
  }

  positive("storage.size", board.storage ? board.storage.size : 0);
  if (!unitsIn(board.flash, board.storage.addr, board.storage.size)) {
    fail("storage", hex(board.storage.addr) + "+" + hex(board.storage.size) + " is not whole erase units inside the flash spans");
  }

  if (board.backend !== "flash" && board.backend !== "storage") fail("backend", 'must be "flash" or "storage", got ' + board.backend);
  const region = board.region;
  if (board.backend === "flash" && !region) fail("region", 'required by the "flash" backend');
  let regionPages = 0;
  if (region) {
    positive("region.size", region.size);
    if (region.find !== "fixed" && region.find !== "getFree") fail("region.find", 'must be "fixed" or "getFree", got ' + region.find);
    const first = unitAt(board.flash, region.addr);
    const last = unitAt(board.flash, region.addr + region.size - 1);
    if (!first || !last) {
      fail("region", hex(region.addr) + ".." + hex(region.addr + region.size) + " is outside the known flash spans");
    }
    const pages = unitsIn(board.flash, region.addr, region.size);
    if (!pages) {
      fail("region", hex(region.addr) + ".." + hex(region.addr + region.size) + " is not aligned to erase units (first unit starts at " + hex(first.addr) + ", size " + first.size + ")");
    }
    regionPages = pages.length;
    const s = board.storage;
    if (region.addr < s.addr + s.size && s.addr < region.addr + region.size) {
      fail("region", hex(region.addr) + ".." + hex(region.addr + region.size) + " overlaps Storage at " + hex(s.addr) + ".." + hex(s.addr + s.size));
    }
  }
  if (!isCount(board.storagePageSize) || board.storagePageSize % 4 !== 0) {
    fail("storagePageSize", "must be a positive multiple of 4, got " + board.storagePageSize);
  }

  const retained = board.retained;
  if (retained) {
    if (RETAINED_KINDS.indexOf(retained.kind) < 0) fail("retained.kind", 'unknown kind "' + retained.kind + '"');
    if (!(retained.size >= MIN_RETAINED)) fail("retained.size", retained.size + " bytes is too small (at least " + MIN_RETAINED + ")");
    if (retained.size > RETAINED_MAX[retained.kind]) fail("retained.size", retained.size + " bytes is more than " + retained.kind + " has (" + RETAINED_MAX[retained.kind] + ")");
    if (retained.size % 4 !== 0) fail("retained.size", retained.size + " is not a multiple of 4");
  }
  if (board.features.retained && !retained) fail("features.retained", "is on but the board has no retained area");
  if (RESET_KINDS.indexOf(board.resetReason.kind) < 0) fail("resetReason.kind", 'unknown kind "' + board.resetReason.kind + '"');
  if (board.resetReason.kind !== "none" && !(board.resetReason.register > 0)) fail("resetReason.register", "needs the register address");

  positive("jsVars", board.jsVars);
  positive("varBytes", board.varBytes);
  const t = board.timing;
  positive("timing.programWordUs", t.programWordUs);
  if (!t.eraseMs || t.eraseMs.length === 0) fail("timing.eraseMs", "no entries");
  t.eraseMs.forEach(function (e, i) {
    positive("timing.eraseMs[" + i + "].bytes", e.bytes);
    positive("timing.eraseMs[" + i + "].ms", e.ms);
  });
  positive("timing.readBytesPerMs", t.readBytesPerMs);
  positive("timing.endurance", t.endurance);
  positive("timing.jsCompressBytesPerMs", t.jsCompressBytesPerMs);

  if (CODECS.indexOf(board.codec) < 0) fail("codec", 'unknown codec "' + board.codec + '" (valid: ' + CODECS.join(", ") + ")");
  if (!(isCount(board.lz4HashBits) && board.lz4HashBits >= 4 && board.lz4HashBits <= 16)) {
    fail("lz4HashBits", "must be a whole number from 4 to 16, got " + board.lz4HashBits);
  }

  validateZones(board, zones || board.zones, regionPages, fail);
}

function validateZones(board: BoardDefinition, zones: ZoneConfig[], regionPages: number, fail: (field: string, problem: string) => never): void {
  const flash = board.backend === "flash";
  const needed = checkZones(zones, flash ? regionPages : undefined, fail);
  if (!flash) {
    const bytes = needed * (board.storagePageSize + STORAGE_FILE_OVERHEAD);
    if (bytes > board.storage.size) fail("zones", "need " + needed + " Storage files (" + bytes + " bytes) but Storage has " + board.storage.size + " bytes");
  }
}
