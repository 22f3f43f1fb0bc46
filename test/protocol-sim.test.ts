// firmware/service.ts built by the real build (esbuild + the Espruino gate) into a Storage module, loaded by the
// simulated Espruino, and driven by DeviceClient through the simulator's REPL: prompts, `\r\x1b[J`, paced timers.
// Also where the link's efficiency is measured over a throttled 115200-baud line.

import test from "ava";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBoard } from "../boards/index";
import { buildBoard, ROOT } from "../tools/build/build";
import { BasePort, type Port } from "../tools/ports/types";
import { simulatorPort } from "../tools/ports/sim";
import { throttlePort, uartBytesPerSecond } from "../tools/ports/throttle";
import { DeviceClient, type ClientOptions } from "../tools/protocol/client";
import type { ProtocolError } from "../tools/protocol/errors";
import { SimDevice } from "../tools/sim/espruino/device";
import { decodeRecordHeader, recordIntact } from "../pstore/format";
import { crc32 } from "../hal/sim/crc";
import { SERVICE_MODULE } from "../firmware/service";
import { makeRecord, type StoredRecord } from "./helpers/hostile-device";
import { deviceSource } from "../tools/cli/device";

/**
 * A service module (Storage "pstoresvc", calls exported as the real one's) that is the real service over records
 * held as base64 in the module itself: the core (and the firmware wiring that connects it) is not what this file
 * tests.
 */
function entrySource(records: StoredRecord[], spanLength: number, withBulk = true): string {
  const data = records.map((r) => ({ meta: r.meta, image: Buffer.from(r.image).toString("base64") }));
  return `
import { createService } from ${JSON.stringify(join(ROOT, "firmware/service"))};
function spanByte(i) { return (i * 13) & 255; }
var records = ${JSON.stringify(data)};
var span = new Uint8Array(${spanLength});
for (var k = 0; k < span.length; k++) span[k] = spanByte(k);
function find(name) { for (var i = 0; i < records.length; i++) if (records[i].meta.name === name) return i; return -1; }
var svc = createService({
  list: function () { var out = []; for (var i = 0; i < records.length; i++) out.push(records[i].meta); return out; },
  readPart: function (name, part) { var i = find(name); return i < 0 || part !== 0 ? undefined : E.toUint8Array(atob(records[i].image)); },
  erase: function (name) { var i = find(name); if (i >= 0) records.splice(i, 1); return i >= 0; },
  status: function () { return { records: records.length, free: process.memory().free }; },
  dumpInfo: function () { return { spans: [{ addr: 0x60000, size: span.length }], retained: 0 }; },
  dumpRead: function (area, offset, length) { return span.subarray(offset, offset + length); },
  crc32: function (data) { return E.CRC32(data); },
  base64: function (bytes) { return btoa(E.toString(bytes)); },
  bytes: function (text) { return E.toUint8Array(text); },
  print: function (line) { print(line); },
  defer: function (fn) { setTimeout(fn, 0); }
});
export var h = svc.h, l = svc.l, g = svc.g, e = svc.e, s = svc.s, i = svc.i, d = svc.d;
${withBulk ? "export var a = svc.a;" : "// an older service: no bulk call a"}
// For tests: the application's records change (one erased, one written) while the host pulls.
export function churn() { records.splice(1, 1); records.push(records[0]); records[records.length - 1] = ${JSON.stringify({
    meta: makeRecord(999, 300).meta,
    image: Buffer.from(makeRecord(999, 300).image).toString("base64"),
  })}; }
`;
}

/** The dump span the device module generates (spanByte in the module source). */
function expectedSpan(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 13) & 255);
}

async function buildModule(records: StoredRecord[], spanLength: number, withBulk = true): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "pstore-svc-"));
  try {
    const entry = join(dir, "entry.js");
    await writeFile(entry, entrySource(records, spanLength, withBulk));
    const build = await buildBoard("PUCKJS", { entries: { module: entry }, dryRun: true });
    return build.code.module!;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function simRig(
  records: StoredRecord[],
  spanLength = 0,
  wrap: (port: BasePort) => Port = (p) => p,
  options: ClientOptions = {},
  board = "PUCKJS",
  withBulk = true,
) {
  const device = new SimDevice({ board: getBoard(board) });
  device.writeFile(SERVICE_MODULE, await buildModule(records, spanLength, withBulk));
  device.startRealTime(2);
  const port = wrap(simulatorPort(device, "simulated PUCKJS"));
  const client = new DeviceClient(port, { responseTimeoutMs: 2000, ...options });
  const stop = async () => {
    device.stopRealTime();
    await client.close();
  };
  return { device, client, port, stop };
}

test("sim: the built service answers list, fetch, erase, status and dump through the REPL", async (t) => {
  const records = [makeRecord(11, 700), makeRecord(12, 3000), makeRecord(13, 0)];
  const { client, device, stop } = await simRig(records, 5000);
  // Leave the REPL half-typed, as a user's terminal might: connect must clear it.
  device.write(Buffer.from("var half = ("));
  await client.connect();
  const list = await client.list();
  t.deepEqual(list, records.map((r) => r.meta));
  for (const record of records) t.deepEqual(await client.fetchPart(record.meta.name, 0), record.image);
  t.true(await client.erase("dmesg-flash-12"));
  t.deepEqual(
    (await client.list()).map((m) => m.name),
    ["dmesg-flash-11", "dmesg-flash-13"],
  );
  t.is((await client.status()).records, 2);
  const dump = await client.dump();
  t.deepEqual(dump.spans, [expectedSpan(5000)]);
  t.is(client.stats.badFrames, 0);
  await stop();
});

test("sim: timer output interleaved with a transfer and XON/XOFF bytes on the line are skipped", async (t) => {
  const record = makeRecord(21, 4000);
  const lines: string[] = [];
  // A slow line and small windows: the user's interval gets to print between the service's answers.
  const { client, device, stop } = await simRig(
    [record],
    0,
    (port) => withFlowControlBytes(throttlePort(port, uartBytesPerSecond(115200)), 211),
    { onDeviceLine: (line) => lines.push(line), window: 1152 },
  );
  await client.connect();
  device.write(Buffer.from('\x10setInterval(function(){print("user timer says hi")},20)\n'));
  const image = await client.fetchPart(record.meta.name, 0);
  t.deepEqual(image, record.image);
  t.is(client.stats.badFrames, 0);
  t.true(lines.includes("user timer says hi"), "the user's timer printed during the transfer");
  await stop();
});

test("sim: efficiency over a throttled 115200-baud line", async (t) => {
  const records = [4000, 4000, 4000, 4000, 2000].map((n, i) => makeRecord(31 + i, n));
  const rate = uartBytesPerSecond(115200);
  // The Linux board: its 256 KB Storage holds a module with 18 KB of records in it.
  const { client, stop } = await simRig(records, 40960, (port) => throttlePort(port, rate), {}, "LINUX");
  await client.connect();
  const list = await client.list();

  const before = client.stats;
  const started = performance.now();
  let payload = 0;
  for (const meta of list) payload += (await client.fetchPart(meta.name, 0)).length;
  const recordsSeconds = (performance.now() - started) / 1000;
  const afterRecords = client.stats;
  const dumpStarted = performance.now();
  const dump = await client.dump();
  t.deepEqual(dump.spans, [expectedSpan(40960)]);
  const dumpSeconds = (performance.now() - dumpStarted) / 1000;
  const after = client.stats;

  const recordsWire = (afterRecords.payloadBytes - before.payloadBytes) / (afterRecords.bytesReceived - before.bytesReceived);
  const dumpWire = (after.payloadBytes - afterRecords.payloadBytes) / (after.bytesReceived - afterRecords.bytesReceived);
  const recordsRate = payload / (recordsSeconds * rate);
  const dumpRate = dump.spans[0].length / (dumpSeconds * rate);
  t.log(
    `records: ${payload} B payload, wire efficiency ${(recordsWire * 100).toFixed(1)}%, ` +
      `line-rate efficiency ${(recordsRate * 100).toFixed(1)}% (${recordsSeconds.toFixed(2)} s)`,
  );
  t.log(
    `dump: ${dump.spans[0].length} B payload, wire efficiency ${(dumpWire * 100).toFixed(1)}%, ` +
      `line-rate efficiency ${(dumpRate * 100).toFixed(1)}% (${dumpSeconds.toFixed(2)} s)`,
  );
  t.is(afterRecords.payloadBytes - before.payloadBytes, payload);
  t.true(recordsWire >= 0.7, `record transfer wire efficiency ${recordsWire.toFixed(3)} is below 0.70`);
  t.true(dumpWire >= 0.7, `dump wire efficiency ${dumpWire.toFixed(3)} is below 0.70`);
  await stop();
});

/** `inner` with what the device sends rewritten byte by byte: `change(byte, index)` returns the bytes to deliver. */
function tamper(inner: Port, change: (byte: number, index: number) => number[]): Port {
  class Tampered extends BasePort {
    private count = 0;
    constructor() {
      super(`${inner.description}, tampered`);
      inner.on("data", (bytes) => {
        const out: number[] = [];
        for (const b of bytes) out.push(...change(b, this.count++));
        this.received(Uint8Array.from(out));
      });
      inner.on("close", (error) => this.closed(error));
    }
    protected send(bytes: Uint8Array): void {
      inner.write(bytes);
    }
    protected async shutdown(): Promise<void> {
      await inner.close();
    }
  }
  return new Tampered();
}

/** Sprinkles XOFF/XON into everything the device sends, as Espruino's USB and Bluetooth flow control does. */
function withFlowControlBytes(inner: Port, every: number): Port {
  return tamper(inner, (b, i) => ((i + 1) % every === 0 ? [b, 0x13, 0x11] : [b]));
}

test("sim: a device without the pstore module fails connect at once, and raises nothing at its REPL", async (t) => {
  const device = new SimDevice({ board: getBoard("PUCKJS") });
  device.startRealTime(2);
  // Each attempt ends at the REPL's error, not at the (here very long) response timeout.
  const client = new DeviceClient(simulatorPort(device), { responseTimeoutMs: 60000 });
  const error = await t.throwsAsync<ProtocolError>(() => client.connect());
  t.is(error!.code, "not-installed");
  t.regex(error!.message, /no pstore service on .*: hello: the device refused: "h: the device could not run this call/);
  device.stopRealTime();
  await client.close();
});

test("sim: the real firmware bundle: records the device wrote are listed, fetched intact and erased", async (t) => {
  const build = await buildBoard("PUCKJS", { dryRun: true });
  const device = new SimDevice({ board: getBoard("PUCKJS") });
  device.writeFile("pstore", build.code.module!);
  device.writeFile(SERVICE_MODULE, build.code.svc!);
  device.writeFile(".boot1", build.code.boot!);
  device.reboot();
  device.startRealTime(2);
  device.write(Buffer.from('\x10require("pstore").pmsg("hello from the app")\n'));
  device.write(Buffer.from('\x10setTimeout(function(){throw new Error("boom")},10)\n'));
  // One byte of the line flipped well inside the dump below: the client resumes past it.
  let dumpStartsAt = Infinity;
  const port = tamper(simulatorPort(device), (b, i) => [i === dumpStartsAt + 3000 ? b ^ 0x04 : b]);
  const client = new DeviceClient(port, { responseTimeoutMs: 3000 });
  await client.connect();
  // The crash record is written when the timer has thrown: ask until the device lists it.
  let list = await client.list();
  for (let i = 0; i < 100 && list.length < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    list = await client.list();
  }
  t.true(list.some((m) => m.name.startsWith("pmsg-")) && list.some((m) => m.name.startsWith("dmesg-")));
  for (const meta of list) {
    const image = await client.fetchPart(meta.name, 0);
    const header = decodeRecordHeader(image, crc32);
    t.truthy(header, `${meta.name}: header parses`);
    t.true(recordIntact(crc32, image, header!), `${meta.name}: record CRC and commit word hold`);
    t.is(header!.seq, meta.seq);
    t.is(header!.storedLength, meta.storedLength);
  }
  t.true(await client.erase(list[0].name));
  t.false((await client.list()).some((m) => m.name === list[0].name));
  dumpStartsAt = client.stats.bytesReceived;
  const before = client.stats;
  const dump = await client.dump();
  t.true(dump.spans.length > 0);
  dump.info.spans.forEach((span, i) => t.deepEqual(dump.spans[i], device.flash.peek(span.addr, span.size), `span ${i}`));
  t.is(client.stats.badFrames - before.badFrames, 1, "the flipped byte spoiled one frame");
  t.true(client.stats.retries > before.retries, "and the dump resumed");
  device.stopRealTime();
  await client.close();
});

/** 118 records of 120..270 stored bytes (the bench's full PUCKJS store averages 194). */
function smallRecords(): StoredRecord[] {
  return Array.from({ length: 118 }, (_, i) => makeRecord(100 + i, 120 + ((i * 37) % 151)));
}

/** What `pstore pull` gets from the device source: every listed record's name and part images. */
async function pullAll(client: DeviceClient): Promise<Map<string, Uint8Array[]>> {
  const source = deviceSource(client, { deviceId: "test" });
  const pulled = new Map<string, Uint8Array[]>();
  for (const record of await source.list()) {
    if (pulled.has(record.name)) throw new Error(`${record.name} listed twice`);
    pulled.set(record.name, record.images ?? (await source.fetch(record, () => {})));
  }
  return pulled;
}

function expectedPull(records: StoredRecord[]): Map<string, Uint8Array[]> {
  return new Map(records.map((r) => [r.meta.name, [r.image]]));
}

test("sim: many small records in one bulk stream: at least 70% of the received bytes are record images", async (t) => {
  const records = smallRecords();
  // The Linux board: its Storage holds a module with 29 KB of records in it.
  const { client, stop } = await simRig(records, 0, (p) => p, {}, "LINUX");
  await client.connect();
  const before = client.stats;
  const bulk = await client.fetchAll();
  const after = client.stats;
  t.true(bulk.complete, bulk.fallback);
  t.deepEqual(
    bulk.records.map((r) => ({ name: r.name, boot: r.boot, seq: r.seq, parts: r.parts, storedLength: r.storedLength })),
    records.map((r) => ({ name: r.meta.name, boot: r.meta.boot, seq: r.meta.seq, parts: r.meta.parts, storedLength: r.meta.storedLength })),
  );
  t.deepEqual(bulk.records.map((r) => r.images), records.map((r) => [r.image]));
  const images = records.reduce((n, r) => n + r.image.length, 0);
  t.is(after.payloadBytes - before.payloadBytes, images);
  const bulkRatio = images / (after.bytesReceived - before.bytesReceived);

  // The same store the old way, for comparison: a listing, then one g per record.
  const list = await client.list();
  for (const meta of list) await client.fetchPart(meta.name, 0);
  const old = client.stats;
  const oldRatio = (old.payloadBytes - after.payloadBytes) / (old.bytesReceived - after.bytesReceived);
  t.log(`bulk: ${(bulkRatio * 100).toFixed(1)}% of received bytes are record images; list + g: ${(oldRatio * 100).toFixed(1)}%`);
  t.true(bulkRatio >= 0.7, `bulk wire efficiency ${bulkRatio.toFixed(3)} is below 0.70`);
  t.true(bulkRatio > oldRatio);
  await stop();
});

test("sim: a glitch in the bulk stream resumes from the last good offset", async (t) => {
  const records = smallRecords().slice(0, 40);
  let from = Infinity;
  const { client, stop } = await simRig(records, 0, (p) => tamper(p, (b, i) => [i === from + 5000 ? b ^ 0x01 : b]), {}, "LINUX");
  await client.connect();
  from = client.stats.bytesReceived;
  const before = client.stats;
  const pulled = await pullAll(client);
  t.deepEqual(pulled, expectedPull(records));
  t.is(client.stats.badFrames - before.badFrames, 1, "the flipped byte spoiled one frame");
  t.true(client.stats.retries > before.retries, "and the stream resumed");
  t.is(client.stats.payloadBytes - before.payloadBytes, records.reduce((n, r) => n + r.image.length, 0), "nothing fetched twice");
  await stop();
});

test("sim: a service without the bulk call: pull falls back to list + g", async (t) => {
  const records = smallRecords().slice(0, 10);
  const { client, stop } = await simRig(records, 0, (p) => p, {}, "PUCKJS", false);
  await client.connect();
  const bulk = await client.fetchAll();
  t.false(bulk.complete);
  t.regex(bulk.fallback ?? "", /all records/);
  t.deepEqual(await pullAll(client), expectedPull(records));
  await stop();
});

test("sim: records that change between bulk windows: pull falls back, nothing lost or doubled", async (t) => {
  const records = smallRecords().slice(0, 40);
  // Small windows, and the application's records change once the first window has arrived.
  const { client, device, stop } = await simRig(records, 0, (p) => p, { window: 2304 }, "LINUX");
  await client.connect();
  const start = client.stats.bytesReceived;
  let churned = false;
  const source = deviceSource(client, { deviceId: "test" });
  const watch = setInterval(() => {
    if (!churned && client.stats.bytesReceived > start + 3500) {
      churned = true;
      device.write(Buffer.from('\x10require("pstoresvc").churn()\n'));
    }
  }, 1);
  const listed = await source.list();
  clearInterval(watch);
  t.true(churned);
  const pulled = new Map<string, Uint8Array[]>();
  for (const record of listed) {
    t.false(pulled.has(record.name), `${record.name} listed once`);
    pulled.set(record.name, record.images ?? (await source.fetch(record, () => {})));
  }
  const now = [...records.slice(0, 1), ...records.slice(2), makeRecord(999, 300)];
  t.deepEqual(pulled, expectedPull(now));
  await stop();
});
