// Command lines that make no sense, files that are not images, names that do not exist and archive folders that
// cannot take the records, given to the real `pstore` command (spawned): each ends with its documented exit code
// and a clear first line naming what is wrong, never a stack trace, and nothing is erased that was not archived.
// (test/cli.test.ts and test/e2e-cli.test.ts cover the rest: unknown options, hostile devices, full or read-only
// file systems, a file where the archive folder should be.)

import test from "ava";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeImage } from "../hal/sim/image";
import { Codec, encodeRecord, Flag, Reason, RecordType } from "../pstore/format";
import { crc32 } from "../hal/sim/crc";
import { ExitCode } from "../tools/cli/errors";
import { erasedOn, pstore, serveHostile, type Result } from "./helpers/cli-run";
import { makeRecord, type StoredRecord } from "./helpers/hostile-device";

const dir = mkdtempSync(join(tmpdir(), "pstore-bad-input-"));
/** $PSTORE_PORT would stand in for a missing --port. */
const env = { PSTORE_PORT: "" };

/** A TCP port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return `tcp://127.0.0.1:${port}`;
}

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** The documented code, the message on stderr's first line, and no stack trace or "internal error" anywhere. */
function assertClear(t: import("ava").ExecutionContext, result: Result, code: ExitCode, message: RegExp, what: string): void {
  t.is(result.code, code, `${what}: ${result.err}`);
  const first = result.err.split("\n")[0];
  t.regex(first, message, what);
  t.regex(first, /^pstore( [a-z]+)?: /, what);
  t.false(/internal error|^\s+at /m.test(result.err), `${what}: ${result.err}`);
}

const out = join(dir, "archive");
const image = encodeImage({ board: "PUCKJS", kind: "flash", spans: [{ addr: 0x62000, size: 0xa000 }], data: [new Uint8Array(0xa000).fill(0xff)] });

const cases: Array<[string, () => Promise<string[]>, ExitCode, RegExp]> = [
  ["pull without --port or --out", async () => ["pull"], ExitCode.Usage, /--out is required/],
  ["pull without --port", async () => ["pull", "--out", out], ExitCode.Usage, /--port is required/],
  ["pull without --out does not open the port", async () => ["pull", "--port", await closedPort()], ExitCode.Usage, /--out is required/],
  ["a port of an unknown scheme", async () => ["list", "--port", "nonsense://x"], ExitCode.Usage, /--port "nonsense:\/\/x": unknown scheme "nonsense:\/\/"; give a serial device .*, tcp:\/\/host:port or ble:\/\/ADDRESS/],
  ["--baud abc", async () => ["list", "--port", await closedPort(), "--baud", "abc"], ExitCode.Usage, /--baud wants a number above 0 up to 10000000, got "abc"/],
  ["--timeout -3", async () => ["status", "--port", await closedPort(), "--timeout", "-3"], ExitCode.Usage, /--timeout wants a value, but the next argument starts with "-": write --timeout=VALUE/],
  ["--timeout=-3", async () => ["status", "--port", await closedPort(), "--timeout=-3"], ExitCode.Usage, /--timeout wants a number from 0.1 up to 3600, got "-3"/],
  ["-p followed by an option", async () => ["list", "-p", "--json"], ExitCode.Usage, /--port wants a value, but the next argument starts with "-"/],
  ["dump --board NOPE, refused before the port is opened", async () => ["dump", "--port", await closedPort(), "--out", join(dir, "x.img"), "--board", "NOPE"], ExitCode.Usage, /unknown board "NOPE"; valid boards: PUCKJS/],
  ["install --board NOPE", async () => ["install", "--board", "NOPE", "--port", await closedPort()], ExitCode.Usage, /unknown board "NOPE"/],
  ["cat without a name", async () => ["cat", "--port", await closedPort()], ExitCode.Usage, /expected NAME, got none/],
  ["rm without a name", async () => ["rm"], ExitCode.Usage, /expected NAME, got none/],
  ["rm of a path, refused before the port is opened", async () => ["rm", "../x", "--port", await closedPort()], ExitCode.Usage, /"\.\.\/x" is not a record name: names are <type>-<backend>-<seq>/],
  ["cat of a name with a slash", async () => ["cat", "dmesg/flash-1", "--port", await closedPort()], ExitCode.Usage, /"dmesg\/flash-1" is not a record name/],
  ["decode of a missing file", async () => ["decode", join(dir, "missing.img"), "--out", out], ExitCode.Data, /cannot read image .*missing\.img: ENOENT/],
  ["decode of a text file", async () => ["decode", file("notes.txt", "not an image\n"), "--out", out], ExitCode.Data, /notes\.txt: not a pstore image \(missing "PSIMG001" at offset 0\)/],
  ["decode of an empty file", async () => ["decode", file("empty.img", ""), "--out", out], ExitCode.Data, /empty\.img: not a pstore image/],
  ["decode of an image cut inside its header", async () => ["decode", file("cut.img", image.subarray(0, 40)), "--out", out], ExitCode.Data, /cut\.img: header length \d+ at offset 8 runs past the end of the file \(40 bytes\)/],
  ["decode of a folder", async () => ["decode", dir, "--out", out], ExitCode.Data, /cannot read image .*EISDIR/],
  [
    "decode of an image of a board this tool does not know",
    async () => ["decode", file("nope.img", encodeImage({ board: "NOPE", kind: "flash", spans: [{ addr: 0, size: 4 }], data: [new Uint8Array(4)] })), "--out", out],
    ExitCode.Data,
    /nope\.img: the format-1 image names board "NOPE", which this tool does not know/,
  ],
  ["a serial device that does not exist", async () => ["list", "--port", "/dev/pstore-no-such-tty"], ExitCode.Device, /^pstore list: cannot open \/dev\/pstore-no-such-tty at 115200 baud: (?!.*cannot open \/dev\/pstore-no-such-tty:)/],
  ["tcp:// without a port number", async () => ["list", "--port", "tcp://127.0.0.1"], ExitCode.Device, /port spec "tcp:\/\/127\.0\.0\.1" is not tcp:\/\/host:port/],
  ["a TCP port nothing listens on", async () => ["list", "--port", await closedPort()], ExitCode.Device, /^pstore list: cannot connect to tcp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/],
];

for (const [what, args, code, message] of cases) {
  test(`${what}: exit ${code}, a clear message`, async (t) => {
    assertClear(t, await pstore(await args(), { env }), code, message, what);
    t.false(existsSync(out), "no archive folder made");
  });
}

test("pstore alone prints the overview of commands and exits 2", async (t) => {
  const result = await pstore([], { env });
  t.is(result.code, ExitCode.Usage);
  t.regex(result.out, /^Usage: pstore <command>/m);
  t.regex(result.out, /^ {2}pull {2,}/m);
});

test("an unknown command exits 2 naming it and listing the commands", async (t) => {
  assertClear(t, await pstore(["frobnicate"], { env }), ExitCode.Usage, /unknown command "frobnicate"; commands: list, pull, /, "frobnicate");
});

test("cat and rm of a name the device does not have exit 5 and erase nothing", async (t) => {
  const store = [makeRecord(11, 300), makeRecord(12, 40, RecordType.Pmsg)];
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  for (const [command, name] of [["cat", "dmesg-flash-99"], ["rm", "pmsg-flash-99"]]) {
    assertClear(t, await pstore([command, name, "--port", served.url]), ExitCode.Data, new RegExp(`no record "${name}" on the device`), `${command} ${name}`);
  }
  t.deepEqual(store.map((r) => r.meta.name), ["dmesg-flash-11", "pmsg-flash-12"]);
});

test("an archive whose records.jsonl is not JSON stops the pull with exit 4 naming file and line; nothing is erased or rewritten", async (t) => {
  const store = [makeRecord(11, 300), makeRecord(12, 40, RecordType.Pmsg)];
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const archive = join(mkdtempSync(join(tmpdir(), "pstore-bad-index-")), "archive");
  // The hostile device reports board TEST and serial 0123abcd: its records go to TEST_0123abcd/<boot>.
  const boot = join(archive, "TEST_0123abcd", "3");
  mkdirSync(boot, { recursive: true });
  const index = join(boot, "records.jsonl");
  writeFileSync(index, '{"seq": 1, "name": "dmesg-flash-1"}\n{half a line\n');
  const result = await pstore(["pull", "--port", served.url, "--out", archive]);
  assertClear(t, result, ExitCode.Archive, /records\.jsonl line 1 is not a record line: indexLine has no \w+; fix or move the file before pulling again/, "bad index");
  t.false(/internal error|\n\s+at /.test(result.err), result.err);
  t.deepEqual(erasedOn(served), []);
  t.is(store.length, 2);
  t.is(readFileSync(index, "utf8"), '{"seq": 1, "name": "dmesg-flash-1"}\n{half a line\n');
  t.deepEqual(readdirSync(boot), ["records.jsonl"]);
});

test("a device folder that is a symbolic link stops the pull with exit 4; nothing is written through it or erased", async (t) => {
  const store = [makeRecord(11, 300)];
  const served = await serveHostile(store);
  t.teardown(() => served.close());
  const base = mkdtempSync(join(tmpdir(), "pstore-bad-link-"));
  const elsewhere = join(base, "elsewhere");
  mkdirSync(elsewhere);
  const archive = join(base, "archive");
  mkdirSync(archive);
  symlinkSync(elsewhere, join(archive, "TEST_0123abcd"));
  const result = await pstore(["pull", "--port", served.url, "--out", archive]);
  assertClear(t, result, ExitCode.Archive, /symbolic link/, "symlinked device folder");
  t.deepEqual(readdirSync(elsewhere), []);
  t.deepEqual(erasedOn(served), []);
  t.is(store.length, 1);
});

test("cat of a drop marker says the record was not kept, with nothing on stdout", async (t) => {
  const header = { type: RecordType.Dmesg, reason: Reason.Exception, codec: Codec.Heatshrink, flags: Flag.Drop, part: 0, parts: 1, seq: 14, boot: 3, time: 0, uptime: 9, storedLength: 0, originalLength: 1024 };
  const marker: StoredRecord = { meta: { ...header, name: "dmesg-flash-14", backend: "flash" }, image: encodeRecord(crc32, header, new Uint8Array(0)) };
  const served = await serveHostile([marker]);
  t.teardown(() => served.close());
  const result = await pstore(["cat", "dmesg-flash-14", "--port", served.url]);
  t.is(result.code, ExitCode.Ok, result.err);
  t.is(result.out, "");
  t.regex(result.err, /^pstore cat: dmesg-flash-14: not kept: its zone was full when this dmesg record of 1024 bytes was written \(drop marker\)$/m);
});
