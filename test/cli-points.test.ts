// The command's smaller promises: a TCP address without its scheme, a device without pstore, a line that stays
// silent, an archive folder on a file system that takes no folders, board names in any case, shell completion.

import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boardOption } from "../tools/cli/command";
import { ExitCode, UsageError } from "../tools/cli/errors";
import { makeRecord } from "./helpers/hostile-device";
import { pstore, serveHostile } from "./helpers/cli-run";

test("host:port without tcp:// is refused with the spelling that works", async (t) => {
  const result = await pstore(["list", "--port", "127.0.0.1:2323"]);
  t.is(result.code, ExitCode.Usage);
  t.is(result.err, 'pstore list: --port "127.0.0.1:2323" looks like a TCP address: write tcp://127.0.0.1:2323\n');
  const named = await pstore(["status", "--port", "localhost:23"]);
  t.is(named.code, ExitCode.Usage);
  t.regex(named.err, /write tcp:\/\/localhost:23$/m);
});

test("a device without pstore: the command says to install it, on that port", async (t) => {
  const served = await serveHostile([], { noService: true });
  t.teardown(() => served.close());
  const result = await pstore(["list", "--port", served.url]);
  t.is(result.code, ExitCode.Device);
  // A busy machine may take a second to the first byte, and the command then says it waits.
  const lines = result.err.split("\n").filter((line) => line !== "" && !line.startsWith("waiting for the device on "));
  t.deepEqual(lines, [`pstore list: pstore is not installed on the device at ${served.url}: run pstore install --board B --port ${served.url} (B: its board, e.g. PUCKJS)`]);
});

test("a line where nothing answers: the command says what it waits for, then fails after the timeout", async (t) => {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const url = `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const result = await pstore(["status", "--port", url, "--timeout", "1.5"]);
  t.is(result.code, ExitCode.Device);
  t.is(
    result.err,
    `waiting for the device on ${url}…\npstore status: nothing came back from ${url} in 1.5 s: ` +
      "is a device there, switched on, not connected to another program, and at this baud rate?\n",
  );
});

(existsSync("/proc/self") ? test : test.skip)("an archive folder where the file system takes no folders (/proc) fails with exit 4, at once", async (t) => {
  const served = await serveHostile([makeRecord(5, 100)]);
  t.teardown(() => served.close());
  const result = await pstore(["pull", "--port", served.url, "--out", "/proc/pstore-archive"]);
  t.is(result.code, ExitCode.Archive);
  t.regex(result.err, /cannot create archive folder \/proc\/pstore-archive: the file system of \/proc takes no new folders/);
  t.deepEqual(served.devices.flatMap((d) => d.requests).filter((r) => /\.e\(/.test(r)), []);
});

test("board names are taken in any letter case; an unknown one lists the boards", (t) => {
  t.is(boardOption("puckjs").name, "PUCKJS");
  t.is(boardOption("BangleJS2").name, "BANGLEJS2");
  const error = t.throws(() => boardOption("puck"), { instanceOf: UsageError });
  t.regex(error!.message, /unknown board "puck"; valid boards: .*PUCKJS/);
});

/** The words bash would offer after `line` (the last word being completed) with the script loaded. */
function bashComplete(script: string, line: string): string[] {
  const words = line.split(" ");
  const file = join(mkdtempSync(join(tmpdir(), "pstore-completion-")), "pstore.bash");
  writeFileSync(file, script);
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const run = spawnSync("bash", ["-c", `source '${file}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _pstore; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: "utf8",
  });
  return run.stdout.split("\n").filter((w) => w !== "");
}

test("pstore completion bash completes commands, each command's options, board names and port schemes", async (t) => {
  const result = await pstore(["completion", "bash"]);
  t.is(result.code, ExitCode.Ok, result.err);
  t.deepEqual(bashComplete(result.out, "pstore p"), ["pull", "ports"]);
  t.deepEqual(bashComplete(result.out, "pstore pull --"), ["--port", "--baud", "--timeout", "--out", "--no-erase", "--device", "--json", "--help"]);
  t.deepEqual(bashComplete(result.out, "pstore sim --board PI"), ["PIXLJS", "PICO"]);
  t.true(bashComplete(result.out, "pstore list --port ").includes("ble://"));
  const bad = await pstore(["completion", "fish"]);
  t.is(bad.code, ExitCode.Usage);
  t.regex(bad.err, /no completion for "fish": shells are bash, zsh/);
});

const zsh = spawnSync("zsh", ["--version"]).status === 0;
(zsh ? test : test.skip)("pstore completion zsh loads in zsh and registers the completion for pstore", async (t) => {
  const result = await pstore(["completion", "zsh"]);
  t.is(result.code, ExitCode.Ok, result.err);
  const file = join(mkdtempSync(join(tmpdir(), "pstore-completion-")), "_pstore");
  writeFileSync(file, result.out);
  const run = spawnSync("zsh", ["-fc", `autoload -Uz compinit && compinit -u -d /dev/null; source '${file}'; print -r -- $_comps[pstore]`], {
    encoding: "utf8",
    env: { ...process.env, HOME: tmpdir() },
  });
  t.is(run.stderr, "");
  t.is(run.stdout.trim(), "_pstore");
});
