// The two ends a probe run talks to: a real Espruino over a pstore port (serial or TCP), waiting in real time until
// the line goes quiet, and the simulated Espruino, waiting in virtual time the same way. Both answer an exchange with
// every byte that came back.

import { getBoard } from "../../boards/index";
import { openPort, type Port } from "../ports/index";
import { SimDevice } from "../sim/espruino/device";

/** The line is quiet after this long without a byte. */
export const QUIET_MS = 300;
/** Longest a value probe may take to answer. */
export const ANSWER_MS = 2000;

export interface ProbeLine {
  /**
   * Sends `text`; resolves with what came back once at least `waitMs` passed (with a `marker`: once the marker came,
   * or after `waitMs`) and nothing more arrived for QUIET_MS.
   */
  exchange(text: string, waitMs: number, marker?: string): Promise<string>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class PortLine implements ProbeLine {
  private received = "";
  private lastByteAt = Date.now();

  constructor(
    private readonly port: Port,
    private readonly slowdown: number,
  ) {
    port.on("data", (bytes) => {
      this.received += Buffer.from(bytes).toString("latin1");
      this.lastByteAt = Date.now();
    });
  }

  async exchange(text: string, waitMs: number, marker?: string): Promise<string> {
    this.received = "";
    const start = Date.now();
    this.lastByteAt = start;
    this.port.write(text);
    for (;;) {
      await sleep(20);
      const now = Date.now();
      const waited = (marker !== undefined && this.received.includes(marker)) || now - start >= waitMs * this.slowdown;
      if (waited && now - this.lastByteAt >= QUIET_MS * this.slowdown) break;
      if (!this.port.isOpen) throw new Error(`${this.port.description}: the line closed (the interpreter exited?)`);
    }
    return this.received;
  }

  close(): Promise<void> {
    return this.port.close();
  }
}

/** `slowdown` stretches every wait, for a device slower than its clock (an emulator): timers still fire in order. */
export async function openRealLine(spec: string, baud?: number, slowdown = 1): Promise<ProbeLine> {
  const line = new PortLine(await openPort(spec, { baud }), slowdown);
  // Whatever the device printed on connect (a prompt) is not part of any probe.
  await line.exchange("", 0);
  return line;
}

class SimLine implements ProbeLine {
  private received = "";

  constructor(readonly device: SimDevice) {
    device.on("output", (bytes) => {
      this.received += Buffer.from(bytes).toString("latin1");
    });
  }

  async exchange(text: string, waitMs: number, marker?: string): Promise<string> {
    this.received = "";
    if (text.length > 0) this.device.write(text);
    if (marker !== undefined) {
      for (let t = 0; t < waitMs && !this.received.includes(marker); t += 10) this.device.advance(10);
    } else {
      this.device.advance(waitMs);
    }
    this.device.advance(QUIET_MS);
    return this.received;
  }

  async close(): Promise<void> {}
}

/** A fresh simulated board (process.env.BOARD names it) answering as `version`. */
export function openSimLine(board: string, version: string): ProbeLine {
  const device = new SimDevice({ board: getBoard(board), version, banner: true });
  const line = new SimLine(device);
  device.connect();
  return line;
}
