// The real-interpreter tier's device under test: a real Espruino (the Linux build now; the Bangle.js 2 emulator
// through the same Target interface) reached over its console on a host TCP port, with everything that came back
// on that console kept in a transcript, and the real `pstore` command run against it as a child process.
//
// The Linux build's telnet port (2323) is fixed, so each one runs in a private network namespace (`unshare -n`)
// with a bridge (linux-bridge.mjs) relaying that port to a unix socket in the device's folder; where namespaces
// are not permitted, the devices take turns under a cross-process lock instead.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { ExecutionContext } from "ava";
import { FrameParser } from "../../tools/protocol/frames";

export const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin", "pstore.js");
const BRIDGE = join(import.meta.dirname, "linux-bridge.mjs");
const LINE_TIMEOUT_S = 30;
/** Where the devices wait for each other when no private network namespace can be made. */
const TELNET_LOCK = join(tmpdir(), "pstore-espruino-telnet-2323.lock");

/**
 * What the interpreter prints when something went wrong: none of these may appear in the console output outside
 * frames unless a scenario provoked it on purpose (and says so with `allow`).
 */
export const INTERPRETER_COMPLAINTS: readonly RegExp[] = [
  /Uncaught/,
  /\bERROR\b/,
  /WARNING/,
  /SyntaxError/,
  /New interpreter error/,
  /FIFO_FULL/,
  /OUT OF MEMORY/,
  /LOW_MEMORY/,
  /Function code is null/,
  /at line \d+ col \d+/,
  /Execution Interrupted/,
  /Press Ctrl-C again to exit/,
];

/** Where the tier's interpreter is: $ESPRUINO_BIN, when it names an executable file. */
export function interpreter(): { bin: string } | { missing: string } {
  const bin = process.env.ESPRUINO_BIN;
  if (!bin) return { missing: "ESPRUINO_BIN is not set (it names Espruino's Linux build, see README.md, \"Real-interpreter tier\")" };
  const path = isAbsolute(bin) ? bin : resolve(bin);
  if (!existsSync(path)) return { missing: `ESPRUINO_BIN=${bin}: no such file` };
  return { bin: path };
}

/** How a device under test is started, reached and restarted. */
export interface Target {
  readonly description: string;
  /** A fresh connection to the device's console. */
  open(): Promise<Socket>;
  /** Power cycle: the process is killed (if it still runs) and started again on the same flash. */
  restart(): Promise<void>;
  /** Resolves when the device's process ends, an end that is then not unexpected (e.g. after `quit()`). */
  expectExit(): Promise<void>;
  stop(): Promise<void>;
  /** Exits the device did on its own (not a restart or stop), e.g. the Linux build's exit on a second Ctrl-C. */
  readonly unexpectedExits: string[];
}

export interface Exchange {
  /** What was talking: a pstore command line, "repl", or "connection". */
  who: string;
  sent: string;
  received: string;
}

export interface CommandResult {
  code: number | null;
  out: string;
  err: string;
}

/** A device under test, served on a host TCP port whose every connection is recorded. */
export class DeviceUnderTest {
  readonly exchanges: Exchange[] = [];
  private checked = 0;
  private nextWho = "connection";

  private constructor(
    readonly target: Target,
    readonly dir: string,
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** Espruino's Linux build in a fresh folder (its espruino.flash lives there). */
  static async linux(bin: string): Promise<DeviceUnderTest> {
    const dir = mkdtempSync(join(tmpdir(), "pstore-real-"));
    const target = await LinuxTarget.start(bin, dir);
    return DeviceUnderTest.serve(target, dir);
  }

  /**
   * The Bangle.js 2 firmware in Espruino's emulator (`serve.js` in `emulatorDir`), its flash in `flashFile` (created
   * factory-fresh when missing, which takes 20–40 s; copy the file to keep a state).
   */
  static async bangle(emulatorDir: string, flashFile: string): Promise<DeviceUnderTest> {
    const dir = mkdtempSync(join(tmpdir(), "pstore-real-bangle-"));
    return DeviceUnderTest.serve(await EmulatorTarget.start(join(emulatorDir, "serve.js"), flashFile), dir);
  }

  /** Serves `target` on 127.0.0.1:0, recording each connection as one exchange. */
  static async serve(target: Target, dir: string): Promise<DeviceUnderTest> {
    let device: DeviceUnderTest | undefined;
    const server = createServer((host) => {
      const exchange: Exchange = { who: device!.nextWho, sent: "", received: "" };
      device!.exchanges.push(exchange);
      host.pause();
      target.open().then(
        (console) => {
          host.on("data", (bytes) => {
            exchange.sent += bytes.toString("latin1");
            console.write(bytes);
          });
          console.on("data", (bytes) => {
            exchange.received += bytes.toString("latin1");
            host.write(bytes);
          });
          host.on("close", () => console.destroy());
          console.on("close", () => host.destroy());
          host.on("error", () => console.destroy());
          console.on("error", () => host.destroy());
          host.resume();
        },
        (error: Error) => {
          exchange.received += `[harness: ${error.message}]`;
          host.destroy();
        },
      );
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const port = (server.address() as { port: number }).port;
    device = new DeviceUnderTest(target, dir, server, `tcp://127.0.0.1:${port}`);
    return device;
  }

  /** Runs the real `pstore` command (node bin/pstore.js) with `--port` set to this device, in the device's folder. */
  pstore(args: string[], options: { port?: boolean } = {}): Promise<CommandResult> {
    // A generous line timeout: the interpreter is a debug build and the machine may be busy; no test measures time.
    const full = options.port === false ? args : [...args, "--port", this.url, "--timeout", String(LINE_TIMEOUT_S)];
    this.nextWho = `pstore ${args.join(" ")}`;
    return new Promise((done) => {
      const child = spawn(process.execPath, [BIN, ...full], { cwd: this.dir, env: { ...process.env, PSTORE_PORT: undefined } });
      let out = "";
      let err = "";
      child.stdout.on("data", (b: Buffer) => (out += b));
      child.stderr.on("data", (b: Buffer) => (err += b));
      child.on("close", (code) => {
        this.nextWho = "connection";
        done({ code, out, err });
      });
    });
  }

  /**
   * Types `code` on the REPL (one line, echo off), waits until the console has been quiet for `quietMs`, and
   * returns what it printed. No Ctrl-C: the Linux build exits on a second one.
   */
  async type(code: string, quietMs = 300): Promise<string> {
    const socket = await this.connect("repl");
    let received = "";
    socket.on("data", (b: Buffer) => (received += b.toString("latin1")));
    await quiet(socket, 200);
    received = "";
    socket.write(`\x10${code}\n`);
    await quiet(socket, quietMs);
    socket.destroy();
    return received;
  }

  /** Evaluates `expr` on the device and returns its value, sent back as JSON between markers. */
  async evaluate<T = unknown>(expr: string): Promise<T> {
    const tag = `RT${Math.floor(Math.random() * 1e9)}`;
    const socket = await this.connect("repl");
    let received = "";
    socket.on("data", (b: Buffer) => (received += b.toString("latin1")));
    await quiet(socket, 200);
    received = "";
    socket.write(`\x10print("<${tag}"+"<"+JSON.stringify(${expr})+">${tag}>")\n`);
    const pattern = new RegExp(`<${tag}<([\\s\\S]*?)>${tag}>`);
    const deadline = Date.now() + LINE_TIMEOUT_S * 1000;
    try {
      for (;;) {
        const match = pattern.exec(received);
        if (match) return JSON.parse(match[1]) as T;
        if (/Uncaught [^\r\n]*/.test(received) || Date.now() > deadline) {
          throw new Error(`evaluating ${expr} on ${this.target.description}: ${JSON.stringify(received.slice(-300))}`);
        }
        await quiet(socket, 50);
      }
    } finally {
      socket.destroy();
    }
  }

  /** Power cycle: kill the interpreter, start it again on the same flash. */
  restart(): Promise<void> {
    return this.target.restart();
  }

  /** `quit()` typed on the REPL (the interpreter ends, E.on('kill') handlers run), then started again. */
  async quit(): Promise<void> {
    const exited = this.target.expectExit();
    await this.type("quit()", 100);
    await exited;
    await this.target.restart();
  }

  /** `load()`: the interpreter's soft reboot (boot code runs again). */
  async load(): Promise<void> {
    await this.type("load()", 1500);
  }

  /** `reset()`: RAM cleared, boot code run again where the device does that. */
  async reset(): Promise<void> {
    await this.type("reset()", 1500);
  }

  /** Every line the console printed outside frames, over all connections. */
  consoleLines(from = 0): string[] {
    const lines: string[] = [];
    for (const exchange of this.exchanges.slice(from)) {
      const parser = new FrameParser({ frame: () => {}, error: () => {}, line: (line) => lines.push(line) });
      parser.push(Buffer.from(exchange.received, "latin1"));
      parser.push(Buffer.from("\n"));
    }
    return lines;
  }

  /** Console lines outside frames that match an interpreter complaint and none of `allow`. */
  complaints(from = 0, allow: readonly RegExp[] = []): string[] {
    return this.consoleLines(from).filter(
      (line) => INTERPRETER_COMPLAINTS.some((c) => c.test(line)) && !allow.some((a) => a.test(line)),
    );
  }

  /** The transcript since exchange `from`, for failure messages. */
  transcript(from = 0): string {
    return this.exchanges
      .slice(from)
      .map((e) => `--- ${e.who}\n>>> ${JSON.stringify(e.sent.slice(0, 400))}\n<<< ${JSON.stringify(e.received.slice(-2000))}`)
      .join("\n");
  }

  /**
   * The check after every step: `pstore status --json` succeeds with every backend "ok", the interpreter did not
   * exit on its own, and nothing since the last check complained (other than `allow`). Returns the status.
   */
  async assertHealthy(t: ExecutionContext, allow: readonly RegExp[] = []): Promise<Record<string, any>> {
    const from = this.checked;
    const result = await this.pstore(["status", "--json"]);
    t.is(result.code, 0, `pstore status failed: ${result.err}\n${this.transcript(from)}`);
    let status: Record<string, any> = {};
    try {
      status = JSON.parse(result.out).status;
    } catch {
      t.fail(`pstore status --json printed no JSON: ${result.out}`);
    }
    const backends = Array.isArray(status.backends) ? status.backends : [];
    t.true(backends.length > 0, `status has no backends: ${result.out}`);
    for (const backend of backends) t.is(backend.state, "ok", `backend ${backend.name} is ${backend.state}: ${backend.error ?? ""}`);
    t.deepEqual(this.target.unexpectedExits, [], `the interpreter exited on its own\n${this.transcript(from)}`);
    t.deepEqual(this.complaints(from, allow), [], `the interpreter complained\n${this.transcript(from)}`);
    this.checked = this.exchanges.length;
    return status;
  }

  async stop(): Promise<void> {
    await new Promise((done) => this.server.close(done));
    await this.target.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private connect(who: string): Promise<Socket> {
    this.nextWho = who;
    const port = Number(new URL(this.url).port);
    return new Promise((done, fail) => {
      const socket = createConnection(port, "127.0.0.1", () => {
        this.nextWho = "connection";
        done(socket);
      });
      socket.once("error", fail);
    });
  }
}

/** Resolves once `socket` has sent nothing for `ms` (or closed). */
function quiet(socket: Socket, ms: number): Promise<void> {
  return new Promise((done) => {
    let timer = setTimeout(finish, ms);
    function again() {
      clearTimeout(timer);
      timer = setTimeout(finish, ms);
    }
    function finish() {
      socket.off("data", again);
      socket.off("close", finish);
      clearTimeout(timer);
      done();
    }
    socket.on("data", again);
    socket.once("close", finish);
  });
}

let namespacesPermitted: boolean | undefined;

/** True when this process may make a private network namespace with a loopback interface. */
function canIsolate(): boolean {
  namespacesPermitted ??= spawnSync("unshare", ["-n", "ip", "link", "set", "lo", "up"], { stdio: "ignore" }).status === 0;
  return namespacesPermitted;
}

type BridgeEvent = { event: "listening" | "started" | "killed" } | { event: "exit"; pid: number; code: number | null; signal: string | null };

/** The Linux build, run by linux-bridge.mjs in a private network namespace (or under the telnet lock). */
class LinuxTarget implements Target {
  readonly unexpectedExits: string[] = [];
  private waiters: Array<(event: BridgeEvent) => void> = [];
  private expectingExit = false;

  private constructor(
    readonly description: string,
    private readonly bridge: ChildProcess,
    private readonly socketPath: string,
    private readonly logPath: string,
  ) {
    createInterface({ input: bridge.stdout! }).on("line", (line) => {
      const event = JSON.parse(line) as BridgeEvent;
      if (event.event === "exit" && !this.expectingExit) {
        this.unexpectedExits.push(`exit code ${event.code}, signal ${event.signal}; its log: ${this.log().slice(-500)}`);
      }
      for (const wake of this.waiters.splice(0)) wake(event);
    });
  }

  static async start(bin: string, dir: string): Promise<LinuxTarget> {
    const socketPath = join(dir, "console.sock");
    const logPath = join(dir, "espruino.log");
    const isolated = canIsolate();
    const bridgeArgs = [BRIDGE, bin, dir, socketPath, logPath, isolated ? "1" : "0"];
    const bridge = isolated
      ? spawn("unshare", ["-n", process.execPath, ...bridgeArgs], { stdio: ["pipe", "pipe", "inherit"] })
      : spawn("flock", [TELNET_LOCK, process.execPath, ...bridgeArgs], { stdio: ["pipe", "pipe", "inherit"] });
    const target = new LinuxTarget(`Espruino's Linux build in ${dir}${isolated ? "" : " (no network namespace: under a lock)"}`, bridge, socketPath, logPath);
    await target.next("listening");
    await target.command("start", "started");
    return target;
  }

  open(): Promise<Socket> {
    return new Promise((done, fail) => {
      const socket = createConnection(this.socketPath, () => done(socket));
      socket.once("error", fail);
    });
  }

  expectExit(): Promise<void> {
    this.expectingExit = true;
    return this.next("exit").then(() => {
      this.expectingExit = false;
    });
  }

  async restart(): Promise<void> {
    this.expectingExit = true;
    await this.command("kill", "killed");
    this.expectingExit = false;
    await this.command("start", "started");
  }

  async stop(): Promise<void> {
    this.expectingExit = true;
    const ended = new Promise((done) => this.bridge.once("exit", done));
    this.bridge.stdin!.write("stop\n");
    await ended;
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, "latin1") : "";
  }

  private command(line: string, answer: BridgeEvent["event"]): Promise<BridgeEvent> {
    const reply = this.next(answer);
    this.bridge.stdin!.write(line + "\n");
    return reply;
  }

  private next(event: BridgeEvent["event"]): Promise<BridgeEvent> {
    return new Promise((done, fail) => {
      const onExit = () => fail(new Error(`${this.description}: the bridge ended before "${event}"`));
      this.bridge.once("exit", onExit);
      const wait = (got: BridgeEvent) => {
        if (got.event === event) {
          this.bridge.off("exit", onExit);
          done(got);
        } else this.waiters.push(wait);
      };
      this.waiters.push(wait);
    });
  }
}

/**
 * The interpreter for a tier's test file, or undefined after registering what stands in for its scenarios: with
 * $PSTORE_REAL=required (`npm run test:real`) a failing test saying what is missing, otherwise one skipped test
 * whose title says why.
 */
export function tierInterpreter(test: import("ava").TestFn): string | undefined {
  const found = interpreter();
  if ("bin" in found) return found.bin;
  if (process.env.PSTORE_REAL === "required") {
    test("real-interpreter tier: an interpreter is required", (t) => t.fail(`no interpreter: ${found.missing}`));
  } else {
    test.skip(`real-interpreter tier skipped: ${found.missing}`, () => {});
  }
  return undefined;
}

/** Espruino's emulator of a board (the Bangle.js 2 firmware), whose serve.js puts its console on a TCP port. */
class EmulatorTarget implements Target {
  readonly unexpectedExits: string[] = [];
  private expectingExit = false;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly description: string,
    private readonly serve: string,
    private readonly flashFile: string,
    private child: ChildProcess,
    private port: number,
  ) {
    this.watch();
  }

  static async start(serve: string, flashFile: string): Promise<EmulatorTarget> {
    const { child, port } = await EmulatorTarget.spawn(serve, flashFile);
    return new EmulatorTarget(`the emulator ${serve} on ${flashFile}`, serve, flashFile, child, port);
  }

  /** Starts serve.js and waits for the line that says where it listens. */
  private static spawn(serve: string, flashFile: string): Promise<{ child: ChildProcess; port: number }> {
    // stdin a pipe: its end stops the emulator, which then writes its flash back to the file.
    const child = spawn(process.execPath, [serve, "--port", "0", "--flash", flashFile], { stdio: ["pipe", "pipe", "pipe"] });
    return new Promise((done, fail) => {
      let text = "";
      const onData = (b: Buffer) => {
        text += b;
        const match = /listening tcp:\/\/127\.0\.0\.1:(\d+)/.exec(text);
        if (match) done({ child, port: Number(match[1]) });
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => fail(new Error(`${serve} exited (${code}) before listening: ${text.slice(-500)}`)));
    });
  }

  private watch(): void {
    const child = this.child;
    this.exited = new Promise((done) =>
      child.once("exit", (code, signal) => {
        if (!this.expectingExit) this.unexpectedExits.push(`exit code ${code}, signal ${signal}`);
        done();
      }),
    );
  }

  open(): Promise<Socket> {
    return new Promise((done, fail) => {
      const socket = createConnection(this.port, "127.0.0.1", () => done(socket));
      socket.once("error", fail);
    });
  }

  expectExit(): Promise<void> {
    this.expectingExit = true;
    return this.exited.then(() => {
      this.expectingExit = false;
    });
  }

  /** Stops the emulator (it writes its flash to the file), then starts it again on that file: a power cycle. */
  async restart(): Promise<void> {
    await this.stop();
    const { child, port } = await EmulatorTarget.spawn(this.serve, this.flashFile);
    this.child = child;
    this.port = port;
    this.expectingExit = false;
    this.watch();
  }

  async stop(): Promise<void> {
    this.expectingExit = true;
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      await this.exited;
    }
  }
}
