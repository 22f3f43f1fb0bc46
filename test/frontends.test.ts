// Frontends over the simulated HAL, in Node: console ring and flush, dmesg dumps, boot events and the crash
// counter, pmsg limits, ftrace rings, the codec rule. The built bundle on a simulated Espruino is e2e-device.test.ts.

import test from "ava";
import { getBoard } from "../boards/index";
import type { BoardDefinition } from "../boards/types";
import { createSimHal, type SimDevice } from "../hal/sim/index";
import { resolveSettings, type PstoreOptions } from "../firmware/config";
import { createRuntime, type Runtime } from "../firmware/runtime";
import { createConsoleRing } from "../pstore/console";
import { describeUncaught } from "../pstore/dmesg";
import { createPmsg } from "../pstore/pmsg";
import { decodeResetReason } from "../pstore/event";
import { Tracer } from "../pstore/ftrace";
import { Codec, Flag, Reason, RecordType, getU32 } from "../pstore/format";
import { encodePayload, heatshrinkCodec, lz4Codec, type PayloadCodec } from "../pstore/codec";
import { heatshrinkCompress, heatshrinkDecompress } from "../pstore/heatshrink";

function withRetained(name: string): BoardDefinition {
  const b = getBoard(name);
  return { ...b, features: { ...b.features, retained: true } };
}

/** Espruino's native heatshrink, played by the host codec (same stream format). */
const hostHeatshrink = heatshrinkCodec({
  compress: (d) => heatshrinkCompress(d).slice().buffer,
  decompress: (d) => heatshrinkDecompress(d, 1 << 20).slice().buffer,
});

interface Run {
  sim: SimDevice;
  rt: Runtime;
}

function boot(board: BoardDefinition, options: PstoreOptions = {}, sim?: SimDevice, codec?: PayloadCodec, tracer?: Tracer): Run {
  const device = sim ?? createSimHal(board);
  const rt = createRuntime(device.hal, board, resolveSettings(board, options), codec, tracer);
  rt.start();
  return { sim: device, rt };
}

function records(rt: Runtime, type: RecordType) {
  return rt.list().filter((r) => r.type === type && !(r.flags & Flag.Drop));
}

function text(rt: Runtime, name: string): string {
  const v = rt.read(name);
  if (typeof v !== "string") throw new Error(`${name} is not text`);
  return v;
}

test("console ring keeps the last bytes in order and mirrors exactly what it keeps", (t) => {
  const mirrored: number[] = [];
  const ring = createConsoleRing(16, (chunk) => mirrored.push(...chunk));
  const printed = "hello\r\n" + "0123456789abcdefXYZ" + "tail!";
  for (const piece of ["hello\r\n", "0123456789abcdefXYZ", "tail!"]) ring.append(piece);
  const tail = ring.tail(16, 0);
  t.is(Buffer.from(tail.bytes).toString("latin1"), printed.slice(-16));
  t.true(tail.lost);
  // The mirror saw every byte that reached the ring, in order (an over-long chunk only contributes its tail).
  t.is(Buffer.from(mirrored).toString("latin1").slice(-16), printed.slice(-16));
  t.is(ring.pending(), printed.length);
  const small = ring.tail(4, ring.written - 3);
  t.is(Buffer.from(small.bytes).toString("latin1"), printed.slice(-3));
  t.false(small.lost);
});

test("console flush stores only what was printed since the last flush, and nothing when idle", (t) => {
  const { rt } = boot(getBoard("PUCKJS"), { consoleBytes: 64 });
  rt.consoleData("first line\r\n");
  const a = rt.flush();
  t.truthy(a);
  t.is(text(rt, a!), "first line\r\n");
  t.is(rt.flush(), undefined);
  rt.consoleData("x".repeat(100) + "END");
  const b = rt.flush()!;
  const meta = rt.list().find((r) => r.name === b)!;
  t.is(text(rt, b), ("x".repeat(100) + "END").slice(-64));
  t.truthy(meta.flags & Flag.Truncated, "a record with a gap says so");
  t.is(meta.reason, Reason.Periodic);
});

test("an uncaught exception is printed as Espruino would and dumped with its stack and the console tail", (t) => {
  const { sim, rt } = boot(getBoard("PUCKJS"));
  rt.consoleData("app started\r\n");
  const e = { message: "boom in timer", stack: "    at f (:1:40)\n\n       ^\n", toString: () => "Error: boom in timer" };
  const name = rt.uncaught(e)!;
  t.truthy(name);
  const body = text(rt, name);
  t.true(body.startsWith("Uncaught Error: boom in timer\n    at f (:1:40)"));
  t.true(body.includes("--- console ---\napp started\r\n"));
  t.true(sim.logs.some((l) => l.startsWith("Uncaught Error: boom in timer\n    at f (:1:40)")));
  const meta = rt.list().find((r) => r.name === name)!;
  t.is(meta.type, RecordType.Dmesg);
  t.is(meta.reason, Reason.Exception);
});

test("an unhandled rejection maps to Reason.Rejection; a thrown string keeps its text", (t) => {
  const rejection = describeUncaught(new Error("Unhandled promise rejection: Error: nobody caught me"));
  t.is(rejection.reason, Reason.Rejection);
  const thrown = describeUncaught("a string");
  t.is(thrown.reason, Reason.Exception);
  t.is(thrown.text, "Uncaught a string");
});

test("maxReason keeps only reasons up to it (Linux max_reason)", (t) => {
  const { rt } = boot(getBoard("PUCKJS"), { maxReason: "exception" });
  t.is(rt.uncaught(new Error("Unhandled promise rejection: Error: late")), undefined);
  t.truthy(rt.uncaught(new Error("kept")));
  t.is(records(rt, RecordType.Dmesg).length, 1);
});

test("a MEMORY error flag gives an oom event and an oom dump; a flag seen before is not stored again", (t) => {
  const { rt } = boot(getBoard("PUCKJS"));
  rt.consoleData("OUT OF MEMORY\r\n");
  rt.errorFlags(["MEMORY", "CALLBACK"]);
  rt.errorFlags(["CALLBACK"]);
  const events = records(rt, RecordType.Event).filter((r) => r.reason !== Reason.PowerLoss);
  t.is(events.length, 1);
  t.is(events[0].reason, Reason.Oom);
  t.deepEqual(JSON.parse(text(rt, events[0].name)), { event: "errorFlag", flags: ["MEMORY", "CALLBACK"] });
  const dumps = records(rt, RecordType.Dmesg);
  t.is(dumps.length, 1);
  t.is(dumps[0].reason, Reason.Oom);
  t.true(text(rt, dumps[0].name).includes("OUT OF MEMORY"));
});

test("reset registers decode per chip (ESPRUINO.md §5)", (t) => {
  t.is(decodeResetReason("nrf52", 0x2), Reason.Watchdog);
  t.is(decodeResetReason("nrf52", 0x8), Reason.Lockup);
  t.is(decodeResetReason("nrf52", 0x4), Reason.Reset);
  t.is(decodeResetReason("nrf52", 0), Reason.PowerLoss);
  t.is(decodeResetReason("stm32f4", (1 << 29) | (1 << 26)), Reason.Watchdog);
  t.is(decodeResetReason("stm32f4", (1 << 27) | (1 << 26) | (1 << 25)), Reason.PowerLoss);
  t.is(decodeResetReason("stm32f4", (1 << 26) | (1 << 25)), Reason.Brownout);
  t.is(decodeResetReason("stm32f1", (1 << 28) | (1 << 26)), Reason.Reset);
  t.is(decodeResetReason("none", -1), Reason.None);
});

for (const name of ["BANGLEJS2", "PICO", "ESP32"]) {
  test(`${name}: a watchdog reset is reported at the next boot with the console tail retained RAM kept, and counted`, (t) => {
    const board = getBoard(name);
    const first = boot(board);
    first.rt.consoleData("working...\r\nabout to hang\r\n");
    first.sim.reboot("watchdog");
    const second = boot(board, {}, first.sim);
    t.is(second.rt.bootInfo!.reason, Reason.Watchdog);
    t.is(second.rt.bootInfo!.crashes, 1);
    const ev = records(second.rt, RecordType.Event).find((r) => r.reason === Reason.Watchdog)!;
    t.truthy(ev, "a watchdog event record");
    const info = JSON.parse(text(second.rt, ev.name));
    t.is(info.cause, "watchdog");
    t.is(info.prevBoot, first.rt.core.boot);
    t.truthy(info.console, "the event names the console record of the previous run");
    t.true(text(second.rt, info.console).endsWith("about to hang\r\n"));
    // Two more hangs make a chain of three; a clean run ends it.
    second.sim.reboot("watchdog");
    const third = boot(board, {}, second.sim);
    t.is(third.rt.bootInfo!.crashes, 2);
    third.sim.clock.advance(61_000);
    third.rt.tick();
    third.sim.reboot("watchdog");
    t.is(boot(board, {}, third.sim).rt.bootInfo!.crashes, 1);
  });
}

test("a crash recorded before a soft reset counts; a clean shutdown does not", (t) => {
  const board = withRetained("PUCKJS");
  const a = boot(board);
  a.rt.uncaught(new Error("early"));
  a.rt.kill();
  a.sim.reboot("soft");
  const b = boot(board, {}, a.sim);
  t.is(b.rt.bootInfo!.crashes, 1);
  b.sim.clock.advance(5_000);
  b.rt.consoleData("bye\r\n");
  b.rt.kill();
  const bye = records(b.rt, RecordType.Console).find((r) => r.reason === Reason.Shutdown)!;
  t.is(text(b.rt, bye.name), "bye\r\n");
  b.sim.reboot("soft");
  const c = boot(board, {}, b.sim);
  t.is(c.rt.bootInfo!.crashes, 0);
  t.is(c.rt.bootInfo!.reason, Reason.Reset);
  // The console saved at shutdown is not committed a second time from retained RAM.
  t.false(records(c.rt, RecordType.Console).some((r) => r.boot === b.rt.core.boot && r.uptime === 0 && r.originalLength > 0));
});

test("pmsg returns the name of a committed record that survives a power cut right after", (t) => {
  const board = getBoard("PUCKJS");
  const a = boot(board);
  const name = a.rt.pmsg.write("door opened");
  a.sim.reboot("power-on");
  const b = boot(board, {}, a.sim);
  t.is(text(b.rt, name), "door opened");
});

test("pmsg refuses, with a clear error, what is too large or too frequent", (t) => {
  const { sim, rt } = boot(getBoard("PUCKJS"), { pmsgPerMinute: 3 });
  sim.clock.setUptime(12_000);
  for (let i = 0; i < 3; i++) rt.pmsg.write("m" + i);
  // Counted in the slot 10 to 15 s: free again once that slot is 60 s old, at 75 s.
  t.throws(() => rt.pmsg.write("one too many"), { message: /rate limit of 3 messages per minute reached, next in 63 s/ });
  sim.clock.setUptime(12_000 + 59_999);
  t.throws(() => rt.pmsg.write("still within the minute"), { message: /rate limit of 3 messages per minute reached, next in 4 s/ });
  sim.clock.setUptime(75_000);
  t.truthy(rt.pmsg.write("after a minute"));
  const huge = new Uint8Array(64 * 1024).map((_, i) => (i * 7919) & 255);
  t.throws(() => rt.pmsg.write(huge), { message: /pstore\.pmsg: message of 65536 bytes not stored: .*larger than the zone holds/ });
});

test("the pmsg rate limit holds in every minute, refuses only within 65 s of perMinute messages and recovers after idle", (t) => {
  let clock = 0;
  let stored = 0;
  const ctx = { core_: { write: () => "pmsg-" + stored++ } as any, codec_: undefined, crashBudgetMs_: 100 };
  const perMinute = 7;
  const pmsg = createPmsg(ctx, perMinute, () => clock);
  const accepted: number[] = [];
  let refused = 0;
  let seed = 1;
  // Bursts and pauses: steps of 0 to 4 s, now and then an idle hour.
  for (let i = 0; i < 5000; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    clock += seed % 97 === 0 ? 3_600_000 : (seed >> 8) % 4000;
    const within = (ms: number) => accepted.filter((a) => a > clock - ms).length;
    try {
      pmsg.write("m");
      accepted.push(clock);
      t.true(within(60_000) <= perMinute, `at ${clock} ms: more than ${perMinute} in the last minute`);
    } catch (e: any) {
      t.regex(e.message, /rate limit of 7 messages per minute reached, next in \d+ s/);
      t.true(within(65_000) >= perMinute, `at ${clock} ms: refused with fewer than ${perMinute} in the last 65 s`);
      refused++;
    }
  }
  t.true(refused > 100 && accepted.length > 1000, `${refused} refused, ${accepted.length} accepted`);
});

test("a traced call chain is saved with a crash and names its functions and callers", (t) => {
  const board = getBoard("BANGLEJS2");
  const sim = createSimHal(board);
  const tracer = new Tracer(8, () => sim.hal.clock.uptimeMs());
  const { rt } = boot(board, {}, sim, undefined, tracer);
  const app = tracer.traceObject(
    {
      outer() {
        return this.inner(2);
      },
      inner(n: number) {
        return n * 21;
      },
    },
    "app.",
  );
  const leaf = tracer.trace(() => {
    throw new Error("leaf failed");
  }, "leaf");
  t.is(app.outer(), 42);
  t.throws(() => leaf());
  rt.uncaught(new Error("leaf failed"));
  const ft = records(rt, RecordType.Ftrace);
  t.is(ft.length, 1);
  t.truthy(ft[0].flags & Flag.FtraceNames);
  const bytes = rt.read(ft[0].name) as Uint8Array;
  t.is(bytes[0], 8);
  const n = bytes[2] | (bytes[3] << 8);
  t.is(getU32(bytes, 4), 3);
  const names = Buffer.from(bytes.subarray(8 + n * 8)).toString("latin1").split("\n");
  const calls = [];
  for (let i = 0; i < n; i++) {
    const e = bytes.subarray(8 + i * 8);
    calls.push([names[(e[0] | (e[1] << 8)) - 1], names[(e[2] | (e[3] << 8)) - 1] ?? "-"]);
  }
  t.deepEqual(calls, [
    ["app.outer", "-"],
    ["app.inner", "app.outer"],
    ["leaf", "-"],
  ]);
});

test("the ftrace ring keeps the newest entries once it wraps", (t) => {
  let now = 0;
  const tracer = new Tracer(4, () => now++);
  const f = tracer.trace(() => 1, "f");
  for (let i = 0; i < 10; i++) f();
  const snap = tracer.snapshot()!;
  t.is(snap[2], 4);
  t.is(getU32(snap, 4), 10);
  t.deepEqual([0, 1, 2, 3].map((i) => getU32(snap, 8 + i * 8 + 4)), [6, 7, 8, 9]);
});

test("codec rule: compress when it shrinks, raw when it does not, raw on the crash path when the JS codec is too slow", (t) => {
  const lz4 = lz4Codec(8, 2);
  const text = new TextEncoder().encode("Uncaught Error: boom\r\n".repeat(20));
  const packed = encodePayload(lz4, text, false, 100);
  t.is(packed.codec, Codec.Lz4);
  t.true(packed.bytes.length < text.length);
  t.deepEqual(lz4.decompress(packed.bytes, text.length), text);
  const noise = new Uint8Array(150).map((_, i) => (i * 2654435761) >>> 24);
  t.is(encodePayload(lz4, noise, false, 100).codec, Codec.Raw);
  // 440 bytes at 2 bytes/ms would take 220 ms: over a 100 ms budget on the crash path, fine off it.
  t.is(encodePayload(lz4, text, true, 100).codec, Codec.Raw);
  t.is(encodePayload(lz4, text, true, 300).codec, Codec.Lz4);
  // Native heatshrink costs nothing in the model: used on the crash path whatever the size.
  t.is(encodePayload(hostHeatshrink, text, true, 1).codec, Codec.Heatshrink);
});

test("records written with the bundle's codec read back decoded", (t) => {
  const { rt } = boot(getBoard("PUCKJS"), {}, undefined, hostHeatshrink);
  rt.consoleData("repeat after me\r\n".repeat(30));
  const name = rt.uncaught(new Error("compressed"))!;
  const meta = rt.list().find((r) => r.name === name)!;
  t.is(meta.codec, Codec.Heatshrink);
  t.true(meta.storedLength < meta.originalLength);
  t.true(text(rt, name).endsWith("repeat after me\r\n"));
});

test("options are checked and name what is wrong", (t) => {
  const board = getBoard("PUCKJS");
  t.throws(() => resolveSettings(board, { maxReason: "sometimes" }), { message: 'pstore option maxReason: "sometimes" will not do' });
  t.throws(() => resolveSettings(board, { codec: "lz4" }), { message: 'pstore option codec: "lz4" will not do' });
  t.throws(() => resolveSettings(board, { consoleBytes: -1 }), { message: /consoleBytes: -1 will not do/ });
  t.throws(() => resolveSettings(board, { consolFlushSeconds: 5 } as object), { message: "pstore option consolFlushSeconds is unknown" });
  t.is(resolveSettings(board, { codec: "raw" }).codec, "raw");
  t.is(resolveSettings(board, { maxReason: "watchdog" }).maxReason, Reason.Watchdog);
});

test("tick flushes the console once per interval, and only when something was printed", (t) => {
  const { sim, rt } = boot(getBoard("PUCKJS"), { consoleFlushSeconds: 10 });
  const consoles = () => records(rt, RecordType.Console).length;
  rt.consoleData("before the first interval\r\n");
  sim.clock.advance(9_000);
  rt.tick();
  t.is(consoles(), 0);
  sim.clock.advance(1_000);
  rt.tick();
  t.is(consoles(), 1);
  sim.clock.advance(10_000);
  rt.tick();
  t.is(consoles(), 1, "nothing new was printed");
  rt.consoleData("later\r\n");
  sim.clock.advance(10_000);
  rt.tick();
  t.is(consoles(), 2);
});

test("with consoleFlushSeconds 0 there is no periodic flush", (t) => {
  const { sim, rt } = boot(getBoard("PUCKJS"), { consoleFlushSeconds: 0 });
  rt.consoleData("quiet device\r\n");
  sim.clock.advance(100 * 3600_000);
  rt.tick();
  t.is(records(rt, RecordType.Console).length, 0);
});

test("a cleared nRF52 reset register with valid retained RAM is not taken for a power loss", (t) => {
  const board = withRetained("PIXLJS");
  const a = boot(board);
  a.rt.consoleData("still running\r\n");
  // A watchdog reset whose RESETREAS an old bootloader cleared: the register reads 0, RAM survived.
  a.sim.reboot("watchdog");
  a.sim.reset.setRaw(0);
  const b = boot(board, {}, a.sim);
  t.is(b.rt.bootInfo!.reason, Reason.Watchdog);
  b.rt.kill();
  b.sim.reboot("soft");
  b.sim.reset.setRaw(0);
  t.is(boot(board, {}, b.sim).rt.bootInfo!.reason, Reason.Reset);
});
