// The built bundles on the simulated Espruino: dist/<BOARD>/pstore.js as Storage file "pstore" and pstore.boot.js
// as ".boot0", exactly as a user installs them. Each test drives the device only through what a user has: code
// typed at the REPL, the console, and the chip's resets.

import test from "ava";
import { getBoard } from "../boards/index";
import { Codec, Flag, Reason, RecordType } from "../pstore/format";
import { installPstore as install } from "./helpers/sim-install";

const BOARDS = ["PUCKJS", "BANGLEJS2", "PICO", "ESP32", "LINUX"];

for (const board of BOARDS) {
  test(`${board}: an app that throws in a timer leaves a dmesg record with the message and the stack`, async (t) => {
    const d = await install(t, board);
    d.output();
    d.dev.write("\x10function deep(n){ if(n==0) throw new Error('boom in timer'); return deep(n-1); } setTimeout(function(){deep(2)},50)\n");
    d.dev.advance(200);
    // The user still sees the error, in the firmware's format.
    t.regex(d.output(), /Uncaught Error: boom in timer\r\n {4}at deep \(/);
    const dumps = d.records().filter((r) => r.type === RecordType.Dmesg);
    t.is(dumps.length, 1);
    t.is(dumps[0].reason, Reason.Exception);
    const body = d.read(dumps[0].name);
    t.true(body.startsWith("Uncaught Error: boom in timer\n    at deep ("), body);
    t.true(body.includes("--- console ---"));
  });

  test(`${board}: the REPL stays usable while the console is captured`, async (t) => {
    const d = await install(t, board);
    d.output();
    d.dev.write("1+2\n");
    d.dev.advance(10);
    t.is(d.output(), "1+2\r\n=3\r\n>");
    d.dev.write("print('seen by pstore')\n");
    d.dev.advance(10);
    t.true(d.output().includes("seen by pstore\r\n"));
    // The host service answers straight to the host: its frames stay out of the captured console.
    d.dev.write("\x10require('pstoresvc').h(7)\n");
    d.dev.advance(10);
    t.true(d.output().includes("[PS1 7 E 0 "));
    const name = d.run("require('pstore').flush()") as string;
    const captured = d.read(name);
    t.true(captured.includes("seen by pstore\r\n"));
    t.false(captured.includes("[PS1"));
  });

  test(`${board}: a MEMORY error flag is recorded`, async (t) => {
    const d = await install(t, board);
    d.dev.simulateOutOfMemory();
    d.dev.advance(50);
    const oom = d.records().filter((r) => r.reason === Reason.Oom);
    const event = oom.find((r) => r.type === RecordType.Event)!;
    t.truthy(event, "an event record for the flag");
    t.deepEqual(JSON.parse(d.read(event.name)).flags.includes("MEMORY"), true);
    const dump = oom.find((r) => r.type === RecordType.Dmesg)!;
    t.true(d.read(dump.name).startsWith("OUT OF MEMORY"));
  });

  test(`${board}: a pmsg that returned survives a power cut right after`, async (t) => {
    const d = await install(t, board);
    const name = d.run("require('pstore').pmsg('door opened at ' + 42)") as string;
    t.regex(name, /^pmsg-/);
    d.dev.powerLoss();
    d.dev.advance(50);
    t.is(d.read(name), "door opened at 42");
    // Noise larger than the biggest pmsg zone (PICO's 128 KB sector), so compression cannot make it fit.
    const r = d.dev.evaluate(
      "var a = new Uint8Array(150000), x = 1; for (var i = 0; i < a.length; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; a[i] = x >> 16; }" +
        "require('pstore').pmsg(a)",
    );
    t.regex(String((r.error?.thrown as Error)?.message), /pstore\.pmsg: message of 150000 bytes not stored: .*larger than the zone holds/);
  });
}

/**
 * A hang ends in a watchdog reset; the next boot reports it and shows the last console lines. Boards with retained
 * RAM keep the tail there; PUCKJS's default bundle has none, so there it comes from the periodic flush (every
 * second here), and a PUCKJS bundle built with retained support is checked too.
 */
const HANG_CASES: Array<{ board: string; features?: { retained: boolean }; options?: object }> = [
  { board: "PUCKJS", options: { consoleFlushSeconds: 1, idleSeconds: 1 } },
  { board: "PUCKJS", features: { retained: true } },
  { board: "BANGLEJS2" },
  { board: "PICO" },
  { board: "ESP32" },
];
for (const c of HANG_CASES) {
  const label = c.features ? `${c.board} (retained)` : c.board;
  test(`${label}: a hang ends in a watchdog reset; the next boot shows why and what was printed before`, async (t) => {
    const d = await install(t, c.board, c.options, c.features);
    d.run("E.enableWatchdog(2, true); print('about to hang')");
    d.dev.advance(1500);
    d.dev.hang();
    d.dev.advance(3000);
    t.is(d.dev.lastReset, "watchdog");
    const status = d.run("JSON.stringify(require('pstore').status())") as string;
    t.is(JSON.parse(status).reset.cause, "watchdog");
    const records = d.records();
    const event = records.find((r) => r.type === RecordType.Event && r.reason === Reason.Watchdog);
    t.truthy(event, "a watchdog event record");
    const consoles = records.filter((r) => r.type === RecordType.Console).map((r) => d.read(r.name));
    t.true(
      consoles.some((text) => text.includes("about to hang")),
      `console records: ${JSON.stringify(consoles)}`,
    );
  });
}

for (const board of ["PUCKJS", "BANGLEJS2", "ESP32"]) {
  test(`${board}: a crash loop keeps the first crash and counts the rest`, async (t) => {
    // The app logs a little before it crashes, so each dump carries a console tail and the zone fills up.
    const app =
      "for (var i = 0; i < 20; i++) print('reading ' + i + ': ' + E.CRC32(i + ':' + getTime()));" +
      "setTimeout(function(){ throw new Error('crash at boot ' + require('pstore').status().boot); }, 100);" +
      "setTimeout(function(){ E.reboot(); }, 200);";
    const d = await install(t, board, {}, {}, app);
    const firstBoot = JSON.parse(d.run("JSON.stringify(require('pstore').status())") as string).boot;
    for (let i = 0; i < 60; i++) d.dev.advance(250);
    const records = d.records();
    const kept = records.filter((r) => r.type === RecordType.Dmesg && !(r.flags & Flag.Drop));
    t.true(kept.length > 1);
    t.is(kept[0].boot, firstBoot);
    t.true(d.read(kept[0].name).startsWith(`Uncaught Error: crash at boot ${firstBoot}\n`), d.read(kept[0].name));
    const status = JSON.parse(d.run("JSON.stringify(require('pstore').status())") as string);
    const zone = status.backends[0].zones.find((z: { name: string }) => z.name === "dmesg");
    t.true(zone.drops > 0, "the crashes that did not fit are counted");
    // Where retained RAM keeps the breadcrumb, the counter follows the whole chain of crashed runs.
    if (getBoard(board).features.retained) t.true(status.reset.crashes >= 40, `crash counter ${status.reset.crashes}`);
  });
}

for (const board of ["BANGLEJS2", "PICO", "ESP32"]) {
  test(`${board}: a traced call chain comes back with function names`, async (t) => {
    const d = await install(t, board);
    d.run(
      "var p = require('pstore');" +
        "var app = p.traceObject({ start: function () { return this.step(); }, step: function () { return leaf(); } }, 'app.');" +
        "var leaf = p.trace(function () { throw new Error('traced failure'); }, 'leaf');" +
        "setTimeout(function () { app.start(); }, 10);",
    );
    d.dev.advance(100);
    const ft = d.records().find((r) => r.type === RecordType.Ftrace)!;
    t.truthy(ft);
    t.truthy(ft.flags & Flag.FtraceNames);
    const bytes = Buffer.from(d.run(`E.toString(require('pstore').read(${JSON.stringify(ft.name)}))`) as string, "latin1");
    const n = bytes.readUInt16LE(2);
    const names = bytes.subarray(8 + n * 8).toString("latin1").split("\n");
    const chain = [];
    for (let i = 0; i < n; i++) {
      const e = 8 + i * 8;
      chain.push(`${names[bytes.readUInt16LE(e + 2) - 1] ?? "-"} > ${names[bytes.readUInt16LE(e) - 1]}`);
    }
    t.deepEqual(chain, ["- > app.start", "app.start > app.step", "app.step > leaf"]);
  });
}

test("PUCKJS: the default bundle has no ftrace and says so", async (t) => {
  const d = await install(t, "PUCKJS");
  const r = d.dev.evaluate("require('pstore').trace(function(){}, 'f')");
  t.regex(String((r.error?.thrown as Error)?.message), /ftrace is not built into this bundle \(PUCKJS\)/);
});

test("boot code and application share one running instance", async (t) => {
  const d = await install(t, "PICO");
  t.is(d.run("require('pstore') === require('pstore')"), true);
  d.run("require('pstore').start({ debug: true })");
  // start() again is a no-op: still one boot, one set of hooks (a crash is stored once).
  d.dev.write("\x10setTimeout(function(){ throw new Error('once') }, 10)\n");
  d.dev.advance(50);
  t.is(d.records().filter((r) => r.type === RecordType.Dmesg).length, 1);
});

test("PICO: an unhandled promise rejection is dumped as a rejection", async (t) => {
  const d = await install(t, "PICO");
  d.dev.write("\x10Promise.reject(new Error('nobody caught me'))\n");
  d.dev.advance(50);
  t.true(d.output().includes("Uncaught Error: Unhandled promise rejection: Error: nobody caught me"));
  const dump = d.records().find((r) => r.type === RecordType.Dmesg)!;
  t.is(dump.reason, Reason.Rejection);
  t.true(d.read(dump.name).startsWith("Uncaught Error: Unhandled promise rejection: Error: nobody caught me\n"));
});

test("PUCKJS: the device API lists, reads, erases, reports status and records a panic", async (t) => {
  const d = await install(t, "PUCKJS");
  const name = d.run("require('pstore').panic('sensor stuck')") as string;
  t.regex(name, /^dmesg-flash-\d+$/);
  t.true(d.read(name).startsWith("Panic: sensor stuck\n--- console ---\n"));
  t.true(d.records().some((r) => r.name === name && r.reason === Reason.Panic));
  t.is(d.run(`require('pstore').erase(${JSON.stringify(name)})`), true);
  t.false(d.records().some((r) => r.name === name));
  const status = JSON.parse(d.run("JSON.stringify(require('pstore').status())") as string);
  t.is(status.reset.cause, "powerloss");
  t.is(status.codec, "heatshrink");
  t.is(status.console.bytes, 1024);
  const zones = status.backends.find((b: { name: string }) => b.name === "flash").zones.map((z: { name: string }) => z.name);
  t.deepEqual(zones, getBoard("PUCKJS").zones.map((z) => z.name));
  t.throws(() => {
    const r = d.dev.evaluate("require('pstore').read('dmesg-flash-999')");
    if (r.error) throw r.error.thrown;
  }, { message: "pstore.read: no record dmesg-flash-999" });
});

test("PICO: after reset() pstore starts again, captures the console again, and the REPL still answers", async (t) => {
  const d = await install(t, "PICO");
  d.dev.write("reset()\n");
  d.dev.advance(100);
  d.output();
  d.dev.write("1+2\n");
  d.dev.advance(10);
  t.is(d.output(), "1+2\r\n=3\r\n>");
  d.run("print('after the reset')");
  d.dev.advance(10);
  const name = d.run("require('pstore').flush()") as string;
  t.true(d.read(name).includes("after the reset"));
  // The shutdown before the reset saved the console of the run it ended.
  t.true(d.records().some((r) => r.type === RecordType.Console && r.reason === Reason.Shutdown));
});

test("PICO: consoleDevice pins the captured REPL to one device", async (t) => {
  const d = await install(t, "PICO", { consoleDevice: "Serial1" });
  let serial = "";
  d.dev.on("transmit", (device, bytes) => {
    if (device === "Serial1") serial += Buffer.from(bytes).toString("latin1");
  });
  d.output();
  d.run("setTimeout(function(){ print('to the pinned device') }, 10)");
  d.dev.advance(50);
  t.true(serial.includes("to the pinned device\r\n"));
  t.false(d.output().includes("to the pinned device"));
  // Typing on USB no longer reaches the REPL.
  d.dev.write("print('typed on USB')\n");
  d.dev.advance(50);
  t.false(serial.includes("typed on USB"));
});

// The JS LZ4 codec (`--codec lz4`, for firmware without heatshrink): records compressed and decoded by the device code.
test("LINUX built with --codec lz4: records are compressed with the bundled LZ4 on the device and read back decoded there", async (t) => {
  const d = await install(t, "LINUX", {}, {}, undefined, "lz4");
  d.run("for (var i = 0; i < 20; i++) print('the same line, again and again')");
  d.dev.advance(10);
  const name = d.run("require('pstore').flush()") as string;
  const meta = JSON.parse(d.run("JSON.stringify(require('pstore').list())") as string).find((r: { name: string }) => r.name === name);
  t.is(meta.codec, Codec.Lz4);
  t.true(meta.storedLength < meta.originalLength);
  t.is(d.read(name).split("the same line, again and again\r\n").length - 1, 20);
});
