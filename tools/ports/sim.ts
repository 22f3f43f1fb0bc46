// The console of a simulated Espruino (tools/sim/espruino SimDevice) as a Port, so the tool, tests and benchmarks
// talk to the simulator exactly as they talk to a board.

import { BasePort } from "./types";

/** What a port needs of a simulated device: its console input and output. */
export interface SimulatedConsole {
  write(data: Uint8Array): void;
  on(event: "output", listener: (bytes: Uint8Array) => void): unknown;
  off(event: "output", listener: (bytes: Uint8Array) => void): unknown;
}

class SimulatorPort extends BasePort {
  private readonly listener = (bytes: Uint8Array) => {
    // The simulator answers inside write(); deliver on a later tick, as a real line would.
    const copy = Uint8Array.from(bytes);
    setImmediate(() => this.received(copy));
  };

  constructor(
    private readonly device: SimulatedConsole,
    description: string,
  ) {
    super(description);
    device.on("output", this.listener);
  }

  protected send(bytes: Uint8Array): void {
    const copy = Uint8Array.from(bytes);
    setImmediate(() => {
      if (this.isOpen) this.device.write(copy);
    });
  }

  protected async shutdown(): Promise<void> {
    this.device.off("output", this.listener);
  }
}

export function simulatorPort(device: SimulatedConsole, description = "simulated device"): BasePort {
  return new SimulatorPort(device, description);
}
