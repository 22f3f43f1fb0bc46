// The service (firmware/service.ts) at function level, the frame parser, and DeviceClient against a fake device
// that damages the line on purpose (test/helpers/hostile-device.ts).

import test from "ava";
import { FrameKind, createService, frameCheck } from "../firmware/service";
import { decodeRecordHeader, recordIntact } from "../pstore/format";
import { crc32 } from "../hal/sim/crc";
import { createLinkedPorts } from "../tools/ports/memory";
import { DeviceClient, splitBulkStream, type ClientOptions } from "../tools/protocol/client";
import { ProtocolError, type ProtocolErrorCode } from "../tools/protocol/errors";
import { FrameParser, type Frame } from "../tools/protocol/frames";
import { fakeTarget, HOSTILE_IDENTITY, HostileDevice, makeRecord, type HostileScript, type StoredRecord } from "./helpers/hostile-device";

// ---- service, function level ---------------------------------------------------------------------------------

/** The service over `records`, with deferred steps run by hand so a test sees each paced frame. */
function serviceRig(records: StoredRecord[], dump?: { spans: Uint8Array[]; retained: Uint8Array }) {
  const printed: string[] = [];
  const queue: (() => void)[] = [];
  const service = createService(fakeTarget(records, { print: (l) => printed.push(l), defer: (fn) => queue.push(fn) }, dump));
  const runAll = () => {
    while (queue.length) queue.shift()!();
  };
  const frames = (): { frames: Frame[]; errors: ProtocolError[] } => {
    const out = { frames: [] as Frame[], errors: [] as ProtocolError[] };
    const parser = new FrameParser({ frame: (f) => out.frames.push(f), error: (e) => out.errors.push(e) });
    parser.push(Buffer.from(printed.map((l) => l + "\r\n").join(""), "latin1"));
    return out;
  };
  return { service, printed, queue, runAll, frames };
}

function json(frame: Frame): unknown {
  return JSON.parse(Buffer.from(frame.payload).toString("latin1"));
}

test("service: list sends one M frame per record, paced one per idle step, then E with the count", (t) => {
  const records = [makeRecord(5, 100), makeRecord(6, 10)];
  const rig = serviceRig(records);
  rig.service.l(42);
  t.is(rig.printed.length, 0, "nothing is printed inside the REPL call itself");
  rig.queue.shift()!();
  t.is(rig.frames().frames.length, 1, "one frame per idle step");
  rig.runAll();
  const { frames, errors } = rig.frames();
  t.deepEqual(errors, []);
  t.deepEqual(
    frames.map((f) => [f.id, f.kind, f.arg]),
    [
      [42, FrameKind.Meta, 0],
      [42, FrameKind.Meta, 1],
      [42, FrameKind.End, 2],
    ],
  );
  t.deepEqual(json(frames[0]), records[0].meta);
  t.is(json(frames[2]), 2);
});

test("service: get streams a window of chunks with offsets, then E [next, size]; a later window resumes", (t) => {
  const record = makeRecord(9, 4900);
  const rig = serviceRig([record]);
  rig.service.g(7, record.meta.name, 0, 0, 3000, 1000);
  rig.runAll();
  let { frames } = rig.frames();
  t.deepEqual(
    frames.map((f) => [f.kind, f.arg, f.payload.length]),
    [
      [FrameKind.Data, 0, 1000],
      [FrameKind.Data, 1000, 1000],
      [FrameKind.Data, 2000, 1000],
      [FrameKind.End, 3, JSON.stringify([3000, record.image.length]).length],
    ],
  );
  t.deepEqual(json(frames[3]), [3000, record.image.length]);
  rig.printed.length = 0;
  rig.service.g(8, record.meta.name, 0, 3000, 65536, 1000);
  rig.runAll();
  ({ frames } = rig.frames());
  const data = frames.filter((f) => f.kind === FrameKind.Data);
  t.deepEqual(
    data.map((f) => f.arg),
    [3000, 4000],
  );
  t.deepEqual(json(frames[frames.length - 1]), [record.image.length, record.image.length]);
  t.deepEqual(Buffer.concat(data.map((f) => f.payload)), Buffer.from(record.image.subarray(3000)));
});

test("service: chunk and window are clamped to the device's limits", (t) => {
  const record = makeRecord(1, 8000);
  const rig = serviceRig([record]);
  rig.service.g(1, record.meta.name, 0, 0, 1e9, 1e9);
  rig.runAll();
  const sizes = rig
    .frames()
    .frames.filter((f) => f.kind === FrameKind.Data)
    .map((f) => f.payload.length);
  t.deepEqual(sizes, [3072, 3072, record.image.length - 6144]);
});

test("service: failures come back as X frames naming the problem", (t) => {
  const record = makeRecord(1, 10);
  const rig = serviceRig([record]);
  rig.service.g(3, "dmesg-flash-99", 0, 0, 100, 100);
  rig.service.g(4, record.meta.name, 0, 9999, 100, 100);
  rig.service.d(5, 3, 0, 100, 100);
  rig.runAll();
  const { frames } = rig.frames();
  t.deepEqual(
    frames.map((f) => [f.id, f.kind]),
    [
      [3, FrameKind.Error],
      [4, FrameKind.Error],
      [5, FrameKind.Error],
    ],
  );
  t.regex(json(frames[0]) as string, /no part 0 of record dmesg-flash-99/);
  t.regex(json(frames[1]) as string, /offset 9999 outside 0\.\.64/);
  t.regex(json(frames[2]) as string, /no dump area 3/);
});

test("service: a new request cancels the stream in progress", (t) => {
  const record = makeRecord(1, 5000);
  const rig = serviceRig([record]);
  rig.service.g(1, record.meta.name, 0, 0, 65536, 1000);
  rig.queue.shift()!();
  rig.service.s(2);
  rig.runAll();
  const { frames } = rig.frames();
  t.deepEqual(
    frames.map((f) => [f.id, f.kind]),
    [
      [1, FrameKind.Data],
      [2, FrameKind.End],
    ],
  );
});

test("service: dump info and dump areas, retained RAM as area -1", (t) => {
  const spans = [new Uint8Array(300).fill(0xaa), new Uint8Array(200).fill(0x55)];
  const retained = new Uint8Array(64).fill(7);
  const rig = serviceRig([], { spans, retained });
  rig.service.i(1);
  rig.service.d(2, 1, 0, 1000, 128);
  rig.runAll();
  rig.service.d(3, -1, 0, 1000, 128);
  rig.runAll();
  const { frames } = rig.frames();
  t.deepEqual(json(frames[0]), { spans: [{ addr: 0x60000, size: 300 }, { addr: 0x61000, size: 200 }], retained: 64 });
  const area = (id: number) =>
    Buffer.concat(frames.filter((f) => f.id === id && f.kind === FrameKind.Data).map((f) => f.payload));
  t.deepEqual(area(2), Buffer.from(spans[1]));
  t.deepEqual(area(3), Buffer.from(retained));
});

// ---- frame parser ------------------------------------------------------------------------------------------------

function frameText(id: number, kind: string, arg: number, payload: Uint8Array): string {
  const text = Buffer.from(payload).toString("base64");
  const check = frameCheck(crc32, id, kind, arg, text.length, crc32(payload));
  return `[PS1 ${id} ${kind} ${arg} ${text.length} ${check.toString(16)}]\r\n${text}\r\n`;
}

function parseAll(text: string | Uint8Array) {
  const out = { frames: [] as Frame[], errors: [] as ProtocolError[], lines: [] as string[] };
  const parser = new FrameParser({
    frame: (f) => out.frames.push(f),
    error: (e) => out.errors.push(e),
    line: (l) => out.lines.push(l),
  });
  parser.push(typeof text === "string" ? Buffer.from(text, "latin1") : text);
  return out;
}

const PAYLOAD = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);

test("parser: frames survive timer output, prompts, garbage and XON/XOFF anywhere, even inside the payload", (t) => {
  const frame = frameText(12, "D", 0, PAYLOAD);
  const withFlow = frame.slice(0, 9) + "\x13" + frame.slice(9, 200) + "\x11\x13\x11" + frame.slice(200);
  const text = "garbage\x00\xff[PS[PS\r\n>\r\x1b[Jfrom a timer\r\n>" + withFlow + ">\r\x1b[Jmore\r\n" + frame;
  const { frames, errors, lines } = parseAll(text);
  t.deepEqual(errors, []);
  t.is(frames.length, 2);
  t.deepEqual(frames[0].payload, PAYLOAD);
  t.deepEqual(frames[1], frames[0]);
  t.true(lines.includes("from a timer"));
  t.true(lines.includes("more"), "the prompt erased by \\r\\x1b[J is not part of the line");
});

test("parser: each kind of damage is a ProtocolError naming it, and the next frame still parses", (t) => {
  const good = frameText(1, "D", 0, PAYLOAD);
  const [header, body] = good.split("\r\n");
  const cases: [string, ProtocolErrorCode, RegExp][] = [
    [header.replace(" 0 400 ", " 0 404 ") + "\r\n" + body + "\r\n", "short-payload", /payload ended after 400 of the 404/],
    [header.replace(" 0 400 ", " 0 396 ") + "\r\n" + body + "\r\n", "long-payload", /goes on past the 396/],
    [header.replace(" D ", " Q ") + "\r\n" + body + "\r\n", "unknown-kind", /unknown kind "Q"/],
    [header.replace(" 0 400 ", " 0 99999 ") + "\r\n" + body + "\r\n", "oversize", /99999 payload characters, more than the cap/],
    [header.replace(" 0 400 ", " x 400 ") + "\r\n" + body + "\r\n", "malformed-frame", /malformed number field/],
    [header.replace("]", " 5]") + "\r\n" + body + "\r\n", "malformed-frame", /has 6 fields, not 5/],
    [header + "\r\n" + body.slice(0, 100) + "*" + body.slice(101) + "\r\n", "bad-base64", /byte 0x2a at payload position 100/],
    [header + "\r\n" + body.slice(0, 100) + (body[100] === "A" ? "B" : "A") + body.slice(101) + "\r\n", "bad-check", /frame check mismatch/],
    [header.replace(" 0 400 ", " 3 400 ") + "\r\n" + body + "\r\n", "bad-check", /frame check mismatch/],
    [header + "xx\r\n" + body + "\r\n", "malformed-frame", /header not followed by a line break/],
    [header.slice(0, 20) + "\r\n" + body + "\r\n", "malformed-frame", /broken by byte 0x0d/],
  ];
  for (const [damaged, code, message] of cases) {
    const { frames, errors } = parseAll(damaged + good);
    t.is(errors.length, 1, code);
    t.is(errors[0].code, code);
    t.regex(errors[0].message, message);
    t.is(frames.length, 1, `${code}: the following good frame is still found`);
    t.deepEqual(frames[0].payload, PAYLOAD);
  }
});

// ---- client against the hostile device ---------------------------------------------------------------------------

async function rig(records: StoredRecord[], script: HostileScript = {}, options: ClientOptions = {}) {
  const { host, device } = createLinkedPorts();
  const fake = new HostileDevice(device, records, script);
  const client = new DeviceClient(host, { responseTimeoutMs: 1000, ...options });
  return { client, fake, host, device };
}

function checkImage(t: { true: (v: boolean, m?: string) => void }, image: Uint8Array, name: string) {
  const header = decodeRecordHeader(image, crc32);
  t.true(header !== undefined && recordIntact(crc32, image, header), `${name}: the fetched image verifies`);
}

test("client: connect, list, fetch every record, erase, status over a clean line", async (t) => {
  const records = [makeRecord(1, 40), makeRecord(2, 5000), makeRecord(3, 0)];
  const originals = records.map((r) => r.image);
  const { client, fake } = await rig(records);
  await client.connect();
  const list = await client.list();
  t.deepEqual(
    list.map((m) => m.name),
    ["dmesg-flash-1", "dmesg-flash-2", "dmesg-flash-3"],
  );
  for (let i = 0; i < list.length; i++) {
    const progress: [number, number | undefined][] = [];
    const image = await client.fetchPart(list[i].name, 0, { onProgress: (d, n) => progress.push([d, n]) });
    t.deepEqual(image, originals[i]);
    checkImage(t, image, list[i].name);
    t.is(progress[progress.length - 1][0], image.length);
  }
  t.true(await client.erase("dmesg-flash-2"));
  t.false(await client.erase("dmesg-flash-2"));
  t.deepEqual(await client.status(), { records: 2, backends: ["flash"], ...HOSTILE_IDENTITY });
  t.is(client.stats.badFrames, 0);
  t.is(client.stats.retries, 0);
  t.true(fake.requests.every((r) => r.startsWith('try{require("pstoresvc").')));
  t.is(fake.uncaught, 0);
  await client.close();
});

test("client: garbage, a half-typed line and chatter before the prompt are cleared by connect", async (t) => {
  const { client, fake, host } = await rig([makeRecord(1, 100)], {
    greeting: "\xff\xfe garbage\r\nUncaught Error: old\r\nfunction f(a){\r\n:",
    chatterMs: 15,
  });
  host.write("half typed line without newline");
  await client.connect();
  t.is((await client.list()).length, 1);
  t.false(fake.requests.some((r) => r.includes("half typed")), "the half-typed line was cleared");
  fake.stop();
  await client.close();
});

test("client: connect clears the line without Ctrl-C, which makes Espruino's Linux build exit at the second", async (t) => {
  const { client, device } = await rig([makeRecord(1, 100)]);
  let sent = "";
  device.on("data", (bytes) => (sent += Buffer.from(bytes).toString("latin1")));
  await client.connect();
  await client.close();
  const again = await rig([makeRecord(1, 100)]);
  again.device.on("data", (bytes) => (sent += Buffer.from(bytes).toString("latin1")));
  await again.client.connect();
  t.is((await again.client.list()).length, 1);
  await again.client.close();
  t.false(sent.includes("\x03"), JSON.stringify(sent));
  t.true(sent.startsWith("\x1b[2H\n"));
});

test("client: Ctrl-C only when a hello went unanswered (code running on the device)", async (t) => {
  // The first hello's answer (frame header and payload, lines 0 and 1) never comes.
  const { client, device } = await rig([makeRecord(1, 100)], { mutateLine: (line, index) => (index < 2 ? null : line) }, { responseTimeoutMs: 500 });
  let sent = "";
  device.on("data", (bytes) => (sent += Buffer.from(bytes).toString("latin1")));
  await client.connect();
  await client.close();
  t.is(sent.split("\x03").length - 1, 1, JSON.stringify(sent));
  t.true(sent.indexOf("\x03") > sent.indexOf("h("), "Ctrl-C comes after the first hello");
});

test("client: XON/XOFF bytes and timer output inside a transfer do not disturb it", async (t) => {
  const record = makeRecord(4, 20000);
  const { client, fake } = await rig([makeRecord(4, 20000)], { flowControlEvery: 97, chatterMs: 5 });
  await client.connect();
  const image = await client.fetchPart(record.meta.name, 0);
  t.deepEqual(image, record.image);
  t.is(client.stats.badFrames, 0);
  fake.stop();
  await client.close();
});

test("client: a corrupted byte mid-transfer costs a resume from the last good offset, not the transfer", async (t) => {
  const record = makeRecord(5, 12000);
  let damaged = 0;
  let previous = "";
  const { client, fake } = await rig([makeRecord(5, 12000)], {
    // Flip one base64 character of the third chunk's payload, once.
    mutateLine: (line) => {
      const header = previous;
      previous = line;
      if (damaged > 0 || !/^\[PS1 \d+ D 2304 /.test(header)) return line;
      damaged++;
      return line.slice(0, 50) + (line[50] === "A" ? "B" : "A") + line.slice(51);
    },
  });
  await client.connect();
  const image = await client.fetchPart(record.meta.name, 0, { expectedSize: record.image.length });
  t.is(damaged, 1);
  t.deepEqual(image, record.image);
  t.is(client.stats.badFrames, 1);
  t.is(client.stats.retries, 1);
  const gets = fake.requests.filter((r) => r.includes(".g("));
  t.true(gets.length >= 2);
  t.regex(gets[1], new RegExp(`,"${record.meta.name}",0,${2 * 1152},`), "the second request starts after the two good chunks");
  await client.close();
});

test("client: a lost frame (dropped line) is resumed as well", async (t) => {
  const record = makeRecord(6, 9000);
  const { client } = await rig([makeRecord(6, 9000)], { mutateLine: (line, index) => (index === 2 || index === 3 ? null : line) });
  await client.connect();
  t.deepEqual(await client.fetchPart(record.meta.name, 0), record.image);
  t.true(client.stats.retries >= 1);
  await client.close();
});

async function failure(t: { fail: (m: string) => void }, run: () => Promise<unknown>): Promise<ProtocolError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  t.fail("expected a ProtocolError");
  throw new Error("unreachable");
}

const HOSTILE: [string, (line: string, index: number) => string | null, ProtocolErrorCode, RegExp][] = [
  ["a malformed frame header", (l) => l.replace(/^\[PS1 (\d+) /, "[PS1 $1x "), "gave-up", /malformed number field/],
  ["a wrong CRC", (l) => (l.startsWith("[PS1") ? l.replace(/ ([0-9a-f]+)\]$/, (_, c) => ` ${((parseInt(c, 16) ^ 1) >>> 0).toString(16)}]`) : l), "gave-up", /frame check mismatch/],
  ["a length larger than the data", (l) => (l.startsWith("[PS1") ? l.replace(/ (\d+) ([0-9a-f]+)\]$/, (_, n, c) => ` ${+n + 8} ${c}]`) : l), "gave-up", /payload ended after \d+ of the \d+ characters/],
  ["an unknown frame kind", (l) => (l.startsWith("[PS1") ? l.replace(/^\[PS1 (\d+) [A-Z] /, "[PS1 $1 Z ") : l), "gave-up", /unknown kind "Z"/],
  ["an oversize length", (l) => (l.startsWith("[PS1") ? l.replace(/ (\d+) ([0-9a-f]+)\]$/, " 123456 $2]") : l), "gave-up", /123456 payload characters, more than the cap/],
  ["non-base64 payload", (l) => (l.startsWith("[PS1") ? l : l.replace(/^(.{10})./, "$1~")), "gave-up", /byte 0x7e at payload position 10 is not base64/],
];

for (const [what, mutateLine, code, message] of HOSTILE) {
  test(`hostile device: ${what} on every frame is a clear ProtocolError after bounded retries`, async (t) => {
    const { client } = await rig([makeRecord(1, 3000)], { mutateLine }, { retries: 2, responseTimeoutMs: 1000 });
    const error = await failure(t, () => client.fetchPart("dmesg-flash-1", 0));
    t.is(error.code, code);
    t.regex(error.message, message);
    t.regex(error.message, /dmesg-flash-1 part 0/);
    await client.close();
  });
}

test("hostile device: a device that announces an absurd part size is refused without retrying", async (t) => {
  const { client, fake } = await rig([makeRecord(1, 100)]);
  await client.connect();
  // Swap the real window end for one that claims 1 GiB, correctly framed.
  const real = fake.service.g.bind(fake.service);
  fake.service.g = (id) => {
    const text = Buffer.from(JSON.stringify([0, 1 << 30])).toString("base64");
    const check = frameCheck(crc32, id, "E", 0, text.length, crc32(Buffer.from(JSON.stringify([0, 1 << 30]))));
    fake.inject(`[PS1 ${id} E 0 ${text.length} ${check.toString(16)}]\r\n${text}\r\n>`);
  };
  const error = await failure(t, () => client.fetchPart("dmesg-flash-1", 0));
  t.is(error.code, "bad-response");
  t.regex(error.message, /1073741824 bytes, more than the cap/);
  fake.service.g = real;
  await client.close();
});

test("hostile device: a stalled line is a timeout naming the call", async (t) => {
  const { client } = await rig([makeRecord(1, 6000)], { stallAfterBytes: 2500 }, { retries: 1, responseTimeoutMs: 500 });
  await client.connect();
  const error = await failure(t, () => client.fetchPart("dmesg-flash-1", 0));
  t.is(error.code, "gave-up");
  t.regex(error.message, /no answer for 500 ms/);
  await client.close();
});

test("hostile device: a hang-up mid-transfer is a disconnect error, at once", async (t) => {
  // A timeout would say "timeout"; the close itself must end the call.
  const { client } = await rig([makeRecord(1, 6000)], { hangUpAfterBytes: 3000 }, { responseTimeoutMs: 60000 });
  await client.connect();
  const error = await failure(t, () => client.fetchPart("dmesg-flash-1", 0));
  t.is(error.code, "disconnected");
  t.regex(error.message, /dmesg-flash-1 part 0 from 0: .* closed mid-answer/);
  const next = await failure(t, () => client.list());
  t.is(next.code, "disconnected");
});

test("hostile device: no pstore module is a clear error from connect", async (t) => {
  const { client } = await rig([], { noService: true });
  const error = await failure(t, () => client.connect());
  t.is(error.code, "not-installed");
  t.regex(error.message, /hello: the device refused: "h: the device could not run this call/);
  await client.close();
});

test("hostile device: a listing entry with a hostile name or field is refused, naming it", async (t) => {
  const bad = makeRecord(1, 10);
  (bad.meta as { name: string }).name = "../../etc/passwd";
  const { client } = await rig([bad]);
  await client.connect();
  const error = await failure(t, () => client.list());
  t.is(error.code, "bad-response");
  t.regex(error.message, /listing entry 0: record name "..\/..\/etc\/passwd" is not <type>-<backend>-<seq>/);
  await client.close();
});

test("client: refuses to type a malformed record name into the REPL", async (t) => {
  const { client, fake } = await rig([]);
  await client.connect();
  const error = await failure(t, () => client.erase('x");reset();("'));
  t.is(error.code, "bad-request");
  t.false(fake.requests.some((r) => r.includes("reset")));
  await client.close();
});

test("client: dump streams every span and the retained area", async (t) => {
  const { host, device } = createLinkedPorts();
  const spans = [Uint8Array.from({ length: 7000 }, (_, i) => i & 255), new Uint8Array(4096).fill(0xff)];
  const retained = Uint8Array.from({ length: 100 }, (_, i) => 255 - i);
  new HostileDevice(device, [], {}, { spans, retained });
  const client = new DeviceClient(host);
  await client.connect();
  let last = 0;
  const result = await client.dump((done) => (last = done));
  t.deepEqual(result.spans, spans);
  t.deepEqual(result.retained, retained);
  t.is(last, 7000 + 4096 + 100);
  await client.close();
});

test("bulk stream: counts are checked against the stream before use, and multi-part records group by consecutive seq", (t) => {
  const started = process.memoryUsage().heapUsed;
  const error = t.throws(() => splitBulkStream(new Uint8Array(0), [0, [["flash", 1e9]]]));
  t.regex(error!.message, /counts more records than 0 bytes can hold/);
  t.true(process.memoryUsage().heapUsed - started < 50e6);
  const record = makeRecord(40, 3000, undefined, { parts: 3 });
  const images = [record.image, ...record.more!];
  const stream = Buffer.concat([...images, makeRecord(43, 10).image]);
  const split = splitBulkStream(new Uint8Array(stream), [0, [["flash", 2]]]);
  t.deepEqual(split.map((r) => [r.name, r.parts, r.images.length]), [["dmesg-flash-40", 3, 3], ["dmesg-flash-43", 1, 1]]);
});
