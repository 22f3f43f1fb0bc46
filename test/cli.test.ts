import test from "ava";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { getBoard } from "../boards/index";
import { createSimHal } from "../hal/sim";
import { Pstore } from "../pstore/core";
import { Flag, Reason, RecordType, Codec } from "../pstore/format";
import { heatshrinkCompress } from "../pstore/heatshrink";
import type { IndexEntry } from "../tools/archive/record-json";
import { textToBytes } from "../pstore/codec";
import { Tracer } from "../pstore/ftrace";
import { COMMANDS, main } from "../tools/cli/main";
import { ExitCode } from "../tools/cli/errors";
import { ProgressBar } from "../tools/cli/progress";
import { storyOf } from "../tools/cli/story";

function captureIo() {
  const chunks = { out: [] as string[], err: [] as string[] };
  const sink = (into: string[]) =>
    new Writable({
      write(chunk, _encoding, done) {
        into.push(String(chunk));
        done();
      },
    });
  return {
    stdout: sink(chunks.out),
    stderr: sink(chunks.err),
    signal: new AbortController().signal,
    out: () => chunks.out.join(""),
    err: () => chunks.err.join(""),
  };
}

async function run(...argv: string[]) {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "pstore-cli-test-"));
}

/** A PUCKJS image holding a crash story written through the real core, as a simulator or a dump would hold it. */
function crashImage(): Uint8Array {
  const board = getBoard("PUCKJS");
  const device = createSimHal(board, { wallSeconds: 1_700_000_000 });
  // PUCKJS keeps no traces by default; the app here turned ftrace on in its pmsg zone.
  const zones = board.zones.map((z) => (z.name === "pmsg" ? { ...z, types: [...z.types, "ftrace" as const] } : z));
  const store = new Pstore(device.hal, { board, zones });
  store.start();
  store.write(RecordType.Pmsg, Reason.User, textToBytes("app: started"));
  const log = textToBytes("boot ok\n".repeat(40) + "Uncaught Error: sensor on fire\n at readSensor (app.js:3)\n");
  store.write(RecordType.Dmesg, Reason.Exception, heatshrinkCompress(log), { codec: Codec.Heatshrink, originalLength: log.length });
  let now = 10;
  const tracer = new Tracer(8, () => (now += 3));
  tracer.trace(() => {}, "readSensor")();
  store.write(RecordType.Ftrace, Reason.Exception, tracer.snapshot()!, { flags: Flag.FtraceNames });
  store.write(RecordType.Event, Reason.Watchdog, textToBytes("reset reason: watchdog"));
  return device.toImage();
}

test("every subcommand has --help with a usage line, and the top help lists them all and the exit codes", async (t) => {
  const top = await run("--help");
  t.is(top.code, ExitCode.Ok);
  for (const command of COMMANDS) {
    t.true(top.out.includes(`  ${command.name} `), command.name);
    const help = await run(command.name, "--help");
    t.is(help.code, ExitCode.Ok, command.name);
    t.true(help.out.startsWith(`Usage: pstore ${command.name}`), command.name);
    t.regex(help.out, /Exit codes/, command.name);
  }
  t.regex(top.out, /130 +interrupted/);
});

test("bad command lines exit 2 with a message saying what is wrong", async (t) => {
  const unknown = await run("frobnicate");
  t.is(unknown.code, ExitCode.Usage);
  t.regex(unknown.err, /unknown command "frobnicate"/);
  const option = await run("decode", "x.img", "--out", "d", "--bogus");
  t.is(option.code, ExitCode.Usage);
  t.regex(option.err, /--bogus/);
  const missing = await run("decode", "x.img");
  t.is(missing.code, ExitCode.Usage);
  t.regex(missing.err, /--out is required/);
  const extra = await run("decode", "a", "b", "--out", "d");
  t.is(extra.code, ExitCode.Usage);
  t.is((await run()).code, ExitCode.Usage);
});

test("decode archives an image's records like a pull, and a second decode adds nothing", async (t) => {
  const dir = tempDir();
  const image = join(dir, "puck.img");
  writeFileSync(image, crashImage());
  const out = join(dir, "archive");
  const first = await run("decode", image, "--board", "PUCKJS", "--out", out);
  t.is(first.code, ExitCode.Ok, first.err);
  t.regex(first.out, /^4 records from PUCKJS image: watchdog reset after 'Uncaught Error: sensor on fire'/);
  const boot = join(out, "PUCKJS_image", "1");
  const files = readdirSync(boot).sort();
  t.deepEqual(files, ["dmesg-flash-2", "dmesg.txt", "event-flash-4", "ftrace-flash-3", "pmsg-flash-1", "records.jsonl"]);
  t.regex(readFileSync(join(boot, "dmesg-flash-2"), "utf8"), /Uncaught Error: sensor on fire/);
  t.regex(readFileSync(join(boot, "ftrace-flash-3"), "utf8"), /readSensor <- \(top level\)/);
  const story = readFileSync(join(boot, "dmesg.txt"), "utf8");
  t.true(story.indexOf("app: started") < story.indexOf("sensor on fire"));
  t.regex(story, /reset reason: watchdog/);
  const index = readFileSync(join(boot, "records.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  t.deepEqual(index.map((e) => [e.name, e.codec, e.outcome]), [
    ["pmsg-flash-1", "raw", "ok"],
    ["dmesg-flash-2", "heatshrink", "ok"],
    ["ftrace-flash-3", "raw", "ok"],
    ["event-flash-4", "raw", "ok"],
  ]);
  t.truthy(index[0].time);

  const second = await run("decode", image, "--out", out, "--json");
  t.is(second.code, ExitCode.Ok);
  const report = JSON.parse(second.out);
  t.is(report.records.length, 4);
  t.true(report.records.every((r: { written: boolean }) => !r.written));
  t.is(readFileSync(join(boot, "records.jsonl"), "utf8").trim().split("\n").length, 4);
});

test("decode refuses an image that is not one, or of another board, with exit 5 and the reason", async (t) => {
  const dir = tempDir();
  const junk = join(dir, "junk.img");
  writeFileSync(junk, "definitely not an image");
  const notImage = await run("decode", junk, "--out", join(dir, "a"));
  t.is(notImage.code, ExitCode.Data);
  t.regex(notImage.err, /not a pstore image/);
  const image = join(dir, "puck.img");
  writeFileSync(image, crashImage());
  const wrongBoard = await run("decode", image, "--board", "PICO", "--out", join(dir, "a"));
  t.is(wrongBoard.code, ExitCode.Data);
  t.regex(wrongBoard.err, /image is of board PUCKJS, not PICO/);
  const unknownBoard = await run("decode", image, "--board", "NOPE", "--out", join(dir, "a"));
  t.is(unknownBoard.code, ExitCode.Usage);
  const missing = await run("decode", join(dir, "missing.img"), "--out", join(dir, "a"));
  t.is(missing.code, ExitCode.Data);
  t.regex(missing.err, /cannot read image/);
});

test("decode into a folder that is a file stops with exit 4", async (t) => {
  const dir = tempDir();
  const image = join(dir, "puck.img");
  writeFileSync(image, crashImage());
  writeFileSync(join(dir, "file"), "x");
  const result = await run("decode", image, "--out", join(dir, "file"));
  t.is(result.code, ExitCode.Archive);
  t.regex(result.err, /not a folder/);
});

test("the progress bar draws on a terminal only, and clears its line", (t) => {
  const written: string[] = [];
  const tty = { isTTY: true, columns: 60, write: (s: string) => written.push(s) } as unknown as NodeJS.WritableStream & { isTTY: boolean };
  const bar = new ProgressBar(tty);
  bar.update("dmesg-flash-17", 512, 1024);
  t.regex(written[0], /^\r\x1b\[K\[#{12}-{12}\]  50% dmesg-flash-17 512\/1024 B/);
  t.true(written[0].length <= 60 + 4);
  bar.clear();
  t.is(written[1], "\r\x1b[K");
  const pipe: string[] = [];
  const quiet = new ProgressBar({ isTTY: false, write: (s: string) => pipe.push(s) } as unknown as NodeJS.WritableStream);
  quiet.update("x", 1, 2);
  quiet.clear();
  t.deepEqual(pipe, []);
});

test("the summary's story names the last reset and the error just before it, with control characters removed", (t) => {
  const entry = (seq: number, boot: number, type: string, reason: string): IndexEntry => ({
    schema: 1, kind: "record", device: "d", boot, seq, name: `${type}-flash-${seq}`, archivedAs: `${type}-flash-${seq}`, backend: "flash",
    type, typeCode: 0, reason, reasonCode: 0, codec: "raw", codecCode: 0, flags: [], flagBits: 0, parts: 1, time: null,
    uptimeMs: 0, storedBytes: 1, originalBytes: 1, outcome: "ok" as const, files: [], crcs: [], archivedAt: "",
  });
  const record = (seq: number, boot: number, type: string, reason: string, text?: string) => ({ entry: entry(seq, boot, type, reason), folder: "", text, written: true, erased: true });
  const story = storyOf({
    refused: [],
    gone: [],
    notErased: [],
    records: [
      record(1, 1, "event", "powerloss", "power on"),
      record(2, 1, "dmesg", "exception", "Uncaught Error: first"),
      record(3, 1, "dmesg", "exception", "log\nUncaught Error: the real one\x1b[2J\n at x"),
      record(4, 2, "event", "watchdog", "watchdog"),
    ],
  });
  t.is(story, "watchdog reset after 'Uncaught Error: the real one?[2J'");
  // The boot's own power-on comes before the error: no later reset, so the error itself is the story.
  const running = storyOf({
    refused: [],
    gone: [],
    notErased: [],
    records: [record(1, 1, "event", "powerloss", "power on"), record(2, 1, "dmesg", "exception", "Uncaught Error: sensor died")],
  });
  t.is(running, "uncaught exception: 'Uncaught Error: sensor died'");
  t.is(storyOf({ refused: [], gone: [], notErased: [], records: [record(1, 1, "pmsg", "user", "hello")] }), "no crash recorded");
  t.is(storyOf({ refused: [], gone: [], notErased: [], records: [] }), "nothing stored");
});
