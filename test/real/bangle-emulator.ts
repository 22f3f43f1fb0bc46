// The real Bangle.js 2 firmware (Espruino's emulator build, in $BANGLE_EMU: serve.js there puts its console on TCP)
// for the tests: one watch per process, its flash in a file, so a state (a factory-fresh watch, one with pstore
// installed) is a copy of that file. Everything the watch sends to any client goes through a proxy that keeps it,
// so a test can look for interpreter complaints in what came back, whoever was connected.

import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";

/** The emulator's folder, or undefined when this machine has none. */
export function bangleEmulatorDir(): string | undefined {
  const dir = process.env.BANGLE_EMU;
  return dir && existsSync(join(dir, "serve.js")) ? dir : undefined;
}

/** What the interpreter prints when something went wrong. */
export const COMPLAINTS = /Uncaught|Function code is null|FIFO_FULL|OUT OF MEMORY|Execution Interrupted|LOW_MEMORY|Error:/;

export class BangleWatch {
  /** Everything the watch sent, to every client, since the start (or the last mark()). */
  received = "";
  private constructor(
    private readonly child: ChildProcess,
    private readonly upstreamPort: number,
    private readonly proxy: Server,
    readonly url: string,
  ) {}

  /** Starts a watch on `flashFile` (created factory-fresh, 20–40 s, when it does not exist). */
  static async start(dir: string, flashFile: string): Promise<BangleWatch> {
    const child = spawn(process.execPath, [join(dir, "serve.js"), "--port", "0", "--flash", flashFile], { stdio: ["pipe", "pipe", "pipe"] });
    const upstreamPort = await new Promise<number>((done, fail) => {
      let text = "";
      child.stdout!.on("data", (b: Buffer) => {
        text += b;
        const m = /listening tcp:\/\/127\.0\.0\.1:(\d+)/.exec(text);
        if (m) done(Number(m[1]));
      });
      child.stderr!.on("data", (b: Buffer) => (text += b));
      child.on("exit", (code) => fail(new Error(`serve.js exited (${code}): ${text}`)));
    });
    let watch: BangleWatch | undefined;
    const proxy = createServer((client: Socket) => {
      const upstream = connect(upstreamPort, "127.0.0.1");
      client.on("data", (b) => upstream.write(b));
      upstream.on("data", (b) => {
        if (watch) watch.received += b.toString("latin1");
        client.write(b);
      });
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((done) => proxy.listen(0, "127.0.0.1", done));
    watch = new BangleWatch(child, upstreamPort, proxy, `tcp://127.0.0.1:${(proxy.address() as { port: number }).port}`);
    return watch;
  }

  /** Powers the watch off: serve.js writes its flash back to the file. */
  async stop(): Promise<void> {
    const exited = new Promise((done) => this.child.once("exit", done));
    this.child.kill("SIGTERM");
    await exited;
    await new Promise((done) => this.proxy.close(done));
  }

  /** Keeps `flashFile` as `copy` (a saved state) once the watch is off. */
  static saveState(flashFile: string, copy: string): void {
    copyFileSync(flashFile, copy);
  }

  /** What came back since the last mark. */
  mark(): string {
    const text = this.received;
    this.received = "";
    return text;
  }

  /** A console session of its own: lines sent, and what the watch printed between markers. */
  async session<T>(use: (console: WatchConsole) => Promise<T>): Promise<T> {
    const socket = connect(this.upstreamPort, "127.0.0.1");
    await new Promise((done) => socket.once("connect", done));
    const console = new WatchConsole(socket, (text) => (this.received += text));
    try {
      return await use(console);
    } finally {
      socket.destroy();
    }
  }
}

export class WatchConsole {
  private text = "";
  constructor(
    private readonly socket: Socket,
    keep: (text: string) => void,
  ) {
    socket.on("data", (b) => {
      const s = b.toString("latin1");
      this.text += s;
      keep(s);
    });
  }

  send(line: string): void {
    this.socket.write(line);
  }

  /** Runs `expr` with echo off and returns JSON.parse of what it printed (waits up to `ms`). */
  async value(expr: string, ms = 120000): Promise<any> {
    const id = "@@" + Math.random().toString(36).slice(2, 8);
    const from = this.text.length;
    this.send(`\x10print("${id}"+JSON.stringify(${expr})+"${id}")\n`);
    const deadline = Date.now() + ms;
    const pattern = new RegExp(`${id}(.*)${id}`);
    for (let polls = 1; ; polls++) {
      const m = pattern.exec(this.text.slice(from));
      if (m) return JSON.parse(m[1]);
      if (Date.now() > deadline) throw new Error(`no answer to ${expr} within ${ms} ms; got ${JSON.stringify(this.text.slice(from).slice(-400))}`);
      // The emulator runs the firmware's idle loop at the next timer or when a character arrives, not when the
      // firmware queues an event itself (a Loopback write): an empty echo-off line now and then keeps it going.
      if (polls % 10 === 0) this.send("\x10\n");
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  /** Sends `line` and waits until the REPL answers again. */
  async run(line: string, ms = 180000): Promise<void> {
    this.send(line);
    await this.value("1", ms);
  }
}
