// The simulated console takes input in any pieces. (Its bytes are held to the real REPL's by the conformance
// recordings, test/conformance.test.ts.)

import test from "ava";
import { getBoard } from "../boards/index";
import { SimDevice } from "../tools/sim/espruino/device";

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
