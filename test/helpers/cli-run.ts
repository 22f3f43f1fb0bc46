// Running the real `pstore` command (node bin/pstore.js, spawned) against hostile devices served over TCP
// (test/helpers/hostile-device.ts) or `pstore sim`, and reading back what it asked the device to erase.

import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join, resolve } from "node:path";
import { createLinkedPorts } from "../../tools/ports/memory";
import { HostileDevice, type HostileScript, type StoredRecord } from "./hostile-device";

export const ROOT = resolve(import.meta.dirname, "../..");
export const BIN = join(ROOT, "bin", "pstore.js");

export interface Served {
  url: string;
  devices: HostileDevice[];
  close(): Promise<void>;
}

/** Serves a HostileDevice over TCP: each connection gets a fresh one over the same record list. */
export async function serveHostile(records: StoredRecord[], script: HostileScript = {}): Promise<Served> {
  const devices: HostileDevice[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const { host, device } = createLinkedPorts("hostile");
    devices.push(new HostileDevice(device, records, script));
    socket.on("data", (bytes) => host.isOpen && host.write(bytes));
    host.on("data", (bytes) => socket.write(bytes));
    host.on("close", () => socket.destroy());
    socket.on("close", () => void host.close());
    socket.on("error", () => void host.close());
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const address = server.address() as { port: number };
  return {
    url: `tcp://127.0.0.1:${address.port}`,
    devices,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => server.close(done));
    },
  };
}

export interface Result {
  code: number | null;
  out: string;
  bytes: Buffer;
  err: string;
}

export function pstore(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((done) => {
    const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...options.env } });
    const out: Buffer[] = [];
    let err = "";
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b) => (err += b));
    child.on("close", (code) => done({ code, out: Buffer.concat(out).toString("utf8"), bytes: Buffer.concat(out), err }));
  });
}

/** Names the device was asked to erase. */
export function erasedOn(served: Served): string[] {
  return served.devices.flatMap((d) => d.requests.flatMap((r) => {
    const erase = /\.e\(\d+,("(?:[^"\\]|\\.)*")\)\}catch/.exec(r);
    return erase ? [JSON.parse(erase[1]) as string] : [];
  }));
}

export interface RunningSim {
  address: string;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/** Starts `pstore sim --board BOARD` and waits for the line that says where it serves. */
export async function startSim(args: string[], board = "PUCKJS"): Promise<RunningSim> {
  const child = spawn(process.execPath, [BIN, "sim", "--board", board, ...args], { cwd: ROOT });
  let out = "";
  let err = "";
  child.stderr!.on("data", (b) => (err += b));
  const address = await new Promise<string>((done, fail) => {
    child.stdout!.on("data", (b) => {
      out += b;
      const match = / on (\S+)\n/.exec(out);
      if (match) done(match[1]);
    });
    child.on("close", (code) => fail(new Error(`pstore sim exited ${code}: ${err}`)));
  });
  const closed = new Promise<number | null>((done) => child.on("close", done));
  return {
    address,
    child,
    stop: async () => {
      child.kill("SIGTERM");
      return closed;
    },
  };
}

/** Types a simulator console command (or REPL line) and waits a moment for the device to act. */
export async function typeOn(address: string, line: string, waitMs = 1500): Promise<void> {
  const [host, port] = address.slice("tcp://".length).split(":");
  await new Promise<void>((done) => {
    const socket = connect(Number(port), host, () => {
      socket.write(line + "\n");
      setTimeout(() => {
        socket.destroy();
        done();
      }, waitMs);
    });
    socket.on("data", () => {});
  });
}
