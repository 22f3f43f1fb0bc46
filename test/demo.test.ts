// `npm start` (tools/demo.ts): the main job on a simulated Puck.js, end to end with the real `pstore` command.

import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../tools/build/build";

test("npm start crashes, hangs and pulls a simulated Puck.js into ./pstore-archive and tells the story", (t) => {
  const cwd = mkdtempSync(join(tmpdir(), "pstore-demo-test-"));
  const run = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), join(ROOT, "tools/demo.ts")], { cwd, encoding: "utf8", timeout: 60_000 });
  t.is(run.status, 0, run.stdout + run.stderr);
  t.regex(run.stdout, /records from PUCKJS \S+: watchdog reset after 'Uncaught Error: I2C bus stuck/);

  const devices = readdirSync(join(cwd, "pstore-archive"));
  t.is(devices.length, 1);
  const boots = readdirSync(join(cwd, "pstore-archive", devices[0])).sort();
  t.deepEqual(boots, ["1", "2"], "the crashing run and the run after the watchdog reset");
  const first = join(cwd, "pstore-archive", devices[0], "1");
  const files = readdirSync(first);
  t.true(files.includes("dmesg.txt") && files.includes("records.jsonl"));
  const trace = files.find((f) => f.startsWith("ftrace-"));
  t.truthy(trace, "the traced calls are archived");
  t.regex(readFileSync(join(first, trace!), "utf8"), /readSensor <- tick/);
  t.regex(readFileSync(join(first, "dmesg.txt"), "utf8"), /Uncaught Error: I2C bus stuck/);
  const boot = readFileSync(join(cwd, "pstore-archive", devices[0], "2", "records.jsonl"), "utf8");
  t.regex(boot, /"reason":"watchdog"|"reason":5/, "the next boot says why the chip reset");
});
