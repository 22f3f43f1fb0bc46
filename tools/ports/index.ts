// openPort: the only place that looks at a port spec. `tcp://host:port` is a TCP console, `ble://ADDRESS` or
// `ble:NAME` a Bluetooth LE device's UART, anything else a serial device.

import { loadNoble, openBlePort, parseBleSpec } from "./ble";
import { openSerialPort } from "./serial";
import { openTcpPort } from "./tcp";
import type { Port } from "./types";

export type { Port } from "./types";

export interface PortOptions {
  /** Serial line rate; ignored for TCP. Espruino's serial consoles default to 9600 (USB CDC ignores it). */
  baud?: number;
  /** TCP connect timeout; a BLE device is looked for twice as long. */
  timeoutMs?: number;
}

export const DEFAULT_BAUD = 115200;
/** A BLE device not seen advertising in this many times the timeout is not there (Espruino advertises every 375 ms). */
const BLE_SCANS_PER_TIMEOUT = 2;

export async function openPort(spec: string, options: PortOptions = {}): Promise<Port> {
  const tcp = /^tcp:\/\/(\[[^\]]+\]|[^:/\[\]]+):([0-9]{1,5})\/?$/.exec(spec);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535) throw new Error(`port spec ${JSON.stringify(spec)}: TCP port ${port} is out of range`);
    return openTcpPort(tcp[1].replace(/^\[|\]$/g, ""), port, options.timeoutMs);
  }
  if (spec.startsWith("tcp:")) {
    throw new Error(`port spec ${JSON.stringify(spec)} is not tcp://host:port`);
  }
  const ble = parseBleSpec(spec);
  if (ble) return openBlePort(await loadNoble(), ble, { scanMs: BLE_SCANS_PER_TIMEOUT * (options.timeoutMs ?? 5000) });
  if (spec === "") throw new Error("empty port spec: give a serial device path, tcp://host:port or ble://ADDRESS");
  const baud = options.baud ?? DEFAULT_BAUD;
  if (!Number.isInteger(baud) || baud <= 0) throw new Error(`baud rate ${baud} is not a positive integer`);
  return openSerialPort(spec, baud);
}
