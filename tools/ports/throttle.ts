// A port slowed to a line rate in both directions, to model a 115200 or 9600 baud UART in tests and benchmarks.

import { BasePort, type Port } from "./types";

/** Bytes per second a UART carries at `baud` with 8N1 framing (start + 8 data + stop = 10 bits a byte). */
export function uartBytesPerSecond(baud: number): number {
  return baud / 10;
}

const TICK_MS = 4;

/** Releases queued bytes no faster than `bytesPerSecond`; an idle line does not bank credit for a later burst. */
class Pacer {
  private queue: Uint8Array[] = [];
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private credit = 0;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly sink: (bytes: Uint8Array) => void,
  ) {}

  push(bytes: Uint8Array): void {
    this.queue.push(Uint8Array.from(bytes));
    if (this.timer === undefined) {
      this.last = performance.now();
      this.credit = 0;
      this.timer = setTimeout(this.pump, TICK_MS);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }

  private pump = (): void => {
    const now = performance.now();
    this.credit += ((now - this.last) * this.bytesPerSecond) / 1000;
    this.last = now;
    let budget = Math.floor(this.credit);
    const out: Uint8Array[] = [];
    while (budget > 0 && this.queue.length > 0) {
      const head = this.queue[0];
      const take = Math.min(budget, head.length);
      out.push(head.subarray(0, take));
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
      budget -= take;
      this.credit -= take;
    }
    this.timer = this.queue.length > 0 ? setTimeout(this.pump, TICK_MS) : undefined;
    if (out.length > 0) this.sink(Buffer.concat(out));
  };
}

class ThrottledPort extends BasePort {
  private readonly outgoing: Pacer;
  private readonly incoming: Pacer;

  constructor(
    private readonly inner: Port,
    bytesPerSecond: number,
  ) {
    super(`${inner.description} throttled to ${bytesPerSecond} B/s`);
    this.outgoing = new Pacer(bytesPerSecond, (bytes) => {
      if (inner.isOpen) inner.write(bytes);
    });
    this.incoming = new Pacer(bytesPerSecond, (bytes) => this.received(bytes));
    inner.on("data", (bytes) => this.incoming.push(bytes));
    inner.on("close", (error) => {
      this.outgoing.stop();
      this.incoming.stop();
      this.closed(error);
    });
  }

  protected send(bytes: Uint8Array): void {
    this.outgoing.push(bytes);
  }

  protected async shutdown(): Promise<void> {
    this.outgoing.stop();
    this.incoming.stop();
    await this.inner.close();
  }
}

/** `inner`, with both directions limited to `bytesPerSecond` (see uartBytesPerSecond). */
export function throttlePort(inner: Port, bytesPerSecond: number): Port {
  if (!(bytesPerSecond > 0)) throw new Error(`throttlePort: bytes per second must be positive, got ${bytesPerSecond}`);
  return new ThrottledPort(inner, bytesPerSecond);
}
