// Two ports joined back to back in memory: what one writes, the other receives on a later tick, as on a real line.

import { BasePort } from "./types";

class MemoryPort extends BasePort {
  peer: MemoryPort | undefined;

  protected send(bytes: Uint8Array): void {
    const copy = Uint8Array.from(bytes);
    const peer = this.peer;
    setImmediate(() => peer?.deliver(copy));
  }

  deliver(bytes: Uint8Array): void {
    this.received(bytes);
  }

  protected async shutdown(): Promise<void> {
    const peer = this.peer;
    this.peer = undefined;
    // The far end sees the line drop, as a device sees a host unplug.
    if (peer) setImmediate(() => peer.hangUp());
  }

  hangUp(): void {
    this.peer = undefined;
    this.closed(new Error(`${this.description}: the other end closed`));
  }
}

/** A connected pair: `host` for the tool, `device` for whatever plays the device. */
export function createLinkedPorts(name = "memory"): { host: BasePort; device: BasePort } {
  const host = new MemoryPort(`${name} (host end)`);
  const device = new MemoryPort(`${name} (device end)`);
  host.peer = device;
  device.peer = host;
  return { host, device };
}
