// Image files that are not whole or not usual: cut short, with bytes after their end, with a retained area too
// small to hold its header, and a dump from a storage-backend device whose service sends no Storage spans.

import test from "ava";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBoard } from "../boards/index";
import { createSimHal } from "../hal/sim/index";
import { decodeImage, encodeImage } from "../hal/sim/image";
import { STORAGE_HEADER_BYTES } from "../hal/sim/storage";
import { Reason, RecordType } from "../pstore/format";
import { openStore } from "../tools/fuzz/corpus";
import { imageFromDump } from "../tools/image/dump-image";
import { ExitCode } from "../tools/cli/errors";
import { pstore, serveHostile } from "./helpers/cli-run";
import { decodeInProcess } from "./helpers/decode-run";

const dir = mkdtempSync(join(tmpdir(), "pstore-format-image-"));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** A PUCKJS image with `count` pmsg records spread over the region, and a retained console tail. */
function puckImage(count: number) {
  const dev = createSimHal(getBoard("PUCKJS"), { seed: 5 });
  const store = openStore(dev);
  for (let i = 0; i < count; i++) store.write(RecordType.Event, Reason.ErrorFlag, new TextEncoder().encode(`{"event":"errorFlag","n":${i},"pad":"${"x".repeat(200)}"}`));
  store.ram!.appendConsole("Uncaught Error: before the cut\r\n");
  return dev.flash.snapshot(dev.retained!.snapshot());
}

test("an image cut in the middle of its region archives every record before the cut and names what was lost", async (t) => {
  const image = puckImage(40);
  const whole = encodeImage(image);
  const all = await decodeInProcess(whole);
  t.is(all.code, ExitCode.Ok, all.err);
  const region = image.layout!.pages;
  // The file ends in the middle of the region's fourth page.
  const headerBytes = whole.length - image.spans[0].size - image.retained!.length;
  const cutAt = headerBytes + region[3].addr - image.spans[0].addr + 1000;
  const cut = await decodeInProcess(whole.subarray(0, cutAt));
  t.is(cut.code, ExitCode.Data, cut.err);
  t.regex(cut.err, /warning: .*the file ends \d+ bytes into span 0 \(0x62000, 81920 bytes\)/);
  t.regex(cut.err, /warning: .*page 3 \(0x65000, 4096 bytes\) is cut short/);
  t.regex(cut.err, /warning: .*6 pages are cut off the image: their records are lost \(page 4 \(0x66000/);
  t.regex(cut.err, /warning: .*the retained area holds 0 of its 256 bytes: not decoded/);
  const before = all.entries.filter((e) => cut.entries.some((c) => c.name === e.name));
  t.true(cut.entries.length >= 12, `${cut.entries.length} of ${all.entries.length} records recovered`);
  t.deepEqual(cut.entries.map((e) => e.name).sort(), before.map((e) => e.name).sort(), "only records of the whole image");
  t.true(cut.entries.every((e) => e.outcome === "ok"));
});

test("a retained area too small for its header loses only itself; bytes past the end are reported", async (t) => {
  const image = puckImage(3);
  const small = encodeImage({ ...image, retained: image.retained!.subarray(0, 20) });
  const result = await decodeInProcess(small);
  t.is(result.code, ExitCode.Data);
  t.regex(result.err, /warning: .*retained area not decoded: ram: retained area of 20 bytes is too small/);
  t.is(result.entries.filter((e) => e.name.startsWith("event-flash-")).length, 3, "the three records");
  const trailing = await decodeInProcess(new Uint8Array([...encodeImage(image), 1, 2, 3]));
  t.regex(trailing.err, /warning: .*3 bytes follow the end the header describes/);
  t.true(trailing.entries.some((e) => e.name === "console-ram-0"));
  t.throws(() => decodeImage(new Uint8Array([...encodeImage(image), 1])), { message: /1 bytes follow the end/ }, "the simulator loads only whole images");
});

test("pstore dump of a storage-backend device whose service sends no Storage spans fails and writes nothing", async (t) => {
  // A service older than Storage dumps: its storage backend is fine, but dump info lists no span.
  const served = await serveHostile([], { status: () => ({ board: "LINUX", serial: "1", backends: [{ name: "storage", state: "ok" }] }) });
  t.teardown(() => served.close());
  const address = served.url;
  const path = join(dir, "linux.img");
  const dumped = await pstore(["dump", "--port", address, "--out", path]);
  t.is(dumped.code, ExitCode.Data, dumped.err);
  t.regex(dumped.err, /^pstore dump: the device's pstore service sends no flash spans for its storage backend .*nothing written/);
  t.false(existsSync(path));
});

test("a dump is refused, naming the file, when the device's spans do not hold a Storage file whole", (t) => {
  const board = getBoard("LINUX");
  const dev = createSimHal(board, { seed: 2 });
  const store = openStore(dev);
  store.write(RecordType.Pmsg, Reason.User, new TextEncoder().encode("one message"));
  store.write(RecordType.Dmesg, Reason.Panic, new TextEncoder().encode("one crash"));
  const files = dev.storage.area.files().filter((f) => /^pstore\.p\d+$/.test(f.name) && !f.deleted);
  t.true(files.length > 1);
  const span = (addr: number, size: number) => ({ addr, size, bytes: dev.flash.peek(addr, size) });
  const spans = files.map((f, i) => span(f.addr, STORAGE_HEADER_BYTES + f.size - (i === files.length - 1 ? 100 : 0)));
  const dump = { info: { spans: spans.map((s) => ({ addr: s.addr, size: s.size })), retained: 0 }, spans: spans.map((s) => s.bytes), retained: new Uint8Array(0) };
  const last = files[files.length - 1];
  t.throws(() => imageFromDump(board, "storage", dump), { message: new RegExp(`does not hold all of ${last.name} \\(1024 bytes from 0x${(last.addr + 32).toString(16)}\\): nothing written`) });
  const whole = { ...dump, info: { ...dump.info, spans: files.map((f) => ({ addr: f.addr, size: STORAGE_HEADER_BYTES + f.size })) }, spans: files.map((f) => dev.flash.peek(f.addr, STORAGE_HEADER_BYTES + f.size)) };
  t.deepEqual(imageFromDump(board, "storage", whole).layout!.pages.map((p) => p.file), files.map((f) => f.name).sort((a, b) => +a.slice("pstore.p".length) - +b.slice("pstore.p".length)), "pages in page-number order");
  t.throws(() => imageFromDump(getBoard("PUCKJS"), "flash", { info: { spans: [], retained: 0 }, spans: [], retained: new Uint8Array(0) }), { message: /sends no flash spans for its flash backend/ });
});
