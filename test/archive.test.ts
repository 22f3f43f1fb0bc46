import test from "ava";
import * as fs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Archive } from "../tools/archive/archive";
import { collectRecords, type RecordSource, type SourceRecord } from "../tools/archive/collect";
import { crc32 } from "../hal/sim/crc";
import { DurableWriter, isTemporaryName, type ArchiveFs } from "../tools/archive/durable";
import { decodeRecord } from "../tools/archive/record";
import { checkRecordName, deviceFolderName } from "../tools/archive/safe-names";
import { pathInside } from "../tools/archive/paths";
import { ArchiveError, DataError } from "../tools/cli/errors";
import { Codec, Flag, Reason, RecordType, encodeRecord, recordName, type RecordHeader } from "../pstore/format";
import { lz4Compress, lz4CompressBound } from "../pstore/lz4";
import { heatshrinkCompress } from "../pstore/heatshrink";
import { Tracer } from "../pstore/ftrace";
import { textToBytes } from "../pstore/codec";
import { getBoard } from "../boards/index";
import { createSimHal } from "../hal/sim/index";
import { Pstore } from "../pstore/core";
import { formatSummary } from "../tools/cli/summary";
import { ProtocolError } from "../tools/protocol/errors";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "pstore-archive-test-"));
}

function header(over: Partial<RecordHeader>): RecordHeader {
  return {
    type: RecordType.Dmesg,
    reason: Reason.Exception,
    codec: Codec.Raw,
    flags: 0,
    part: 0,
    parts: 1,
    seq: 17,
    boot: 3,
    time: 0,
    uptime: 1234,
    storedLength: 0,
    originalLength: 0,
    ...over,
  };
}

/** Parts of one record as the device stores them, `payload` split into `parts` pieces with consecutive seqs. */
function recordParts(h: Partial<RecordHeader>, stored: Uint8Array, originalLength: number, parts = 1): Uint8Array[] {
  const size = Math.ceil(stored.length / parts);
  const out: Uint8Array[] = [];
  for (let i = 0; i < parts; i++) {
    const piece = stored.subarray(i * size, Math.min(stored.length, (i + 1) * size));
    const base = header(h);
    out.push(encodeRecord(crc32, { ...base, part: i, parts, seq: base.seq + i, originalLength }, piece));
  }
  return out;
}

function textParts(text: string, h: Partial<RecordHeader> = {}): Uint8Array[] {
  const bytes = textToBytes(text);
  return recordParts(h, bytes, bytes.length);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

test("record names from the device: well-formed ones pass, hostile ones are refused by name", (t) => {
  t.is(checkRecordName("dmesg-flash-17").seq, 17);
  for (const bad of ["../../x", "dmesg/flash-1", "dmesg-flash-1\n", "dmesg-fl\x1bash-1", "", ".", "..", "dmesg-flash-", "a".repeat(200)]) {
    const error = t.throws(() => checkRecordName(bad), { instanceOf: DataError });
    t.true(error!.message.includes("refused"), bad);
    t.false(/[\x00-\x1f]/.test(error!.message), "control characters are escaped in the message");
  }
});

test("device ids become one safe folder name; paths outside the root are refused", (t) => {
  t.is(deviceFolderName("PUCKJS 7f3a"), "PUCKJS_7f3a");
  t.is(deviceFolderName("../../etc"), "_._.._etc");
  t.false(deviceFolderName("a/b\x00c").includes("/"));
  t.is(deviceFolderName(""), "unknown-device");
  const root = tempDir();
  t.is(pathInside(root, "a", "b"), join(root, "a", "b"));
  t.throws(() => pathInside(root, "..", "x"), { instanceOf: DataError });
  t.throws(() => pathInside(root, "/etc/passwd"), { instanceOf: DataError });
  t.throws(() => pathInside(root, "."), { instanceOf: DataError });
});

test("durable writes: 0600 files in 0700 folders, content exact, no temporary file left", (t) => {
  const root = join(tempDir(), "archive");
  const writer = new DurableWriter();
  const folder = writer.ensureFolder(root, "dev", "3");
  writer.writeFile(folder, "dmesg-flash-17", "hello");
  writer.writeFile(folder, "dmesg-flash-17", "replaced");
  t.is(readFileSync(join(folder, "dmesg-flash-17"), "utf8"), "replaced");
  t.is(statSync(join(folder, "dmesg-flash-17")).mode & 0o777, 0o600);
  for (const dir of [root, join(root, "dev"), folder]) t.is(statSync(dir).mode & 0o777, 0o700, dir);
  t.deepEqual(readdirSync(folder), ["dmesg-flash-17"]);
});

test("durable writes refuse a symlink or a file where a folder should be", (t) => {
  const root = tempDir();
  const outside = tempDir();
  fs.symlinkSync(outside, join(root, "dev"));
  fs.writeFileSync(join(root, "file"), "x");
  const writer = new DurableWriter();
  t.throws(() => writer.ensureFolder(root, "dev", "1"), { instanceOf: ArchiveError, message: /symbolic link/ });
  t.throws(() => writer.ensureFolder(root, "file", "1"), { instanceOf: ArchiveError, message: /not a folder/ });
  t.deepEqual(readdirSync(outside), []);
});

/** Node's fs, except that writes fail with `code` once `budget` bytes have been written. */
function failingFs(code: string, budget: number): ArchiveFs {
  let left = budget;
  return {
    ...fs,
    writeSync: ((fd: number, buffer: Uint8Array, offset?: number, length?: number) => {
      const n = Math.min(length ?? buffer.length, left);
      if (n <= 0) throw Object.assign(new Error(`${code}: simulated`), { code });
      left -= n;
      return fs.writeSync(fd, buffer, offset, n);
    }) as ArchiveFs["writeSync"],
  };
}

test("a full disk mid-file gives an ArchiveError naming the file, and leaves no temporary or partial file", (t) => {
  const root = tempDir();
  const writer = new DurableWriter(failingFs("ENOSPC", 3));
  const folder = writer.ensureFolder(root, "dev");
  const error = t.throws(() => writer.writeFile(folder, "console-flash-4", "more than three bytes"), { instanceOf: ArchiveError });
  t.regex(error!.message, /console-flash-4.*no space left.*ENOSPC/);
  t.deepEqual(readdirSync(folder), []);
});

test("raw, lz4 and heatshrink records decode to the original text", (t) => {
  const text = "Uncaught Error: boom\n    at line 3 col 9\n".repeat(20);
  const original = textToBytes(text);
  const lz4 = new Uint8Array(lz4CompressBound(original.length));
  const lz4Length = lz4Compress(original, lz4, new Uint16Array(1 << 10));
  const cases: Array<[Codec, Uint8Array]> = [
    [Codec.Raw, original],
    [Codec.Lz4, lz4.subarray(0, lz4Length)],
    [Codec.Heatshrink, heatshrinkCompress(original)],
  ];
  for (const [codec, stored] of cases) {
    t.true(codec === Codec.Raw || stored.length < original.length);
    const decoded = decodeRecord("dmesg-flash-17", recordParts({ codec }, stored, original.length));
    t.is(decoded.outcome, "ok", decoded.problem);
    t.is(decoded.text, text);
    t.deepEqual(decoded.files.map((f) => f.suffix), [""]);
    t.deepEqual(Buffer.from(decoded.files[0].data), Buffer.from(original));
  }
});

test("a record in three parts is joined in order", (t) => {
  const text = Array.from({ length: 300 }, (_, i) => `line ${i}`).join("\n");
  const bytes = textToBytes(text);
  const parts = recordParts({ type: RecordType.Console, seq: 40 }, bytes, bytes.length, 3);
  const decoded = decodeRecord("console-flash-40", parts);
  t.is(decoded.outcome, "ok", decoded.problem);
  t.is(decoded.text, text);
  t.is(decoded.header!.parts, 3);
  t.is(decodeRecord("console-flash-40", [parts[0], parts[2], parts[1]]).outcome, "corrupt");
  t.is(decodeRecord("console-flash-40", parts.slice(0, 2)).outcome, "corrupt");
});

test("damaged records are kept raw under a name that says so, never dropped", (t) => {
  const good = textParts("hello world, this is a log line");
  const flipped = good[0].slice();
  flipped[50] ^= 1;
  const badCrc = decodeRecord("dmesg-flash-17", [flipped]);
  t.is(badCrc.outcome, "corrupt");
  t.regex(badCrc.problem!, /record CRC/);
  t.deepEqual(badCrc.files.map((f) => f.suffix), [".corrupt"]);
  t.deepEqual(Buffer.from(badCrc.files[0].data), Buffer.from(flipped));

  const short = decodeRecord("dmesg-flash-17", [good[0].subarray(0, 60)]);
  t.is(short.outcome, "corrupt");
  t.regex(short.problem!, /payload bytes but only 12 arrived/);

  const wrongName = decodeRecord("dmesg-flash-18", good);
  t.is(wrongName.outcome, "corrupt");
  t.regex(wrongName.problem!, /does not match the name/);

  const garbage = new Uint8Array(40).fill(0x41);
  const lz4Bad = decodeRecord("pmsg-flash-9", recordParts({ type: RecordType.Pmsg, seq: 9, codec: Codec.Lz4 }, garbage, 500));
  t.is(lz4Bad.outcome, "undecoded");
  t.deepEqual(lz4Bad.files.map((f) => f.suffix), [".enc.lz4"]);
  t.deepEqual(Buffer.from(lz4Bad.files[0].data), Buffer.from(garbage));

  const huge = decodeRecord("pmsg-flash-9", recordParts({ type: RecordType.Pmsg, seq: 9, codec: Codec.Heatshrink }, garbage, 0xfffffff0));
  t.is(huge.outcome, "undecoded");
  t.regex(huge.problem!, /beyond any record/);
});

test("an ftrace record decodes into named call lines", (t) => {
  let now = 1000;
  const tracer = new Tracer(4, () => now);
  const inner = tracer.trace(() => (now += 5), "readSensor");
  const outer = tracer.trace(() => inner(), "onTimer");
  for (let i = 0; i < 3; i++) outer();
  const payload = tracer.snapshot()!;
  const decoded = decodeRecord(
    "ftrace-flash-5",
    recordParts({ type: RecordType.Ftrace, seq: 5, flags: Flag.FtraceNames }, payload, payload.length),
  );
  t.is(decoded.outcome, "ok", decoded.problem);
  const lines = decoded.text!.trim().split("\n");
  t.regex(lines[0], /6 calls traced, last 4 kept \(2 older overwritten\)/);
  t.deepEqual(
    lines.slice(2).map((l) => l.trim().replace(/^\S+\s+/, "")),
    ["onTimer <- (top level)", "readSensor <- onTimer", "onTimer <- (top level)", "readSensor <- onTimer"],
  );
  const cut = decodeRecord("ftrace-flash-5", recordParts({ type: RecordType.Ftrace, seq: 5 }, payload.subarray(0, 12), 12));
  t.is(cut.outcome, "undecoded");
  t.deepEqual(cut.files.map((f) => f.suffix), [".undecoded"]);
});

/** A device's records in memory, recording every call the pipeline makes. */
class FakeSource implements RecordSource {
  readonly calls: string[] = [];
  constructor(
    readonly deviceId: string,
    readonly records: Map<string, { meta: SourceRecord; parts: Uint8Array[] }>,
  ) {}
  static of(deviceId: string, records: Array<[string, Uint8Array[]]>): FakeSource {
    const map = new Map<string, { meta: SourceRecord; parts: Uint8Array[] }>();
    for (const [name, parts] of records) {
      const view = new DataView(parts[0].buffer, parts[0].byteOffset);
      map.set(name, {
        meta: { name, seq: view.getUint32(12, true), boot: view.getUint32(16, true), parts: parts.length, storedLength: 0 },
        parts,
      });
    }
    return new FakeSource(deviceId, map);
  }
  async list() {
    this.calls.push("list");
    return [...this.records.values()].map((r) => r.meta);
  }
  async fetch(record: SourceRecord, progress: (done: number, total: number) => void) {
    this.calls.push(`fetch ${record.name}`);
    const parts = this.records.get(record.name)!.parts;
    progress(1, 1);
    return parts;
  }
  async erase(name: string) {
    this.calls.push(`erase ${name}`);
    return this.records.delete(name);
  }
}

function sampleDevice(): FakeSource {
  return FakeSource.of("PUCKJS 7f3a1c2b4d5e", [
    ["event-flash-20", textParts("reset: watchdog\n", { type: RecordType.Event, reason: Reason.Watchdog, seq: 20, boot: 4 })],
    ["dmesg-flash-17", textParts("log line\nUncaught Error: boom\n", { seq: 17, boot: 3 })],
    ["pmsg-flash-18", textParts("app says hi", { type: RecordType.Pmsg, reason: Reason.User, seq: 18, boot: 3 })],
  ]);
}

test("collect archives every record, then erases it; the archive has the layout, index and dmesg.txt", async (t) => {
  const root = join(tempDir(), "out");
  const source = sampleDevice();
  const result = await collectRecords(source, new Archive(root), { erase: true });
  t.is(result.records.length, 3);
  t.deepEqual(result.refused, []);
  for (const name of ["event-flash-20", "dmesg-flash-17", "pmsg-flash-18"]) {
    t.true(source.calls.indexOf(`fetch ${name}`) < source.calls.indexOf(`erase ${name}`), name);
  }
  t.is(source.records.size, 0);
  const device = join(root, "PUCKJS_7f3a1c2b4d5e");
  t.deepEqual(filesUnder(device), [
    "3", "3/dmesg-flash-17", "3/dmesg.txt", "3/pmsg-flash-18", "3/records.jsonl",
    "4", "4/dmesg.txt", "4/event-flash-20", "4/records.jsonl",
  ]);
  const index = readFileSync(join(device, "3", "records.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  t.deepEqual(index.map((e) => [e.name, e.seq, e.boot, e.type, e.reason, e.outcome]), [
    ["dmesg-flash-17", 17, 3, "dmesg", "exception", "ok"],
    ["pmsg-flash-18", 18, 3, "pmsg", "user", "ok"],
  ]);
  const story = readFileSync(join(device, "3", "dmesg.txt"), "utf8");
  t.true(story.indexOf("Uncaught Error: boom") < story.indexOf("app says hi"));
  t.is(statSync(join(device, "3", "dmesg.txt")).mode & 0o777, 0o600);
});

test("pulling twice never duplicates; a kept record is fetched again, found in the archive by its content, and erased", async (t) => {
  const root = tempDir();
  const first = sampleDevice();
  await collectRecords(first, new Archive(root), { erase: false });
  t.is(first.records.size, 3);
  const before = filesUnder(root).map((f) => [f, existsSync(join(root, f)) && statSync(join(root, f)).isFile() ? readFileSync(join(root, f), "utf8") : "dir"]);
  const again = await collectRecords(first, new Archive(root), { erase: true });
  t.true(again.records.every((r) => !r.written && r.erased));
  t.true(first.calls.slice(first.calls.lastIndexOf("list")).some((c) => c.startsWith("fetch")));
  const index = readFileSync(join(root, "PUCKJS_7f3a1c2b4d5e", "3", "records.jsonl"), "utf8").trim().split("\n");
  t.is(index.length, 2);
  const after = filesUnder(root).map((f) => [f, statSync(join(root, f)).isFile() ? readFileSync(join(root, f), "utf8") : "dir"]);
  t.deepEqual(after, before);
});

test("hostile names are refused without fetching or erasing, and nothing lands outside the archive", async (t) => {
  const base = tempDir();
  const root = join(base, "archive");
  const good = textParts("fine", { seq: 17 });
  const source = FakeSource.of("../../PUCKJS", [["dmesg-flash-17", good]]);
  for (const bad of ["../../x", "dmesg/../../flash-17", "dmesg-flash-1\x1b[2J"]) {
    source.records.set(bad, { meta: { name: bad, seq: 99, boot: 3, parts: 1, storedLength: 0 }, parts: good });
  }
  const result = await collectRecords(source, new Archive(root), { erase: true });
  t.is(result.refused.length, 3);
  t.is(result.records.length, 1);
  t.deepEqual(source.calls.filter((c) => c !== "list"), ["fetch dmesg-flash-17", "erase dmesg-flash-17"]);
  t.deepEqual(readdirSync(base), ["archive"]);
  t.deepEqual(filesUnder(root), ["_._.._PUCKJS", "_._.._PUCKJS/3", "_._.._PUCKJS/3/dmesg-flash-17", "_._.._PUCKJS/3/dmesg.txt", "_._.._PUCKJS/3/records.jsonl"]);
});

test("a corrupt record is archived raw and left on the device", async (t) => {
  const root = tempDir();
  const parts = textParts("will be damaged in transit", { seq: 30 });
  parts[0][60] ^= 0xff;
  const source = FakeSource.of("PICO 1", [["dmesg-flash-30", parts]]);
  const result = await collectRecords(source, new Archive(root), { erase: true });
  t.is(result.records[0].entry.outcome, "corrupt");
  t.false(result.records[0].erased);
  t.false(source.calls.includes("erase dmesg-flash-30"));
  t.true(existsSync(join(root, "PICO_1", "3", "dmesg-flash-30.corrupt")));
});

for (const code of ["ENOSPC", "EROFS"]) {
  test(`an archive that fails with ${code} stops the pull with a clear error and erases nothing not archived`, async (t) => {
    const root = tempDir();
    const source = sampleDevice();
    // Enough for the first record, its index and its dmesg.txt; the second record fails.
    const archive = new Archive(root, new DurableWriter(failingFs(code, 400)));
    const error = await t.throwsAsync(collectRecords(source, archive, { erase: true }), { instanceOf: ArchiveError });
    t.regex(error!.message, new RegExp(`cannot write .*\\(${code}\\)`));
    const erased = source.calls.filter((c) => c.startsWith("erase"));
    t.true(erased.length < 3);
    for (const call of erased) {
      const name = call.slice(6);
      const entry = filesUnder(root).find((f) => f.endsWith(`/${name}`));
      t.truthy(entry, `${name} was erased, so it must be archived`);
    }
    t.false(filesUnder(root).some((f) => isTemporaryName(f.split("/").pop()!)));
  });
}

test("the record name embeds the backend: recordName and the archive agree", (t) => {
  t.is(recordName(RecordType.Console, "storage", 3), "console-storage-3");
  t.is(decodeRecord("console-storage-3", textParts("x", { type: RecordType.Console, seq: 3 })).outcome, "ok");
});

test("drop markers written by a full keep-first zone are archived as drops: indexed, no file, counted in the summary", async (t) => {
  // The real core fills a one-page keep-first zone; what did not fit leaves header-only markers (FORMAT.md).
  const board = getBoard("PUCKJS");
  const device = createSimHal(board);
  const store = new Pstore(device.hal, { board, zones: [{ name: "dmesg", types: ["dmesg"], pages: 1, policy: "keep-first" }] });
  store.start();
  // Hex noise after the message, so heatshrink cannot shrink it much and the page fills after a few crashes.
  let x = 7;
  const text = "Uncaught Error: boom\n" + Array.from({ length: 1600 }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 28).toString(16)).join("");
  const crash = heatshrinkCompress(textToBytes(text));
  for (let i = 0; i < 6; i++) store.write(RecordType.Dmesg, Reason.Exception, crash, { codec: Codec.Heatshrink, originalLength: text.length });
  const listed = store.list();
  const markers = listed.filter((r) => r.flags & Flag.Drop);
  t.true(markers.length >= 1 && markers.length < listed.length, `listed: ${listed.map((r) => r.name).join(" ")}`);
  t.true(markers.every((m) => m.storedLength === 0 && m.codec === Codec.Heatshrink && m.originalLength === text.length));

  const source = FakeSource.of(
    "PUCKJS 1",
    listed.map((r) => [r.name, [store.readPart(r.name, 0)!]]),
  );
  const root = tempDir();
  const result = await collectRecords(source, new Archive(root), { erase: true });
  t.deepEqual(result.refused, []);
  const folder = join(root, "PUCKJS_1", "1");
  const index = readFileSync(join(folder, "records.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  for (const m of markers) {
    const entry = index.find((e) => e.name === m.name);
    t.like(entry, { outcome: "dropped", type: "dmesg", reason: "exception", codec: "heatshrink", storedBytes: 0, originalBytes: text.length, files: [] });
    t.true(entry.flags.includes("drop"));
    t.regex(entry.problem, new RegExp(`${m.name}: not kept: its zone was full when this dmesg record of ${text.length} bytes was written`));
    t.false(existsSync(join(folder, m.name)), "a drop marker has no content file");
  }
  t.true(index.filter((e) => e.outcome === "ok").every((e) => readFileSync(join(folder, e.name), "utf8").startsWith("Uncaught Error: boom")));
  // Archived like any other record, so erased on the device.
  t.is(source.records.size, 0);
  t.regex(readFileSync(join(folder, "dmesg.txt"), "utf8"), new RegExp(`--- ${markers[0].name}: dmesg, reason exception, .*drop ---\n\\(not kept: the zone was full`));

  const summary = formatSummary("PUCKJS 1", result, root);
  const n = markers.length;
  const shown = n === 1 ? `marker ${markers[0].name}` : `markers ${markers[0].name}, .*${markers[n - 1].name}`;
  t.regex(summary, new RegExp(`^${n} later ${n === 1 ? "crash" : "crashes"} not kept \\(zone full: drop ${shown}\\)$`, "m"));
  t.false(/undecoded|decodes to 0 bytes/.test(summary), summary);
});

test("a record with the drop flag that carries a payload is decoded as usual", (t) => {
  const decoded = decodeRecord("pmsg-flash-17", textParts("still here", { type: RecordType.Pmsg, flags: Flag.Drop }));
  t.is(decoded.outcome, "ok");
  t.is(decoded.text, "still here");
});

test("a listed record the device overwrote before its fetch is counted as gone and the pull goes on", async (t) => {
  const root = tempDir();
  const source = sampleDevice();
  const gone: SourceRecord = { name: "console-flash-19", seq: 19, boot: 3, parts: 1, storedLength: 40 };
  const listed = [...source.records.values()].map((r) => r.meta);
  source.list = async () => [listed[0], gone, ...listed.slice(1)];
  const fetch = source.fetch.bind(source);
  // What DeviceClient raises when the service's readPart finds nothing (firmware/service.ts).
  source.fetch = async (record, progress) => {
    if (record.name === gone.name) throw new ProtocolError("device-error", `fetch ${record.name} part 0: the device refused: Error: no part 0 of record ${record.name}`);
    return fetch(record, progress);
  };
  const result = await collectRecords(source, new Archive(root), { erase: true });
  t.deepEqual(result.gone, ["console-flash-19"]);
  t.deepEqual(result.refused, []);
  t.deepEqual(result.records.map((r) => r.entry.name).sort(), ["dmesg-flash-17", "event-flash-20", "pmsg-flash-18"]);
  t.false(filesUnder(root).some((f) => f.includes("console-flash-19")));
  t.regex(formatSummary(source.deviceId, result, root), /1 listed record was overwritten on the device before it could be fetched: console-flash-19/);

  // Any other device error still ends the pull.
  const other = sampleDevice();
  other.fetch = async (record) => {
    throw new ProtocolError("device-error", `fetch ${record.name} part 0: the device refused: Out of memory`);
  };
  await t.throwsAsync(collectRecords(other, new Archive(tempDir()), { erase: true }), { instanceOf: ProtocolError });
});
