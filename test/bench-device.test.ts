// The pure half of `npm run bench -- --device` (tools/bench/device-figures.ts): what callgrind and E.getSizeOf
// return, turned into figures, and the section it writes into docs/PERFORMANCE.md. The measuring half needs the
// real interpreter (ESPRUINO_BIN); nothing here does.

import test from "ava";
import {
  callgrindInclusive,
  callgrindSummary,
  deviceMarkdown,
  deviceSectionOf,
  heldObjects,
  judged,
  replaceDeviceSection,
  startSteps,
  type DeviceBench,
  type StagesRun,
} from "../tools/bench/device-figures";

test("callgrind's summary line is the run's instruction count; a file without one is refused", (t) => {
  t.is(callgrindSummary("events: Ir\nsummary: 341360911\ntotals: 341360911\n"), 341360911);
  t.throws(() => callgrindSummary("events: Ir\n"), { message: /no summary line/ });
});

const ANNOTATED = `--------------------------------------------------------------------------------
Ir                      file:function
--------------------------------------------------------------------------------
4,498,278,824 (1317.7%)  /src/jsparse.c:jspeStatement'2 [/work/espruino]
  341,263,720 (99.97%)  ???:0x000000000001ab70 [/usr/lib/ld-linux-x86-64.so.2]
  341,000,000 (99.90%)  /src/main.c:main [/work/espruino]
   80,000,000 (23.44%)  /src/jsparse.c:jspEvaluateModule [/work/espruino]
  120,000,000 (35.15%)  /src/jsinteractive.c:jsiLoop [/work/espruino]
`;

test("the inclusive profile keeps the interpreter's functions, heaviest first, without recursion levels or the loader", (t) => {
  t.deepEqual(callgrindInclusive(ANNOTATED, 10), [
    { instructions: 341_000_000, percent: 99.9, fn: "main" },
    { instructions: 120_000_000, percent: 35.15, fn: "jsiLoop" },
    { instructions: 80_000_000, percent: 23.44, fn: "jspEvaluateModule" },
  ]);
  t.is(callgrindInclusive(ANNOTATED, 2).length, 2);
});

test("held objects: the parts that reach less than half of the instance, each once, largest first", (t) => {
  const whole = 1000;
  const tree = [
    {
      name: "\xFFmodules",
      size: whole + 5,
      more: [
        {
          name: "pstore",
          size: whole,
          more: [
            {
              name: "\xFFsco",
              size: whole,
              more: [
                { name: "ring", size: 300, more: [{ name: "buf", size: 290 }] },
                { name: "idx", size: 40 },
                { name: "tiny", size: 3 },
              ],
            },
          ],
        },
      ],
    },
    // The same ring, met again through a timer's closure.
    { name: "timers", size: whole, more: [{ name: "cb", size: whole, more: [{ name: "ring", size: 300 }] }] },
  ];
  t.deepEqual(heldObjects(tree, whole, 10), [
    { path: "/~modules/pstore/~sco/ring", variables: 300 },
    { path: "/~modules/pstore/~sco/idx", variables: 40 },
  ]);
});

test("a target is met when every figure it covers is within it; a figure not measured does not meet it", (t) => {
  const target = { max: 1000, text: "≤ 1,000" };
  t.true(judged({ label: "a", unit: "vars", empty: 900, full: 1000, target }).met);
  t.false(judged({ label: "a", unit: "vars", empty: 900, full: 1001, target }).met);
  t.true(judged({ label: "a", unit: "vars", empty: 900, full: 5000, target, targetOn: ["empty"] }).met);
  t.false(judged({ label: "a", unit: "instr", empty: NaN, target }).met);
  t.is(judged({ label: "a", unit: "vars", empty: 5 }).met, undefined);
});

test("start() step by step: each note less the one before and less a note's own cost; the rows add up to pstore's share", (t) => {
  // Bare 50; loaded before start() 1,000 more; a note holds 4 (its array 2 more); the HAL adds 70, the runtime 800,
  // the boot scan `scan`; 30 leave with the service module.
  const run = (scan: number): StagesRun => {
    const notes: Array<[string, number]> = [["start", 1050], ["probe", 1056], ["probe", 1060], ["hal", 1134], ["runtime", 1938], ["boot scan", 1942 + scan]];
    return [1942 + scan + 4 - 30, 2 + notes.length * 4, notes];
  };
  const steps = startSteps(50, run(200), run(300));
  t.deepEqual(
    steps.map((s) => [s.empty, s.full]),
    [
      [1000, 1000],
      [70, 70],
      [800, 800],
      [200, 300],
      [-30, -30],
    ],
  );
  t.regex(steps[0].step, /^loaded before start\(\)/);
  t.regex(steps[1].step, /HAL/);
  t.regex(steps[4].step, /service module dropped/);
  const [usage, held] = run(200);
  t.is(
    steps.reduce((sum, s) => sum + s.empty, 0),
    usage - 50 - held,
  );
});

const BENCH: DeviceBench = {
  interpreter: "2v29.277",
  valgrind: true,
  figures: [judged({ label: "variables after boot", unit: "vars", bare: 44, empty: 3059, target: { max: 1000, text: "≤ 1,000" } })],
  held: [{ path: "/~modules/pstore/~sco/ring", variables: 300 }],
  stages: [{ step: "the HAL (clock, CRC, Storage or Flash access)", empty: 77, full: 78 }],
  bootProfile: [{ instructions: 2_406_000_000, percent: 100, fn: "main" }],
  bangle: { available: false, reason: "BANGLE_EMU is not set" },
  notes: ["a note"],
};

test("the section names the command, every figure beside the bare one with its verdict, and why Bangle is missing", (t) => {
  const md = deviceMarkdown(BENCH, "npm run bench -- --device --markdown docs/PERFORMANCE.md");
  t.true(md.startsWith("## Device cost on the real interpreter\n"));
  t.true(md.includes("npm run bench -- --device --markdown docs/PERFORMANCE.md"));
  t.regex(md, /\| variables after boot \| 44 \| 3,059 \| – \| vars \| ≤ 1,000: \*\*not met\*\* \|/);
  t.regex(md, /\| 2406\.0 M \| 100\.0 \| main \|/);
  t.regex(md, /\| the HAL \(clock, CRC, Storage or Flash access\) \| 77 \| 78 \|/);
  t.true(md.includes("Bangle.js 2 firmware: not measured: BANGLE_EMU is not set"));
});

test("the section replaces its earlier self and nothing else, and a full report rewrite can keep it", (t) => {
  const section = deviceMarkdown(BENCH, "cmd");
  const before = "# Performance\n\n## Codecs\n\nfigures\n";
  const once = replaceDeviceSection(before, section);
  t.true(once.startsWith(before));
  const later = "# Performance\n\n## Codecs\n\nfigures\n\n" + deviceMarkdown({ ...BENCH, interpreter: "OLD" }, "cmd") + "\n## Afterwards\n\nkept\n";
  const replaced = replaceDeviceSection(later, section);
  t.false(replaced.includes("OLD"));
  t.true(replaced.includes("## Afterwards\n\nkept\n") && replaced.includes("2v29.277"));
  t.is(deviceSectionOf(replaced)!.trim(), section.trim());
  t.is(deviceSectionOf(before), undefined);
});
