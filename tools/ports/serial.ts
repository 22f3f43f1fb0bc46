// A serial console (USB CDC, UART adapter, Bluetooth serial bridge) through the serialport package.

import type { SerialPort } from "serialport";
import { BasePort } from "./types";

class SerialLinePort extends BasePort {
  constructor(
    private readonly serial: SerialPort,
    description: string,
  ) {
    super(description);
    serial.on("data", (bytes: Buffer) => this.received(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)));
    serial.on("error", (error: Error) => this.closed(new Error(`${description}: ${error.message}`)));
    serial.on("close", () => this.closed(new Error(`${description}: the port closed (device unplugged?)`)));
  }

  protected send(bytes: Uint8Array): void {
    this.serial.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  }

  protected shutdown(): Promise<void> {
    return new Promise((resolve) => {
      this.serial.removeAllListeners("close");
      if (!this.serial.isOpen) return resolve();
      this.serial.close(() => resolve());
    });
  }
}

/** Opens `path` at `baud` (8N1, no hardware flow control); rejects naming the path and the reason. */
export async function openSerialPort(path: string, baud: number): Promise<BasePort> {
  const description = `${path} at ${baud} baud`;
  // Loaded on first use: its native binding is not needed (and may be missing) when only TCP or the simulator is used.
  let SerialPort: typeof import("serialport").SerialPort;
  try {
    ({ SerialPort } = await import("serialport"));
  } catch (error) {
    throw new Error(`cannot open ${description}: the serialport package does not load (${(error as Error).message})`);
  }
  return new Promise((resolve, reject) => {
    const serial = new SerialPort({ path, baudRate: baud, autoOpen: false });
    serial.open((error) => {
      if (error) reject(new Error(`cannot open ${description}: ${error.message}`));
      else resolve(new SerialLinePort(serial, description));
    });
  });
}
