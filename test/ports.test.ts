// tools/ports: the in-memory pair, the throttle, TCP and serial (over a socat pseudo-terminal pair) behind openPort.

import test from "ava";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPort } from "../tools/ports/index";
import { createLinkedPorts } from "../tools/ports/memory";
import { throttlePort, uartBytesPerSecond } from "../tools/ports/throttle";
import type { Port } from "../tools/ports/types";

/** Collects what `port` receives until `count` bytes arrived. */
function receive(port: Port, count: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (bytes: Uint8Array) => {
      chunks.push(Buffer.from(bytes));
      total += bytes.length;
      if (total >= count) {
        port.off("data", onData);
        resolve(Buffer.concat(chunks));
      }
    };
    port.on("data", onData);
    port.on("close", (error) => reject(error ?? new Error("closed")));
  });
}

function closeEvent(port: Port): Promise<Error | undefined> {
  return new Promise((resolve) => port.on("close", resolve));
}

const SAMPLE = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31) & 255));

test("memory: what one end writes the other receives, in order, both ways", async (t) => {
  const { host, device } = createLinkedPorts();
  const atDevice = receive(device, SAMPLE.length);
  host.write(SAMPLE.subarray(0, 1000));
  host.write(SAMPLE.subarray(1000));
  t.deepEqual(await atDevice, SAMPLE);
  const atHost = receive(host, 5);
  device.write("hello");
  t.is((await atHost).toString("latin1"), "hello");
});

test("memory: closing one end closes the other with a reason; writing after close throws", async (t) => {
  const { host, device } = createLinkedPorts("pair");
  const hostClosed = closeEvent(host);
  await device.close();
  const reason = await hostClosed;
  t.regex(reason!.message, /pair \(host end\): the other end closed/);
  t.false(host.isOpen);
  t.throws(() => host.write("x"), { message: /write after the port closed/ });
});

test("throttle: every byte arrives in order at the modelled line rate", async (t) => {
  const { host, device } = createLinkedPorts();
  const rate = uartBytesPerSecond(115200);
  t.is(rate, 11520);
  const slow = throttlePort(host, rate);
  const started = performance.now();
  const atHost = receive(slow, SAMPLE.length);
  device.write(SAMPLE);
  t.deepEqual(await atHost, SAMPLE);
  t.log(`5000 bytes took ${(performance.now() - started).toFixed(0)} ms at ${rate} B/s (ideal ${((5000 / rate) * 1000).toFixed(0)} ms)`);
  const atDevice = receive(device, 300);
  slow.write(SAMPLE.subarray(0, 300));
  t.deepEqual(await atDevice, SAMPLE.subarray(0, 300));
  const closed = closeEvent(device);
  await slow.close();
  t.truthy(await closed);
  t.throws(() => throttlePort(host, 0), { message: /must be positive/ });
});

async function listen(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

test("tcp: openPort('tcp://…') talks to a TCP console and reports the far end closing", async (t) => {
  const { server, port } = await listen((socket) => {
    // Echoes the sample back, then hangs up on the first byte after it.
    let received = 0;
    socket.write(">");
    socket.on("data", (bytes) => {
      if (socket.writableEnded) return;
      received += bytes.length;
      if (received > SAMPLE.length) socket.end();
      else socket.write(bytes);
    });
  });
  const tcp = await openPort(`tcp://127.0.0.1:${port}`);
  t.is(tcp.description, `tcp://127.0.0.1:${port}`);
  const prompt = receive(tcp, 1);
  t.is((await prompt).toString(), ">");
  const echo = receive(tcp, SAMPLE.length);
  tcp.write(SAMPLE);
  t.deepEqual(await echo, SAMPLE);
  const closed = closeEvent(tcp);
  tcp.write("!");
  t.regex((await closed)!.message, /connection closed by the other end/);
  server.close();
});

test("tcp: close() on request, and a refused connection names the address", async (t) => {
  const { server, port } = await listen(() => undefined);
  const tcp = await openPort(`tcp://127.0.0.1:${port}`);
  const closed = closeEvent(tcp);
  await tcp.close();
  t.is(await closed, undefined, "closing on request carries no error");
  t.false(tcp.isOpen);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await t.throwsAsync(() => openPort(`tcp://127.0.0.1:${port}`), { message: new RegExp(`cannot connect to tcp://127.0.0.1:${port}`) });
});

test("openPort: malformed specs are refused naming them", async (t) => {
  await t.throwsAsync(() => openPort("tcp://localhost"), { message: /"tcp:\/\/localhost" is not tcp:\/\/host:port/ });
  await t.throwsAsync(() => openPort("tcp://localhost:99999"), { message: /TCP port 99999 is out of range/ });
  await t.throwsAsync(() => openPort(""), { message: /empty port spec/ });
  await t.throwsAsync(() => openPort("/dev/ttyUSB0", { baud: -5 }), { message: /baud rate -5/ });
  await t.throwsAsync(() => openPort("/nonexistent/ttyPSTORE", { baud: 9600 }), {
    message: /cannot open \/nonexistent\/ttyPSTORE at 9600 baud/,
  });
});

const hasSocat = spawnSync("socat", ["-V"]).status === 0;

/** Two linked pseudo-terminals from socat, as a USB serial adapter looks to the host. */
async function ptyPair(): Promise<{ a: string; b: string; socat: ChildProcess; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "pstore-pty-"));
  const a = join(dir, "a");
  const b = join(dir, "b");
  const socat = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: "ignore" });
  for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i++) await new Promise((r) => setTimeout(r, 20));
  return { a, b, socat, dir };
}

(hasSocat ? test : test.skip)("serial: openPort(path, {baud}) over a pseudo-terminal pair, both ways", async (t) => {
  const { a, b, socat, dir } = await ptyPair();
  try {
    const host = await openPort(a, { baud: 115200 });
    const device = await openPort(b, { baud: 115200 });
    t.is(host.description, `${a} at 115200 baud`);
    const atDevice = receive(device, SAMPLE.length);
    host.write(SAMPLE);
    t.deepEqual(await atDevice, SAMPLE);
    const atHost = receive(host, 3);
    device.write("\x11>\x13");
    t.deepEqual(await atHost, Buffer.from([0x11, 0x3e, 0x13]), "XON/XOFF reach the parser untouched");
    const closed = closeEvent(host);
    await host.close();
    t.is(await closed, undefined);
    await device.close();
  } finally {
    socat.kill();
    await rm(dir, { recursive: true, force: true });
  }
});
