// The simulated Espruino against recordings made from real ones (test/conformance/recordings/<board-version>/, by
// `npm run conformance -- --record`): every probe must give the recorded bytes, and a behaviour the simulator
// cannot have must be one the compatibility gate refuses, or be listed as not simulated.

import test from "ava";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describeDifference, readRecording, replay } from "../tools/conformance/recording";
import { probes } from "./conformance/probes";

const RECORDINGS = fileURLToPath(new URL("./conformance/recordings/", import.meta.url));

for (const name of readdirSync(RECORDINGS)) {
  test(`the simulator answers every probe as ${name} did`, async (t) => {
    const recording = readRecording(RECORDINGS + name);
    const result = await replay(recording, probes);
    t.true(result.compared >= 40, `${result.compared} probes compared`);
    t.deepEqual(result.differences.map(describeDifference), []);
  });
}

test("the Linux build's recording is there", (t) => {
  t.true(readdirSync(RECORDINGS).includes("linux-2v29.277"));
});

test("a difference is reported, naming the probe and both answers", async (t) => {
  const recording = readRecording(RECORDINGS + "linux-2v29.277");
  const probe = probes.find((p) => p.id === "typedarray-slice-gives-array")!;
  const answer = recording.answers.get(probe.id)!;
  answer.received = answer.received.map((text) => text.replace("true", "false"));
  const result = await replay({ meta: recording.meta, answers: new Map([[probe.id, answer]]) }, [probe]);
  t.is(result.differences.length, 1);
  t.regex(describeDifference(result.differences[0]), /typedarray-slice-gives-array: step 0: the console bytes differ\n.*\n  real: .*false.*\n  simulated: .*true/);
});

test("a probe without a recording, and a recording without a probe, are differences", async (t) => {
  const recording = readRecording(RECORDINGS + "linux-2v29.277");
  const [kept] = probes;
  const answers = new Map([["no-such-probe", { ...recording.answers.get(kept.id)!, id: "no-such-probe" }]]);
  const result = await replay({ meta: recording.meta, answers }, [kept]);
  t.deepEqual(result.differences.map((d) => d.problem.split(":")[0]), ["not recorded from LINUX", "recorded, but no such probe any more"]);
});
