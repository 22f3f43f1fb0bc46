import test from "ava";
import { boardNames, getBoard } from "../boards/index";
import type { Backend } from "../pstore/backend";
import { Codec, Flag, Reason, RecordType, typeFromName } from "../pstore/format";
import { Pstore } from "../pstore/core";
import { boardWith, device, listedProblems, open, payload } from "./helpers/pstore";

const ALL_TYPES = [RecordType.Dmesg, RecordType.Console, RecordType.Ftrace, RecordType.Pmsg, RecordType.Event];

test("every record type round-trips with its metadata", (t) => {
  const dev = device(getBoard("JOLTJS"));
  dev.clock.setWall(1_700_000_000);
  dev.clock.advance(5000);
  const store = open(dev);
  const written = ALL_TYPES.map((type, i) => {
    const data = payload(100 + i * 37, i);
    const name = store.write(type, Reason.Exception, data, { codec: Codec.Lz4, flags: Flag.FtraceNames, originalLength: 999 })!;
    return { type, name, data };
  });
  for (const w of written) {
    const got = store.read(w.name)!;
    t.deepEqual(got.payload, w.data, w.name);
    t.like(got.meta, {
      name: w.name,
      backend: "flash",
      type: w.type,
      reason: Reason.Exception,
      codec: Codec.Lz4,
      flags: Flag.FtraceNames | Flag.TimeValid,
      boot: 1,
      time: 1_700_000_005,
      uptime: 5000,
      storedLength: w.data.length,
      originalLength: 999,
      parts: 1,
    });
  }
  t.deepEqual(listedProblems(store), []);
  t.deepEqual(
    store.list().map((m) => m.name),
    written.map((w) => w.name),
  );
});

test("records keep their order and names across reboots; boot counter and sequence grow", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const names: string[] = [];
  for (let boot = 1; boot <= 4; boot++) {
    const store = open(dev);
    t.is(store.boot, boot);
    t.deepEqual(
      store.list().map((m) => m.name),
      names,
    );
    names.push(store.write(RecordType.Pmsg, Reason.User, payload(50, boot))!);
    names.push(store.write(RecordType.Dmesg, Reason.Panic, payload(70, boot))!);
    dev.reboot("soft");
  }
  const store = open(dev);
  const seqs = store.list().map((m) => m.seq);
  t.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  t.deepEqual(
    store.list().map((m) => m.boot),
    [1, 1, 2, 2, 3, 3, 4, 4],
  );
  t.is(new Set(seqs).size, seqs.length);
});

test("a boot that stored nothing but prepared pages still moves the boot counter on", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const first = open(dev);
  while (first.idle());
  t.is(open(dev).boot, 2);
});

test("every board's default zones start up and take a record of each type they store", (t) => {
  for (const name of boardNames()) {
    const board = getBoard(name);
    const dev = device(board);
    const store = open(dev);
    const failed = store.status().backends.filter((b) => b.state !== "ok");
    t.deepEqual(failed, [], name);
    for (const zone of board.zones) {
      for (const typeName of zone.types) {
        const type = typeFromName(typeName);
        const data = payload(300, type);
        const rec = store.write(type, Reason.Periodic, data);
        t.truthy(rec, `${name}: ${typeName}`);
        t.deepEqual(store.read(rec!)!.payload, data, `${name}: ${typeName}`);
      }
    }
    while (store.idle());
    t.deepEqual(dev.flash.violations, [], name);
    t.deepEqual(listedProblems(open(dev)), [], name);
  }
});

test("the storage backend keeps records in pstore.p<N> files", (t) => {
  const dev = device(getBoard("BANGLEJS2"));
  const store = open(dev);
  const name = store.write(RecordType.Dmesg, Reason.Panic, payload(500, 3))!;
  t.regex(name, /^dmesg-storage-\d+$/);
  t.true(dev.storage.list().length > 0);
  t.true(
    dev.storage.list().every((file) => /^pstore\.p\d+$/.test(file)),
    "every page is a Storage file the Bangle.js app's data entry pstore.p* covers",
  );
  const again = open(dev);
  t.deepEqual(again.read(name)!.payload, payload(500, 3));
  t.true(again.erase(name));
  t.is(again.read(name), undefined);
});

test("maxReason filters records; too-large records throw naming the zone", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev, { maxReason: Reason.Watchdog });
  t.is(store.write(RecordType.Dmesg, Reason.Periodic, payload(10, 1)), undefined);
  t.truthy(store.write(RecordType.Dmesg, Reason.Watchdog, payload(10, 1)));
  t.throws(() => store.write(RecordType.Pmsg, Reason.Panic, payload(20000, 1)), { message: /zone pmsg.*20000 bytes/ });
  t.is(store.write(RecordType.Ftrace, Reason.Panic, payload(10, 1)), undefined, "no PUCKJS zone stores ftrace");
});

test("readPart gives the stored bytes, erase removes a record, unknown names are refused", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev);
  const name = store.write(RecordType.Event, Reason.Watchdog, payload(33, 9))!;
  const raw = store.readPart(name, 0)!;
  t.is(raw.length, 52 + 36);
  t.is(store.readPart(name, 1), undefined);
  t.false(store.erase("event-flash-999"));
  t.false(store.erase("pmsg" + name.slice(5)), "type in the name must match");
  t.is(store.read("garbage"), undefined);
  t.true(store.erase(name));
  t.false(store.erase(name));
  t.deepEqual(open(dev).list(), []);
});

function fakeBackend(name: string, opens: () => void): Backend {
  return {
    name,
    types: [RecordType.Pmsg],
    open: opens,
    lastBoot: () => 0,
    setBoot: () => {},
    list: () => [],
    read: () => undefined,
    readPayload: () => undefined,
    write: () => undefined,
    writeCrash: () => undefined,
    erase: () => false,
    idle: () => false,
    status: () => ({ name, state: "ok" }),
  };
}

test("registration refuses bad backends; one that fails to open is reported and the others work", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = new Pstore(dev.hal, { board: dev.board });
  t.throws(() => store.register(fakeBackend("flash", () => {})), { message: /flash is already registered/ });
  t.throws(() => store.register(fakeBackend("", () => {})), { message: /name/ });
  t.throws(() => store.register({ ...fakeBackend("x", () => {}), types: [9 as RecordType] }), { message: /x: unknown record type 9/ });
  t.throws(() => store.register({ ...fakeBackend("y", () => {}), erase: undefined } as unknown as Backend), { message: /y lacks method erase/ });
  store.register(fakeBackend("broken", () => {
    throw new Error("medium missing");
  }));
  store.start();
  const broken = store.status().backends.find((b) => b.name === "broken")!;
  t.is(broken.state, "failed");
  t.regex(broken.error!, /medium missing/);
  t.truthy(store.write(RecordType.Pmsg, Reason.User, payload(5, 5)));
});

test("a flash backend with more zone pages than the region fails alone, reported in status", (t) => {
  const board = boardWith("PUCKJS", [{ name: "big", types: ["dmesg"], pages: 99, policy: "keep-first" }]);
  const store = open(device(board));
  const flash = store.status().backends[0];
  t.is(flash.state, "failed");
  t.regex(flash.error!, /99 pages/);
  t.is(store.write(RecordType.Dmesg, Reason.Panic, payload(5, 5)), undefined);
});

test("debug prints what the core does through hal.log", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev, { debug: true });
  const name = store.write(RecordType.Pmsg, Reason.User, payload(5, 5))!;
  store.erase(name);
  t.true(dev.logs.some((l) => l === "pstore: boot 1"));
  t.true(dev.logs.some((l) => l.startsWith("pstore: wrote " + name)));
  t.true(dev.logs.some((l) => l === "pstore: erased " + name));
  const quiet = device(getBoard("PUCKJS"));
  open(quiet).write(RecordType.Pmsg, Reason.User, payload(5, 5));
  t.deepEqual(quiet.logs, []);
});

test("status reports zones, space, boot and sequence", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev);
  store.write(RecordType.Dmesg, Reason.Panic, payload(100, 1));
  const s = store.status();
  t.is(s.boot, 1);
  t.is(s.nextSeq, 2);
  const dmesg = s.backends[0].zones!.find((z) => z.name === "dmesg")!;
  t.like(dmesg, { policy: "keep-first", pages: 3, records: 1, drops: 0, bytesUsed: 152 });
  t.deepEqual(dmesg.types, [RecordType.Dmesg, RecordType.Event]);
  t.is(dmesg.bytesUsed + dmesg.bytesFree, 3 * (4096 - 24));
});
