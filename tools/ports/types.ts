// The one thing the host tool knows about a line to a device: bytes in, bytes out, an end. Serial, TCP and the
// in-memory pairs used by tests all look like this, so nothing above this folder can tell them apart.

import { EventEmitter } from "node:events";

export interface Port {
  /** What this port is connected to, for messages ("/dev/ttyACM0 at 115200 baud", "tcp://127.0.0.1:2323"). */
  readonly description: string;
  readonly isOpen: boolean;
  /** Queues bytes for the device; a string is sent as latin1 (one byte per character). Throws once closed. */
  write(data: Uint8Array | string): void;
  on(event: "data", listener: (chunk: Uint8Array) => void): this;
  /** Emitted once when the port closes, with the error that closed it when it did not close on request. */
  on(event: "close", listener: (error?: Error) => void): this;
  off(event: "data", listener: (chunk: Uint8Array) => void): this;
  off(event: "close", listener: (error?: Error) => void): this;
  close(): Promise<void>;
}

/** Common plumbing: ports emit data and close exactly once, and never an unhandled "error" event. */
export abstract class BasePort extends EventEmitter implements Port {
  private open = true;

  constructor(readonly description: string) {
    super();
  }

  get isOpen(): boolean {
    return this.open;
  }

  write(data: Uint8Array | string): void {
    if (!this.open) throw new Error(`${this.description}: write after the port closed`);
    this.send(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  async close(): Promise<void> {
    if (!this.open) return;
    await this.shutdown();
    this.closed();
  }

  protected abstract send(bytes: Uint8Array): void;
  protected abstract shutdown(): Promise<void>;

  protected received(bytes: Uint8Array): void {
    if (this.open && bytes.length > 0) this.emit("data", bytes);
  }

  /** Marks the port closed (idempotent) and tells listeners why. */
  protected closed(error?: Error): void {
    if (!this.open) return;
    this.open = false;
    this.emit("close", error);
  }
}
