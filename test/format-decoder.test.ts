// `pstore decode` against the decoder written from docs/FORMAT.md alone (test/helpers/format-decoder.ts): record for
// record, on the images the project writes — every board, raw/lz4/heatshrink payloads, multi-part and erased
// records, torn writes, retained RAM, the flash and storage backends — as written (format 2), with the layout taken
// out (format 1), as `pstore dump` writes them from what a device sends, and cut short at several points.

import test, { type ExecutionContext } from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { boardNames, getBoard } from "../boards/index";
import type { BoardDefinition } from "../boards/types";
import { createSimHal } from "../hal/sim/index";
import { encodeImage, type FlashImage } from "../hal/sim/image";
import { STORAGE_HEADER_BYTES } from "../hal/sim/storage";
import { seedImages, openStore } from "../tools/fuzz/corpus";
import { imageFromDump } from "../tools/image/dump-image";
import { ExitCode } from "../tools/cli/errors";
import { Reason, RecordType } from "../pstore/format";
import { decodeInProcess, type ArchivedEntry } from "./helpers/decode-run";
import { codecName, crc32, decodeImageFile, flagNames, heatshrink, lz4, reasonName, scanPage, typeName, validPageHeader, type FormatImage, type FormatRecord } from "./helpers/format-decoder";

/** The archive's trace view, from the trace as FORMAT.md's ftrace table gives it. */
function traceLines(r: FormatRecord): string[] {
  const { entries, names } = r.trace!;
  const nameOf = (id: number) => (id === 0 ? "(top level)" : (names[id - 1] ?? `#${id}`));
  return entries.map((e) => `${(e.uptime / 1000).toFixed(3).padStart(10)}s  ${nameOf(e.fn)} <- ${nameOf(e.caller)}`);
}

function fileOf(entry: ArchivedEntry, name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(entry.folder, name)));
}

/** Both decoders on one image: the same records, fields and content; the same verdict on the image. */
async function agree(t: ExecutionContext, label: string, bytes: Uint8Array): Promise<FormatImage> {
  const mine = decodeImageFile(bytes);
  const theirs = await decodeInProcess(bytes);
  t.deepEqual(theirs.entries.map((e) => e.name).sort(), mine.records.map((r) => r.name).sort(), `${label}: record names`);
  const damaged = mine.cut.length > 0 || mine.records.some((r) => r.outcome === "corrupt");
  t.is(theirs.code, damaged ? ExitCode.Data : ExitCode.Ok, `${label}: exit code (${mine.cut.join("; ")}) ${theirs.err}`);
  if (mine.cut.length) t.regex(theirs.err, /warning: .*(missing|cut|not decoded)/, `${label}: a warning names what was cut`);
  for (const r of mine.records) {
    const e = theirs.entries.find((x) => x.name === r.name);
    if (!e) continue;
    const what = `${label}: ${r.name}`;
    t.deepEqual(
      { boot: e.boot, seq: e.seq, type: e.type, reason: e.reason, codec: e.codec, flags: e.flags, parts: e.parts, uptime: e.uptimeMs, stored: e.storedBytes, original: e.originalBytes, outcome: e.outcome },
      { boot: r.boot, seq: r.seq, type: typeName(r.type), reason: reasonName(r.reason), codec: codecName(r.codec), flags: flagNames(r.flags), parts: r.parts, uptime: r.uptime, stored: r.storedLength, original: r.originalLength, outcome: r.outcome },
      what,
    );
    if (r.outcome === "ok" && r.trace) {
      const text = new TextDecoder().decode(fileOf(e, r.name)).split("\n");
      t.true(text[0].startsWith(`# ${r.trace.calls} call`), `${what}: call count`);
      t.deepEqual(text.slice(2, -1), traceLines(r), `${what}: trace`);
    } else if (r.outcome === "ok") {
      // A text view without the REPL's control codes has the record as stored beside it, as NAME.raw.
      t.deepEqual(fileOf(e, e.files.includes(`${r.name}.raw`) ? `${r.name}.raw` : r.name), r.decoded, `${what}: content`);
    }
    else if (r.outcome === "undecoded") t.deepEqual(fileOf(e, e.files[0]), r.type === RecordType.Ftrace && r.decoded ? r.decoded : r.stored, `${what}: kept bytes`);
    else if (r.outcome === "corrupt") t.deepEqual(fileOf(e, `${r.name}.corrupt`), Buffer.concat(r.raw), `${what}: kept parts`);
    else t.deepEqual(e.files, [], `${what}: a drop marker has no file`);
  }
  return mine;
}

/** The image cut at a few places: inside the first page, in the middle, just before the retained area. */
function cuts(bytes: Uint8Array, image: FlashImage): Array<[string, Uint8Array]> {
  const data = bytes.length - (image.retained?.length ?? 0) - image.spans.reduce((n, s) => n + s.size, 0);
  const firstPage = image.layout!.pages[0];
  const out: Array<[string, Uint8Array]> = [];
  if (firstPage) {
    const span = image.spans.find((s) => firstPage.addr >= s.addr && firstPage.addr < s.addr + s.size)!;
    const before = image.spans.slice(0, image.spans.indexOf(span)).reduce((n, s) => n + s.size, 0);
    out.push(["cut in the first page", bytes.subarray(0, data + before + firstPage.addr - span.addr + Math.floor(firstPage.size / 2))]);
    const last = image.layout!.pages[image.layout!.pages.length - 1];
    const lastSpan = image.spans.find((s) => last.addr >= s.addr && last.addr < s.addr + s.size)!;
    const lastBefore = image.spans.slice(0, image.spans.indexOf(lastSpan)).reduce((n, s) => n + s.size, 0);
    out.push(["cut in the last page", bytes.subarray(0, data + lastBefore + last.addr - lastSpan.addr + Math.floor(last.size / 3))]);
  }
  if (image.retained) out.push(["cut in the retained area", bytes.subarray(0, bytes.length - 5)]);
  return out;
}

/** What `pstore dump` writes for a storage-backend device that sends each pstore.p file (header and data) as a span. */
function dumpedStorage(board: BoardDefinition, image: FlashImage, files: Array<{ addr: number; size: number }>): Uint8Array {
  const spans = files.map((f) => ({ addr: f.addr, size: STORAGE_HEADER_BYTES + f.size }));
  const read = (addr: number, size: number) => {
    const i = image.spans.findIndex((s) => addr >= s.addr && addr + size <= s.addr + s.size);
    return image.data[i].slice(addr - image.spans[i].addr, addr - image.spans[i].addr + size);
  };
  const retained = image.retained ?? new Uint8Array(0);
  const dump = { info: { spans, retained: retained.length }, spans: spans.map((s) => read(s.addr, s.size)), retained };
  return encodeImage(imageFromDump(board, "storage", dump));
}

for (const name of boardNames()) {
  test(`${name}: pstore decode and the FORMAT.md decoder agree on every seed image, format 2 and 1, whole and cut`, async (t) => {
    const board = getBoard(name);
    let records = 0;
    let retained = 0;
    const codecs = new Set<number>();
    // The images are compared concurrently: the archive's fsyncs, not the decoding, take the time.
    const checks: Array<Promise<void>> = [];
    for (const seed of [1, 2]) {
      for (const s of seedImages(board, seed)) {
        const bytes = encodeImage(s.image);
        const label = `${name} seed ${seed} ${s.label}`;
        checks.push(
          agree(t, label, bytes).then(async (mine) => {
            records += mine.records.length;
            retained += mine.records.filter((r) => r.name === "console-ram-0").length;
            for (const r of mine.records) if (r.outcome === "ok") codecs.add(r.codec);
            t.deepEqual(mine.cut, [], `${label}: a whole image`);
            if (board.backend === "storage" && s.label === "workload") {
              const files = s.pages.map((p) => ({ addr: p.addr - STORAGE_HEADER_BYTES, size: p.size }));
              const dumped = await agree(t, `${label} (as dumped)`, dumpedStorage(board, s.image, files));
              t.deepEqual(dumped.records.map((r) => r.name), mine.records.map((r) => r.name), `${label}: the dump holds every record`);
            }
          }),
        );
        // Format 1 and the cuts on the images with the most in them: a full store, and retained RAM where there is one.
        if (seed === 1 && (s.label === "workload" || s.label === "retained" || (s.label === "torn" && !board.retained))) {
          checks.push(agree(t, `${label} (format 1)`, encodeImage({ ...s.image, layout: undefined })).then(() => {}));
          for (const [how, cut] of cuts(bytes, s.image)) {
            checks.push(agree(t, `${label} ${how}`, cut).then((part) => void t.true(part.cut.length > 0, `${label} ${how}: the decoder sees the cut`)));
          }
        }
      }
    }
    await Promise.all(checks);
    t.true(records > 10, `${name}: ${records} records compared`);
    t.deepEqual([...codecs].sort(), [0, 1, 2], `${name}: raw, lz4 and heatshrink records compared`);
    if (board.retained) t.true(retained > 0, `${name}: a retained console tail compared`);
  });
}

test("a record on the flash backend of a storage board's image and on the storage backend of a flash board's", async (t) => {
  // The image's kind follows the backend: a PUCKJS built for the storage backend keeps pstore.p<N> files in its Storage area.
  const board = { ...getBoard("PUCKJS"), backend: "storage" as const };
  const dev = createSimHal(board, { seed: 3 });
  const store = openStore(dev);
  store.write(RecordType.Pmsg, Reason.User, new TextEncoder().encode("kept in a Storage file"));
  const bytes = encodeImage(dev.flash.snapshot(dev.retained?.snapshot(), "storage"));
  const mine = await agree(t, "PUCKJS storage backend", bytes);
  t.true(mine.records.some((r) => r.name.startsWith("pmsg-storage-")));
});

test("FORMAT.md's worked examples check out with the FORMAT.md decoder", (t) => {
  const doc = readFileSync(join(import.meta.dirname, "../docs/FORMAT.md"), "utf8");
  const hex = (s: string) => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
  t.regex(doc, /the CRC of the ASCII bytes `123456789` is \*\*0xCBF43926\*\*/);
  t.is(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);

  const pageHeader = hex(/`(50 53 50 47 [0-9a-f ]+)`/.exec(doc.slice(doc.indexOf("Example: erase count 12")))![1]);
  t.true(validPageHeader(pageHeader));
  const dump = /Worked example[\s\S]*?```\n([\s\S]*?)```/.exec(doc)![1];
  const record = hex(dump.split("\n").map((line) => line.trim().split(/\s+/).slice(1).join(" ")).join(" "));
  t.is(record.length, 60);
  const page = new Uint8Array(4096).fill(0xff);
  page.set(pageHeader, 0);
  page.set(record, 24);
  const [part, ...more] = scanPage(page);
  t.deepEqual(more, []);
  t.like(part, { type: 1, reason: 1, codec: 0, flags: 1, part: 0, parts: 1, seq: 17, boot: 3, time: 1_700_000_000, uptime: 12345, storedLength: 5, originalLength: 5 });
  t.is(new TextDecoder().decode(part.raw.subarray(48, 53)), "hello");

  const lz4Example = /`abcabcabcabcabcabcabcabc!` \(25 bytes\) is\s+`([0-9a-f ]+)`/.exec(doc)!;
  t.is(new TextDecoder().decode(lz4(hex(lz4Example[1]), 25)), "abcabcabcabcabcabcabcabc!");
  const hsExample = /`aaaaaaaa` \(8 bytes\) encodes as `([0-9a-f ]+)`/.exec(doc)!;
  t.is(new TextDecoder().decode(heatshrink(hex(hsExample[1]), 8)), "aaaaaaaa");
});
