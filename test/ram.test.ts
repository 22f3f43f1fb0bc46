import test from "ava";
import { getBoard } from "../boards/index";
import { Reason, RecordType } from "../pstore/format";
import { device, open, payload } from "./helpers/pstore";

const text = (s: string) => new TextEncoder().encode(s);

test("the console ring and breadcrumb are committed to flash at the next boot, tagged with that run's boot", (t) => {
  const dev = device(getBoard("JOLTJS"));
  const first = open(dev);
  t.truthy(first.ram);
  first.ram!.appendConsole("hello ");
  first.ram!.appendConsole(text("world"));
  first.ram!.setBreadcrumb(Reason.Watchdog);
  dev.reboot("watchdog");
  const second = open(dev);
  t.is(second.boot, 2);
  const records = second.list();
  t.is(records.length, 1);
  t.like(records[0], { type: RecordType.Console, reason: Reason.Watchdog, boot: 1, backend: "flash" });
  t.deepEqual(second.read(records[0].name)!.payload, text("hello world"));
  // The area was reset: a further soft reset commits nothing new.
  dev.reboot("soft");
  t.is(open(dev).list().length, 1);
});

test("a ring that wrapped is committed oldest byte first, only its last bytes kept", (t) => {
  const dev = device(getBoard("JOLTJS"));
  const store = open(dev);
  const ring = dev.board.retained!.size - 24;
  const data = payload(ring * 2 + 37, 3);
  for (let at = 0; at < data.length; at += 50) store.ram!.appendConsole(data.subarray(at, at + 50));
  store.ram!.appendConsole(payload(ring + 10, 4));
  dev.reboot("soft");
  const after = open(dev);
  const rec = after.list()[0];
  t.is(rec.reason, Reason.Reset, "no breadcrumb: an ordinary reset");
  t.deepEqual(after.read(rec.name)!.payload, payload(ring + 10, 4).subarray(10));
  dev.reboot("soft");
  const small = open(dev);
  small.ram!.appendConsole(data.subarray(0, ring - 5));
  small.ram!.appendConsole(data.subarray(ring - 5, ring + 20));
  dev.reboot("soft");
  const last = open(dev).list().pop()!;
  t.deepEqual(open(dev).read(last.name)!.payload, data.subarray(20, ring + 20));
});

test("garbage after power loss is ignored and the area starts fresh", (t) => {
  const dev = device(getBoard("JOLTJS"));
  const store = open(dev);
  store.ram!.appendConsole("lost");
  store.ram!.setCrashCount(3);
  dev.reboot("power-on", 99);
  const after = open(dev);
  t.deepEqual(after.list(), []);
  t.is(after.ram!.crashCount(), 0);
  t.is(after.ram!.previous, undefined);
  after.ram!.appendConsole("kept");
  dev.reboot("soft");
  t.deepEqual(open(dev).read(open(dev).list()[0].name)!.payload, text("kept"));
});

test("the crash count survives resets until power loss; the retained boot counter moves boots on", (t) => {
  const dev = device(getBoard("JOLTJS"));
  let store = open(dev);
  store.ram!.setCrashCount(store.ram!.crashCount() + 1);
  for (let boot = 2; boot <= 4; boot++) {
    dev.reboot("watchdog");
    store = open(dev);
    t.is(store.boot, boot, "no flash write, yet the boot counter grows");
    t.is(store.ram!.crashCount(), boot - 1);
    t.is(store.ram!.previous!.boot, boot - 1);
    store.ram!.setCrashCount(store.ram!.crashCount() + 1);
  }
  t.deepEqual(store.list(), [], "no console output and no breadcrumb: nothing committed");
  const st = store.status().backends.find((b) => b.name === "ram")!;
  t.like(st, { state: "ok", crashCount: 4, consoleBytes: 0 });
});

test("a breadcrumb alone commits no empty console record; its reason reaches the next boot through previous", (t) => {
  const dev = device(getBoard("ESP32"));
  open(dev).ram!.setBreadcrumb(Reason.Lockup);
  dev.reboot("soft");
  const store = open(dev);
  t.deepEqual(store.list(), []);
  t.like(store.ram!.previous, { reason: Reason.Lockup, boot: 1 });
});

test("boards without the retained feature run without the ram backend unless asked", (t) => {
  const puck = device(getBoard("PUCKJS"));
  t.is(open(puck).ram, undefined);
  t.truthy(open(puck, { ram: true }).ram);
  t.is(open(device(getBoard("LINUX")), { ram: true }).ram, undefined, "no retained area: nothing to use");
});
