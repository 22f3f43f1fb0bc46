import test from "ava";
import {
  Codec,
  Flag,
  PAGE_HEADER_SIZE,
  RECORD_HEADER_SIZE,
  Reason,
  RecordType,
  aligned,
  isPageHeader,
  decodeRecordHeader,
  encodePageHeader,
  encodeRecord,
  encodeRecordHeader,
  parseRecordName,
  reasonName,
  recordIntact,
  recordName,
  seqNewer,
  typeName,
  wordsOf,
} from "../pstore/format";
import { crc, partProblem, payload } from "./helpers/pstore";

const header = {
  type: RecordType.Dmesg,
  reason: Reason.Panic,
  codec: Codec.Raw,
  flags: Flag.TimeValid,
  part: 0,
  parts: 1,
  seq: 17,
  boot: 3,
  time: 1_700_000_000,
  uptime: 12345,
  storedLength: 0,
  originalLength: 5,
};

test("CRC-32 worked example of FORMAT.md", (t) => {
  // The check value of CRC-32/ISO-HDLC, quoted in docs/FORMAT.md.
  t.is(crc(new TextEncoder().encode("123456789")), 0xcbf43926);
});

test("a record image matches the byte table and is checked by an independent reader", (t) => {
  const data = new TextEncoder().encode("hello");
  const img = encodeRecord(crc, header, data);
  t.is(img.length, 52 + 8);
  t.deepEqual([...img.subarray(0, 12)], [0x50, 0x53, 0x54, 0x52, 1, 1, 1, 0, 1, 0, 1, 12]);
  t.deepEqual([...img.subarray(44, 48)], [0xff, 0xff, 0xff, 0xff]);
  t.deepEqual([...img.subarray(48, 56)], [...data, 0xff, 0xff, 0xff]);
  t.deepEqual([...img.subarray(56)], [0x43, 0x4d, 0x54, 0x21]);
  t.is(partProblem(img), undefined);
  const h = decodeRecordHeader(img, crc)!;
  t.like(h, { ...header, storedLength: 5, erased: false });
  t.true(recordIntact(crc, img, h));
  t.deepEqual(encodeRecordHeader(crc, header, data), img.subarray(0, RECORD_HEADER_SIZE));
});

test("a changed payload byte, commit word or erase mark is seen", (t) => {
  const img = encodeRecord(crc, header, payload(40, 1));
  const h = decodeRecordHeader(img, crc)!;
  const flipped = img.slice();
  flipped[60] ^= 1;
  t.false(recordIntact(crc, flipped, h));
  const uncommitted = img.slice();
  uncommitted.fill(0xff, uncommitted.length - 4);
  t.false(recordIntact(crc, uncommitted, h));
  const erased = img.slice();
  erased.fill(0, 44, 48);
  t.true(decodeRecordHeader(erased, crc)!.erased);
  t.true(recordIntact(crc, erased, decodeRecordHeader(erased, crc)!), "the erase mark is outside both CRCs");
});

test("decoding garbage never throws and never yields a header", (t) => {
  let found = 0;
  for (let seed = 0; seed < 3000; seed++) {
    const junk = payload(seed % 60, seed);
    if (decodeRecordHeader(junk, crc)) found++;
    if (junk.length >= PAGE_HEADER_SIZE && isPageHeader(crc, junk, wordsOf(aligned(junk)))) found++;
  }
  t.is(found, 0);
  const img = encodeRecord(crc, header, payload(8, 2));
  for (let i = 0; i < 36; i++) {
    const torn = img.slice();
    torn[i] ^= 0x10;
    t.is(decodeRecordHeader(torn, crc), undefined, `byte ${i} changed`);
  }
});

test("page header round trip", (t) => {
  const b = encodePageHeader(crc, { eraseCount: 12, seqMark: 99, bootMark: 4 });
  t.is(b.length, PAGE_HEADER_SIZE);
  t.deepEqual([...b.subarray(0, 8)], [0x50, 0x53, 0x50, 0x47, 1, 0xff, 0xff, 0xff]);
  const w = wordsOf(b);
  t.true(isPageHeader(crc, b, w));
  t.deepEqual([w[2], w[3], w[4]], [12, 99, 4], "erase count, sequence mark and boot mark in words 2, 3 and 4");
  b[9] ^= 1;
  t.false(isPageHeader(crc, b, w));
});

test("names are reversible for every type", (t) => {
  for (const type of [RecordType.Dmesg, RecordType.Console, RecordType.Ftrace, RecordType.Pmsg, RecordType.Event, 77]) {
    const name = recordName(type, "flash", 4294967295);
    t.deepEqual(parseRecordName(name), { type, backend: "flash", seq: 4294967295 });
  }
  t.is(recordName(RecordType.Dmesg, "flash", 17), "dmesg-flash-17");
  t.is(typeName(RecordType.Console), "console");
  t.is(reasonName(Reason.Watchdog), "watchdog");
  for (const bad of ["", "dmesg-flash", "dmesg-flash-x", "nope-flash-1", "dmesg-flash-99999999999", "dmesg--1", "type0-flash-1"]) {
    t.is(parseRecordName(bad), undefined, bad);
  }
});

test("sequence comparison survives the 32-bit wrap", (t) => {
  t.true(seqNewer(5, 4));
  t.false(seqNewer(4, 5));
  t.false(seqNewer(4, 4));
  t.true(seqNewer(2, 0xfffffffe));
  t.false(seqNewer(0xfffffffe, 2));
});
