import test from "ava";
import { getBoard } from "../boards/index";
import { pagesOf } from "../boards/geometry";
import { Flag, Reason, RecordType } from "../pstore/format";
import { boardWith, device, listedProblems, open, payload } from "./helpers/pstore";

function zoneStatus(store: ReturnType<typeof open>, name: string) {
  return store.status().backends[0].zones!.find((z) => z.name === name)!;
}

test("ring: the oldest records are overwritten, the newest kept, and a spare stays ready", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev);
  const written: { name: string; data: Uint8Array }[] = [];
  for (let i = 0; i < 40; i++) {
    const data = payload(1000, i);
    written.push({ name: store.write(RecordType.Console, Reason.Periodic, data)!, data });
  }
  for (const s of [store, open(dev)]) {
    const listed = s.list().map((m) => m.name);
    t.deepEqual(listed, written.slice(written.length - listed.length).map((w) => w.name), "a suffix of what was written");
    t.true(listed.length >= 6, `kept ${listed.length}: at least two full pages of four`);
    for (const w of written.slice(written.length - listed.length)) t.deepEqual(s.read(w.name)!.payload, w.data);
  }
  const again = open(dev);
  while (again.idle());
  t.is(zoneStatus(again, "console").sparePages, 1);
  t.deepEqual(dev.flash.violations, []);
});

test("keep-first: the first records stay, later ones are dropped and counted with drop markers", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev);
  const kept: string[] = [];
  let dropped = 0;
  for (let i = 0; i < 20; i++) {
    const name = store.write(RecordType.Dmesg, Reason.Exception, payload(1500, i));
    if (name) {
      t.is(dropped, 0, "nothing is kept after the first drop");
      kept.push(name);
    } else dropped++;
  }
  t.true(kept.length >= 6 && dropped > 0);
  for (const s of [store, open(dev)]) {
    const st = zoneStatus(s, "dmesg");
    t.is(st.drops, dropped);
    const markers = s.list().filter((m) => m.flags & Flag.Drop);
    const records = s.list().filter((m) => !(m.flags & Flag.Drop));
    t.deepEqual(records.map((m) => m.name), kept);
    t.true(markers.length >= 1);
    for (const m of markers) t.like(m, { type: RecordType.Dmesg, storedLength: 0, originalLength: 1500 });
  }
});

test("priority: a more important record displaces less important ones, never the reverse", (t) => {
  const board = boardWith("PUCKJS", [{ name: "crash", types: ["dmesg", "event"], pages: 3, policy: "priority" }]);
  const dev = device(board);
  const store = open(dev);
  const periodic: string[] = [];
  for (let i = 0; i < 12; i++) {
    const name = store.write(RecordType.Event, Reason.Periodic, payload(1500, i));
    if (name) periodic.push(name);
  }
  // Periodic records displace each other (equal reason), so the zone keeps the newest ones.
  t.true(periodic.length === 12);
  while (store.idle());
  const panics: string[] = [];
  for (let i = 0; i < 4; i++) {
    const name = store.write(RecordType.Dmesg, Reason.Panic, payload(1500, 100 + i), { crash: true });
    t.truthy(name, `panic ${i} stored on the crash path`);
    panics.push(name!);
    while (store.idle());
  }
  // The zone is now full of panics: a periodic record cannot displace any of them.
  t.is(store.write(RecordType.Event, Reason.Periodic, payload(1500, 999)), undefined);
  const after = open(dev);
  t.deepEqual(after.list().filter((m) => !(m.flags & Flag.Drop)).map((m) => m.name), panics);
  t.true(zoneStatus(after, "crash").drops >= 1);
  // Records of equal importance displace each other, oldest first.
  const fifth = after.write(RecordType.Dmesg, Reason.Panic, payload(1500, 200))!;
  const names = after.list().map((m) => m.name);
  t.true(names.includes(fifth));
  t.false(names.includes(panics[0]));
  t.true(names.includes(panics[3]));
});

test("multi-part records: split, listed once, joined on read, erased together, hidden when a part is damaged", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev);
  const data = payload(9000, 5);
  const name = store.write(RecordType.Dmesg, Reason.Panic, data)!;
  const meta = store.list().find((m) => m.name === name)!;
  t.is(meta.parts, 3);
  t.is(meta.storedLength, 9000);
  t.deepEqual(store.read(name)!.payload, data);
  t.deepEqual(listedProblems(store), []);
  const next = store.write(RecordType.Dmesg, Reason.Panic, payload(10, 1))!;
  t.is(next, `dmesg-flash-${meta.seq + 3}`, "parts take consecutive sequence numbers");
  // Damage the middle part's payload: the whole record disappears after a reboot, the other record stays.
  const region = pagesOf(dev.board);
  const partAddr = region[1].addr + 24 + 48 + 100;
  dev.flash.poke(partAddr, new Uint8Array([dev.flash.peek(partAddr, 1)[0] ^ 0xff]));
  const rebooted = open(dev);
  t.deepEqual(rebooted.list().map((m) => m.name), [next]);
  // An intact multi-part record erased by name loses all parts.
  const other = rebooted.write(RecordType.Console, Reason.Periodic, payload(6000, 2))!;
  t.is(rebooted.list().find((m) => m.name === other)!.parts, 2);
  t.true(rebooted.erase(other));
  t.false(open(dev).list().some((m) => m.name === other));
});

test("erased records free their pages at idle; erase counts rise and stay level", (t) => {
  const dev = device(getBoard("PUCKJS"));
  let store = open(dev);
  for (let round = 0; round < 6; round++) {
    let n = 0;
    while (store.write(RecordType.Dmesg, Reason.Exception, payload(1800, round * 100 + n))) n++;
    t.true(n >= 6, `round ${round}: ${n} records`);
    t.is(zoneStatus(store, "dmesg").sparePages, 0);
    for (const m of store.list()) t.true(store.erase(m.name));
    store = open(dev);
    t.deepEqual(store.list(), []);
    while (store.idle());
    const st = zoneStatus(store, "dmesg");
    t.is(st.sparePages, 3, "every page erased and prepared again");
    t.is(st.eraseMin, round + 1);
    t.is(st.eraseMax, round + 1);
  }
  const counts = pagesOf(dev.board).slice(0, 3).map((p) => dev.flash.eraseCountAt(p.addr));
  t.deepEqual(counts, [6, 6, 6]);
  t.deepEqual(dev.flash.violations, []);
});

test("wear levelling: a ring spreads erases over its pages", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev);
  for (let i = 0; i < 300; i++) {
    store.write(RecordType.Pmsg, Reason.User, payload(900, i));
    while (store.idle());
  }
  const st = zoneStatus(store, "pmsg");
  t.true(st.eraseMin >= 20);
  t.true(st.eraseMax - st.eraseMin <= 1, `erase counts ${st.eraseMin}..${st.eraseMax}`);
});

test("the crash path never erases: it uses the prepared spare and drops when none is left", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev);
  for (let i = 0; i < 12; i++) store.write(RecordType.Console, Reason.Periodic, payload(1500, i));
  while (store.idle());
  t.is(zoneStatus(store, "console").sparePages, 1);
  dev.flash.resetCounters();
  const crashed: string[] = [];
  for (let i = 0; i < 6; i++) {
    const name = store.write(RecordType.Console, Reason.Panic, payload(1500, 50 + i), { crash: true });
    if (name) crashed.push(name);
  }
  t.is(dev.flash.counters().eraseOps, 0);
  t.true(crashed.length >= 2, "the current page and the spare took crash records");
  t.true(crashed.length < 6, "without idle the ring runs out of prepared space");
  for (const name of crashed) t.truthy(store.read(name));
  while (store.idle());
  t.true(dev.flash.counters().eraseOps > 0);
  t.truthy(store.write(RecordType.Console, Reason.Panic, payload(1500, 99), { crash: true }));
});

test("garbage pages and torn headers are skipped at boot and reclaimed at idle", (t) => {
  const dev = device(getBoard("PUCKJS"));
  let store = open(dev);
  const keep = store.write(RecordType.Dmesg, Reason.Panic, payload(200, 1))!;
  const torn = store.write(RecordType.Dmesg, Reason.Panic, payload(200, 2))!;
  const region = pagesOf(dev.board);
  // A torn header in page 0 (second record) and random bytes over a whole pmsg page.
  dev.flash.poke(region[0].addr + 24 + 252 + 13, new Uint8Array([0x55]));
  dev.flash.poke(region[8].addr, payload(4096, 77));
  store = open(dev);
  t.deepEqual(store.list().map((m) => m.name), [keep]);
  t.is(store.read(torn), undefined);
  t.is(zoneStatus(store, "pmsg").pendingErases, 1);
  while (store.idle());
  t.is(zoneStatus(store, "pmsg").sparePages, 3);
  const after = store.write(RecordType.Dmesg, Reason.Panic, payload(200, 3))!;
  t.deepEqual(open(dev).list().map((m) => m.name), [keep, after]);
  t.deepEqual(dev.flash.violations, []);
});

test("sequence numbers survive the erase of every record (page watermarks)", (t) => {
  const dev = device(getBoard("PUCKJS"));
  let store = open(dev);
  for (let i = 0; i < 5; i++) store.write(RecordType.Pmsg, Reason.User, payload(10, i));
  for (const m of store.list()) store.erase(m.name);
  while (store.idle());
  store = open(dev);
  t.deepEqual(store.list(), []);
  t.is(store.write(RecordType.Pmsg, Reason.User, payload(10, 9)), "pmsg-flash-6");
});

test("ring: a record of several parts written into a full ring gives up the oldest pages and keeps the newest records whole", (t) => {
  const dev = device(getBoard("PUCKJS"));
  const store = open(dev);
  const small: string[] = [];
  for (let i = 0; i < 30; i++) small.push(store.write(RecordType.Console, Reason.Periodic, payload(700, i))!);
  // Three parts: with the spare held back, every page it takes must come from giving up an older one.
  const big = payload(9000, 99);
  const name = store.write(RecordType.Console, Reason.Periodic, big)!;
  for (const s of [store, open(dev)]) {
    const listed = s.list().map((m) => m.name);
    t.is(listed[listed.length - 1], name);
    t.is(s.list().find((m) => m.name === name)!.parts, 3);
    t.deepEqual(s.read(name)!.payload, big);
    // What is left of the small records is the newest of them, in order, each whole.
    const kept = listed.slice(0, -1);
    t.deepEqual(kept, small.slice(small.length - kept.length));
    for (const k of kept) t.is(s.read(k)!.payload.length, 700);
    t.deepEqual(listedProblems(s), []);
  }
  t.deepEqual(dev.flash.violations, []);
});
