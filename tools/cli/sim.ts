// `pstore sim --board B --listen tcp://127.0.0.1:PORT [--image FILE] [--pty]`: a simulated device with
// pstore installed, to try the tool (and your application) without hardware.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEFAULT_DIST } from "./bundles";
import { boardOption, positiveNumber, requiredString, type Command } from "./command";
import { DeviceError, ExitCode, UsageError } from "./errors";
import { SIM_COMMANDS, SimServer } from "./sim-server";

export const simCommand: Command = {
  name: "sim",
  summary: "run a simulated device with pstore installed (TCP or pseudo-terminal)",
  help: `Usage: pstore sim --board B [--listen tcp://127.0.0.1:PORT | --pty] [--image FILE] [options]

Runs a simulated Espruino board (the real firmware bundles on a simulated interpreter, flash and
retained RAM) with pstore installed as boot code, and serves its console on TCP (connect with
\`pstore ... --port tcp://127.0.0.1:PORT\`, \`espruino --port tcp://...\`, or telnet/nc) or, with --pty,
on a pseudo-terminal whose path it prints (made with socat; use it like a serial port).
Flash and retained RAM persist in the image file, so records survive restarts of the simulator;
\`pstore decode FILE\` reads it. Runs until Ctrl-C or SIGTERM (the image is saved on the way out).

Faults, typed on the console as a line of their own (not sent to the interpreter):
${Object.entries(SIM_COMMANDS)
  .map(([c, what]) => `  ${c.padEnd(18)}${what}`)
  .join("\n")}

Options:
  -b, --board B             board to simulate (PUCKJS, PIXLJS, MDBT42Q, BANGLEJS2, PICO, ...)
      --listen URL          tcp://HOST:PORT to serve on (default tcp://127.0.0.1:0: a free port, printed)
      --pty                 serve on a pseudo-terminal instead (needs socat), print its path
      --image FILE          image file for flash and retained RAM (loaded when present, kept up to date)
      --dist DIR            folder of built bundles (default: this package's dist/; built when missing)
      --crash-after S       throw an uncaught Error S seconds after start
      --hang-after S        hang S seconds after start (the watchdog resets the chip)
      --power-loss-after S  cut the power S seconds after start
      --seed N              seed for power-on garbage and the serial number (default 1)
  -h, --help                this text

Exit codes: 0 stopped by Ctrl-C/SIGTERM; 2 bad command line or unknown board; 3 the address is
in use, or socat is missing for --pty; 5 the image is not of this board.
`,
  options: {
    board: { type: "string", short: "b" },
    listen: { type: "string" },
    pty: { type: "boolean" },
    image: { type: "string" },
    dist: { type: "string" },
    "crash-after": { type: "string" },
    "hang-after": { type: "string" },
    "power-loss-after": { type: "string" },
    seed: { type: "string" },
  },
  positionals: [],
  async run({ values }, io) {
    const board = boardOption(requiredString(values, "board"));
    const listen = typeof values.listen === "string" ? values.listen : "tcp://127.0.0.1:0";
    const address = /^tcp:\/\/([^:/]+):([0-9]{1,5})$/.exec(listen);
    if (!address) throw new UsageError(`--listen wants tcp://HOST:PORT, got ${JSON.stringify(listen)}`);
    if (values.pty && spawnSync("socat", ["-V"]).status !== 0) {
      throw new DeviceError("--pty needs socat (apt-get install socat / brew install socat); or use --listen");
    }
    const log = (line: string) => io.stderr.write(`[sim] ${line}\n`);
    let sim: SimServer;
    try {
      sim = await SimServer.start({
        board,
        image: typeof values.image === "string" ? values.image : undefined,
        dist: typeof values.dist === "string" ? resolve(values.dist) : DEFAULT_DIST,
        seed: positiveNumber(values, "seed", 1, { max: 0xffffffff }),
        log,
      });
    } catch (error) {
      throw new DeviceError(`cannot start the ${board.name} simulator: ${(error as Error).message}`);
    }
    let url: string;
    try {
      url = await sim.listen(values.pty ? "127.0.0.1" : address[1], values.pty ? 0 : Number(address[2]));
    } catch (error) {
      await sim.close();
      throw new DeviceError(`cannot listen on ${listen}: ${(error as Error).message}`);
    }
    let bridge: ChildProcess | undefined;
    if (values.pty) {
      const link = join(mkdtempSync(join(tmpdir(), "pstore-sim-")), `tty${board.name}`);
      bridge = spawn("socat", [`pty,raw,echo=0,link=${link}`, `tcp:${url.slice("tcp://".length)}`], { stdio: "ignore" });
      for (let i = 0; i < 100 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 50));
      io.stdout.write(`${board.name} simulator with pstore on ${link}\n`);
    } else {
      io.stdout.write(`${board.name} simulator with pstore on ${url}\n`);
    }
    if (typeof values.image === "string") io.stdout.write(`image: ${resolve(values.image)}\n`);

    const timers = [
      ["crash-after", "~crash"],
      ["hang-after", "~hang"],
      ["power-loss-after", "~power"],
    ].flatMap(([flag, command]) =>
      values[flag] === undefined ? [] : [setTimeout(() => log(sim.command(command)), positiveNumber(values, flag, 1, { max: 86400 }) * 1000)],
    );
    await new Promise<void>((done) => {
      io.signal.addEventListener("abort", () => done(), { once: true });
      process.once("SIGTERM", () => done());
    });
    for (const timer of timers) clearTimeout(timer);
    bridge?.kill();
    await sim.close();
    log("stopped");
    return ExitCode.Ok;
  },
};
