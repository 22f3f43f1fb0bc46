// Replays a real Espruino 2v29 REPL session (shared/transcripts/repl-2v29-linux-telnet.json, recorded from the
// Linux build over telnet) against the simulated device, byte for byte. Every step is compared exactly.

import test from "ava";
import { readFileSync } from "node:fs";
import { getBoard } from "../boards/index";
import { SimDevice } from "../tools/sim/espruino/device";

interface Step {
  send: string | null;
  note: string;
  receive: string;
}

const TRANSCRIPT = new URL("../../shared/transcripts/repl-2v29-linux-telnet.json", import.meta.url);
const steps = JSON.parse(readFileSync(TRANSCRIPT, "utf8")) as Step[];

test("the simulated console replays the recorded 2v29 session byte for byte", (t) => {
  t.true(steps.length >= 19, "the transcript has all its steps");
  const device = new SimDevice({ board: getBoard("LINUX") });
  let received = "";
  device.on("output", (bytes) => {
    received += Buffer.from(bytes).toString("latin1");
  });
  steps.forEach((step, index) => {
    received = "";
    if (step.send === null) device.connect();
    else device.write(step.send);
    // The recorder waited until the line went quiet; timers in the session fire within 100 ms.
    device.runUntilIdle();
    t.is(received, step.receive, `step ${index}: ${step.note}`);
  });
});

test("bytes of a step may arrive in pieces and still give the same reply", (t) => {
  const device = new SimDevice({ board: getBoard("LINUX") });
  let received = "";
  device.on("output", (bytes) => {
    received += Buffer.from(bytes).toString("latin1");
  });
  device.connect();
  received = "";
  for (const ch of "1+2\n") device.write(ch);
  t.is(received, "1+2\r\n=3\r\n>");
});
