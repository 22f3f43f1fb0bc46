// tools/ports/ble.ts over a fake of noble's API (test/helpers/fake-noble.ts): spec parsing, scanning, MTU-sized
// writes one at a time, XON/XOFF, a link that drops and comes back under the real protocol client, and the
// `pstore` command itself with the fake loaded through $PSTORE_NOBLE_MODULE.

import test from "ava";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openBlePort, parseBleSpec, scanUartDevices, type NobleApi } from "../tools/ports/ble";
import { createLinkedPorts } from "../tools/ports/memory";
import type { Port } from "../tools/ports/types";
import { DeviceClient } from "../tools/protocol/client";
import { ExitCode } from "../tools/cli/errors";
import { FakeNoble, type FakeDeviceOptions, type FakeEvent, type FakeNobleConfig, type UartLink } from "./helpers/fake-noble";
import { HostileDevice, makeRecord, type StoredRecord } from "./helpers/hostile-device";
import { erasedOn, pstore, ROOT, serveHostile, startSim, typeOn } from "./helpers/cli-run";

const PUCK = "F1:2A:33:44:55:66";
const SCAN = { scanMs: 500 };

/** A fake adapter with one device whose UART ends in `device`'s callbacks. */
function adapter(options: Partial<FakeDeviceOptions> = {}, extra: FakeDeviceOptions[] = []) {
  const received: Buffer[] = [];
  let send: (bytes: Uint8Array) => void = () => {};
  const link: UartLink = {
    toDevice: (bytes) => received.push(Buffer.from(bytes)),
    fromDevice: (listener) => (send = listener),
  };
  const silent: UartLink = { toDevice: () => {}, fromDevice: () => {} };
  const noble = new FakeNoble([{ options: { address: PUCK, name: "Puck.js 1a2b", ...options }, link }, ...extra.map((o) => ({ options: o, link: silent }))]);
  return { noble, received: () => Buffer.concat(received), fromDevice: (text: string) => send(Buffer.from(text, "latin1")) };
}

function api(noble: FakeNoble): NobleApi {
  return noble as unknown as NobleApi;
}

function writes(events: FakeEvent[]): number[] {
  return events.filter((e) => e.event === "write").map((e) => e.bytes!);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

test("port specs: ble://ADDRESS, ble:ADDRESS and ble:NAME; other specs are not BLE; an empty one is refused", (t) => {
  t.deepEqual(parseBleSpec("ble://F1:2A:33:44:55:66"), { address: "f1:2a:33:44:55:66" });
  t.deepEqual(parseBleSpec("ble:f1:2a:33:44:55:66"), { address: "f1:2a:33:44:55:66" });
  t.deepEqual(parseBleSpec("ble:Puck.js 1a2b"), { name: "Puck.js 1a2b" });
  t.deepEqual(parseBleSpec("BLE://Bangle.js 7f3e"), { name: "Bangle.js 7f3e" });
  t.is(parseBleSpec("/dev/ttyACM0"), undefined);
  t.is(parseBleSpec("tcp://127.0.0.1:2323"), undefined);
  t.throws(() => parseBleSpec("ble://"), { message: /names no device.*pstore ports/ });
});

test("a scan lists the devices that advertise the Nordic UART, and only those", async (t) => {
  const { noble } = adapter({}, [
    { address: "C0:FF:EE:00:00:01", name: "Heart rate strap", uart: false },
    { address: "C0:FF:EE:00:00:02", name: "Bangle.js 7f3e" },
  ]);
  const devices = await scanUartDevices(api(noble), 100);
  t.deepEqual(devices, [
    { address: "C0:FF:EE:00:00:02", name: "Bangle.js 7f3e", rssi: -58 },
    { address: PUCK, name: "Puck.js 1a2b", rssi: -58 },
  ]);
  t.deepEqual(noble.violations, []);
});

for (const mtu of [23, 131]) {
  test(`writes are at most MTU - 3 bytes (MTU ${mtu}), one at a time, in order, every byte delivered`, async (t) => {
    const { noble, received } = adapter({ mtu });
    const port = await openBlePort(api(noble), { address: PUCK.toLowerCase() }, SCAN);
    const text = Array.from({ length: 40 }, (_, i) => `line ${i}: ${"x".repeat(i)}\n`).join("");
    for (let at = 0; at < text.length; at += 97) port.write(text.slice(at, at + 97));
    await until(() => received().length === text.length, "every byte on the device");
    t.is(received().toString("latin1"), text);
    const sizes = writes(noble.events);
    t.is(Math.max(...sizes), mtu - 3);
    t.is(sizes.reduce((a, b) => a + b, 0), text.length);
    t.deepEqual(noble.violations, []);
    t.regex(port.description, /^ble:\/\/F1:2A:33:44:55:66 \(Puck\.js 1a2b\)$/);
    await port.close();
    t.false(port.isOpen);
  });
}

test("XOFF from the device holds the writes until XON; the device's output, XON/XOFF included, reaches the host", async (t) => {
  const { noble, received, fromDevice } = adapter({ xoffAfterBytes: 60, xoffMs: 150 });
  const port = await openBlePort(api(noble), { name: "Puck.js 1a2b" }, SCAN);
  const heard: Buffer[] = [];
  port.on("data", (bytes) => heard.push(Buffer.from(bytes)));
  const text = "y".repeat(400);
  port.write(text);
  await until(() => received().length === text.length, "every byte on the device");
  t.deepEqual(noble.violations, [], JSON.stringify(noble.violations));
  fromDevice(">hello\r\n");
  await until(() => Buffer.concat(heard).includes(">hello"), "the device's output");
  t.deepEqual([...Buffer.concat(heard)].filter((b) => b === 0x11 || b === 0x13), [0x13, 0x11]);
  await port.close();
});

/** A HostileDevice (the real service over records in memory) behind the fake UART. */
function hostileAdapter(records: StoredRecord[], options: Partial<FakeDeviceOptions>) {
  const { host, device } = createLinkedPorts("uart");
  new HostileDevice(device, records);
  const link: UartLink = { toDevice: (bytes) => host.write(bytes), fromDevice: (listener) => host.on("data", listener) };
  return new FakeNoble([{ options: { address: PUCK, name: "Puck.js 1a2b", ...options }, link }]);
}

test("a link that drops mid-transfer is connected again, and the client resumes: every record intact", async (t) => {
  const records = [makeRecord(21, 3000), makeRecord(22, 2500), makeRecord(23, 64)];
  const images = records.map((r) => Buffer.from(r.image));
  const noble = hostileAdapter(records, { dropAfterBytes: [2500, 6000], failedReconnects: 1 });
  const port: Port = await openBlePort(api(noble), { address: PUCK.toLowerCase() }, SCAN);
  const client = new DeviceClient(port, { responseTimeoutMs: 400, chunk: 256, window: 1024 });
  await client.connect();
  const listed = await client.list();
  const fetched = [];
  for (const record of listed) fetched.push(Buffer.from(await client.fetchPart(record.name, 0)));
  t.deepEqual(fetched, images);
  t.true(port.isOpen);
  const kinds = noble.events.map((e) => e.event).filter((e) => e !== "write");
  t.deepEqual(kinds.filter((e) => e === "drop").length, 2, kinds.join(" "));
  t.true(kinds.filter((e) => e === "connect").length === 3 && kinds.includes("connect-refused"), kinds.join(" "));
  t.true(client.stats.retries > 0);
  t.deepEqual(noble.violations, []);
  await client.close();
});

test("a link that does not come back closes the port, saying so", async (t) => {
  const noble = hostileAdapter([makeRecord(31, 4000)], { dropAfterBytes: [100], failedReconnects: 10 });
  const port = await openBlePort(api(noble), { address: PUCK.toLowerCase() }, SCAN);
  const closed = new Promise<Error | undefined>((resolve) => port.on("close", resolve));
  const client = new DeviceClient(port, { responseTimeoutMs: 400 });
  await t.throwsAsync(client.connect().then(() => client.fetchPart("dmesg-flash-31", 0)));
  t.regex(String((await closed)?.message), /ble:\/\/F1:2A:33:44:55:66 \(Puck\.js 1a2b\): the link dropped and did not come back after 3 attempts/);
  t.false(port.isOpen);
});

test("a device nobody advertises, and one without the UART service, are refused with the reason", async (t) => {
  const { noble } = adapter({}, [{ address: "C0:FF:EE:00:00:01", name: "Heart rate strap", uart: false }]);
  await t.throwsAsync(openBlePort(api(noble), { name: "Puck.js ffff" }, { scanMs: 100 }), {
    message: /cannot open ble:Puck\.js ffff: no such device advertised within 0\.1 s/,
  });
  await t.throwsAsync(openBlePort(api(noble), { address: "c0:ff:ee:00:00:01" }, SCAN), {
    message: /cannot open ble:\/\/C0:FF:EE:00:00:01 \(Heart rate strap\): the device has no Nordic UART service/,
  });
});

// The command, with the fake loaded in its process through the documented seam.
const FAKE = join(ROOT, "test", "helpers", "fake-noble.ts");

function withFake(config: FakeNobleConfig) {
  return { env: { PSTORE_NOBLE_MODULE: FAKE, FAKE_NOBLE: JSON.stringify(config) } };
}

test("pstore pull --port ble://… archives every record once and erases it, across a drop mid-pull", async (t) => {
  const store = [makeRecord(11, 3000), makeRecord(12, 5000), makeRecord(13, 40)];
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const base = mkdtempSync(join(tmpdir(), "pstore-ble-"));
  const log = join(base, "ble.log");
  const out = join(base, "archive");
  const result = await pstore(
    ["pull", "--port", `ble://${PUCK}`, "--out", out, "--timeout", "1", "--json"],
    withFake({ devices: [{ address: PUCK, name: "Puck.js 1a2b", target: served.url, dropAfterBytes: [4000] }], log }),
  );
  t.is(result.code, ExitCode.Ok, result.err);
  const events = readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line) as FakeEvent);
  t.is(events.filter((e) => e.event === "drop").length, 1);
  t.is(events.filter((e) => e.event === "connect").length, 2);
  t.deepEqual(events.filter((e) => e.event === "violation"), []);
  t.is(Math.max(...writes(events)), 20);
  t.deepEqual(store, []);
  t.deepEqual(erasedOn(served).sort(), ["dmesg-flash-11", "dmesg-flash-12", "dmesg-flash-13"]);
  const boot = join(out, "TEST_0123abcd", "3");
  const lines = readFileSync(join(boot, "records.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line).name);
  t.deepEqual(lines.sort(), ["dmesg-flash-11", "dmesg-flash-12", "dmesg-flash-13"]);
  // Binary payloads: each text view has the record as stored beside it (NAME.raw).
  t.deepEqual(readdirSync(boot).sort(), [
    "dmesg-flash-11",
    "dmesg-flash-11.raw",
    "dmesg-flash-12",
    "dmesg-flash-12.raw",
    "dmesg-flash-13",
    "dmesg-flash-13.raw",
    "dmesg.txt",
    "records.jsonl",
  ]);
});

test("the simulator's real bundles over BLE: a crash is pulled across a drop, and the device is empty after", async (t) => {
  const sim = await startSim(["--listen", "tcp://127.0.0.1:0"]);
  t.teardown(() => void sim.child.kill("SIGKILL"));
  await typeOn(sim.address, "~crash over the air");
  const base = mkdtempSync(join(tmpdir(), "pstore-ble-"));
  const log = join(base, "ble.log");
  const device = { address: PUCK, name: "Puck.js 1a2b", target: sim.address, mtu: 64 };
  const pulled = await pstore(
    ["pull", "--port", "ble:Puck.js 1a2b", "--out", join(base, "archive"), "--timeout", "1", "--json"],
    withFake({ devices: [{ ...device, dropAfterBytes: [1500] }], log }),
  );
  t.is(pulled.code, ExitCode.Ok, pulled.err);
  const report = JSON.parse(pulled.out) as { records: Array<{ name: string; type: string; folder: string }> };
  const crash = report.records.find((r) => r.type === "dmesg" && /over the air/.test(readFileSync(join(r.folder, r.name), "utf8")));
  t.truthy(crash, pulled.out);
  const events = readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line) as FakeEvent);
  t.is(events.filter((e) => e.event === "drop").length, 1);
  t.deepEqual(events.filter((e) => e.event === "violation"), []);
  // Requests are short lines: sent whole on this link's 61-byte writes, not cut at the default 20.
  const longest = Math.max(...writes(events));
  t.true(longest > 20 && longest <= 61, String(longest));
  const listed = await pstore(["list", "--port", `ble://${PUCK}`, "--json"], withFake({ devices: [device] }));
  t.is(listed.code, ExitCode.Ok, listed.err);
  t.deepEqual(JSON.parse(listed.out).records, []);
});

test("pstore ports lists the BLE devices with a UART beside the serial ports; without Bluetooth it says so in one line", async (t) => {
  const listed = await pstore(
    ["ports", "--scan", "0.2"],
    withFake({ devices: [{ address: PUCK, name: "Puck.js 1a2b" }, { address: "C0:FF:EE:00:00:01", name: "Heart rate strap", uart: false }] }),
  );
  t.is(listed.code, ExitCode.Ok, listed.err);
  t.regex(listed.out, /^Serial: /m);
  t.regex(listed.out, /^Bluetooth LE: 1 device with the Nordic UART in a 0\.2 s scan\n {2}ble:\/\/F1:2A:33:44:55:66 {2}Puck\.js 1a2b {2}rssi -58$/m);
  t.notRegex(listed.out, /Heart rate/);

  const off = await pstore(["ports", "--json"], withFake({ state: "poweredOff", devices: [] }));
  t.is(off.code, ExitCode.Ok, off.err);
  const report = JSON.parse(off.out);
  t.true(Array.isArray(report.serial) || typeof report.serial.unavailable === "string");
  t.deepEqual(report.ble, { unavailable: "not available: Bluetooth is switched off (bluetoothctl power on)" });
});

test("a BLE device that is not there: exit 3 naming it; a missing BLE module: exit 3 saying what to install", async (t) => {
  const absent = await pstore(["list", "--port", "ble:Puck.js ffff", "--timeout", "0.2"], withFake({ devices: [{ address: PUCK, name: "Puck.js 1a2b" }] }));
  t.is(absent.code, ExitCode.Device);
  t.regex(absent.err, /^pstore list: cannot open ble:Puck\.js ffff: no such device advertised within 0\.4 s/);
  const broken = await pstore(["list", "--port", `ble://${PUCK}`], { env: { PSTORE_NOBLE_MODULE: join(ROOT, "test", "helpers", "no-such-module.ts") } });
  t.is(broken.code, ExitCode.Device);
  t.regex(broken.err, /^pstore list: cannot open ble:\/\/F1:2A:33:44:55:66: the @abandonware\/noble package does not load: /);
});
