// Runs inside a private network namespace (or, without one, under a cross-process lock): starts Espruino's Linux
// build with --telnet in a given folder and relays its fixed 127.0.0.1:2323 to a unix socket the test side can
// reach. Plain JavaScript so it starts without a compiler. Commands on stdin, one per line: "start", "kill"
// (SIGKILL, flash kept), "stop". Events on stdout, one JSON object per line: started, exit, killed.
// Stdin closing (the test process died) stops the interpreter too.

import { spawn, execFileSync } from "node:child_process";
import { createServer, connect } from "node:net";
import { openSync, rmSync } from "node:fs";
import { createInterface } from "node:readline";

const [bin, dir, socketPath, logPath, isolated] = process.argv.slice(2);
const TELNET_PORT = 2323;
const CONNECT_PATIENCE_MS = 10000;

if (isolated === "1") execFileSync("ip", ["link", "set", "lo", "up"]);

let child;
const log = openSync(logPath, "a");
const say = (event) => process.stdout.write(JSON.stringify(event) + "\n");

function start() {
  // stdin stays an open, silent pipe: at EOF the interpreter spins and types garbage into its REPL.
  child = spawn(bin, ["--telnet"], { cwd: dir, stdio: ["pipe", log, log] });
  const running = child;
  running.on("exit", (code, signal) => {
    if (child === running) child = undefined;
    say({ event: "exit", pid: running.pid, code, signal });
  });
  say({ event: "started", pid: running.pid });
}

function kill(then) {
  const running = child;
  if (!running) return then();
  running.once("exit", then);
  running.kill("SIGKILL");
}

/** Connects to the telnet port, retrying while the interpreter starts up. */
function telnet(onSocket, onFail) {
  const deadline = Date.now() + CONNECT_PATIENCE_MS;
  const attempt = () => {
    const socket = connect(TELNET_PORT, "127.0.0.1");
    socket.once("connect", () => onSocket(socket));
    socket.once("error", () => {
      socket.destroy();
      if (Date.now() > deadline) onFail();
      else setTimeout(attempt, 50);
    });
  };
  attempt();
}

rmSync(socketPath, { force: true });
const server = createServer((client) => {
  client.pause();
  telnet(
    (socket) => {
      socket.setNoDelay(true);
      client.pipe(socket);
      socket.pipe(client);
      client.resume();
      client.on("close", () => socket.destroy());
      socket.on("close", () => client.destroy());
      client.on("error", () => socket.destroy());
      socket.on("error", () => client.destroy());
    },
    () => client.destroy(),
  );
});
server.listen(socketPath, () => say({ event: "listening" }));

const stop = () => kill(() => server.close(() => process.exit(0)));
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "start") start();
  else if (line === "kill") kill(() => say({ event: "killed" }));
  else if (line === "stop") stop();
});
process.stdin.on("end", stop);
