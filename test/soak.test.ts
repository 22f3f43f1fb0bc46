// A short soak: the built firmware on the simulated Espruino through boots ending in every kind of reset, power
// cuts at random flash operations and interrupted pulls; nothing accepted may be lost, nothing archived twice,
// nothing damaged listed (tools/soak/soak.ts, tools/soak/ledger.ts).

import test from "ava";
import { Ledger } from "../tools/soak/ledger";
import { runSoak } from "../tools/soak/soak";

test("soak: 60 boot cycles of the built PUCKJS firmware lose nothing and list nothing damaged", async (t) => {
  const r = await runSoak({ cycles: 60, seed: 7, board: "PUCKJS", stopOnProblem: false });
  t.log(
    `${r.cycles} cycles, ${r.seconds.toFixed(1)} s: pmsg ${r.written} written / ${r.refused} refused, ${r.seen} seen, ${r.archived} archived, ` +
      `${r.pulls} pulls (${r.interruptedPulls} interrupted, ${r.pullsCutByPower} cut by power), ${r.powerCuts} power cuts, ` +
      `${r.ringOverwrites} ring overwrites, wear ${r.wear.min}..${r.wear.max}`,
  );
  t.deepEqual(r.problems.slice(0, 10), []);
  t.is(r.lost, 0);
  t.is(r.corruptListed, 0);
  t.is(r.cycles, 60);
  // The run exercised what it claims to.
  t.true(r.written > 20, "pmsg records were written");
  t.true(r.archived > r.written / 2, "the host archived records");
  t.true(r.pulls >= 3, "the host pulled");
  t.true(Object.keys(r.resets).length >= 4, `several kinds of reset: ${Object.keys(r.resets).join(", ")}`);
});

test("soak ledger: a kept record that vanishes unarchived is a loss, a ring record is an overwrite", (t) => {
  const ledger = new Ledger(() => "test");
  ledger.promise("pmsg-flash-5", "hello");
  ledger.observe(
    [
      { name: "pmsg-flash-5", seq: 5, boot: 1 },
      { name: "dmesg-flash-6", seq: 6, boot: 1 },
      { name: "console-flash-7", seq: 7, boot: 1 },
    ],
    8,
  );
  t.deepEqual(ledger.problems, []);
  ledger.archive("pmsg-flash-5", true, true, "hello");
  ledger.observe([], 8);
  t.is(ledger.counts.lost, 1, "dmesg-flash-6 vanished");
  t.is(ledger.counts.ringOverwrites, 1, "console-flash-7 was overwritten");
  t.regex(ledger.problems.join("\n"), /dmesg-flash-6 disappeared/);
  ledger.archive("pmsg-flash-5", true, false, "hello");
  t.regex(ledger.problems.join("\n"), /pmsg-flash-5 archived twice/);
  ledger.observe([{ name: "pmsg-flash-9", seq: 9, boot: 2 }], 7);
  t.regex(ledger.problems.join("\n"), /went back from 8 to 7/);
  t.regex(ledger.problems.join("\n"), /pmsg-flash-9 is listed but the next sequence number is 7/);
});
