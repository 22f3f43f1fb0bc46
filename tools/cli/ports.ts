// `pstore ports [--scan S] [--json]`: what --port can name here: the serial ports the serialport package sees, and
// the Bluetooth LE devices advertising the Nordic UART service within a short scan. Either half that cannot be
// looked at (no Bluetooth, a native binding that does not load) says why in one line; the other is still listed.

import { loadNoble, scanUartDevices, type BleDevice } from "../ports/ble";
import { positiveNumber, type Command } from "./command";
import { ExitCode } from "./errors";
import { printable } from "./story";

interface SerialInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

type Listing<T> = { found: T[] } | { unavailable: string };

export const portsCommand: Command = {
  name: "ports",
  summary: "list serial ports and Bluetooth LE devices with a UART, for --port",
  help: `Usage: pstore ports [--scan S] [--json]

Lists what --port can name on this machine: serial ports (USB CDC, USB-serial adapters, Bluetooth
serial bridges) and Bluetooth LE devices advertising the Nordic UART service (Puck.js, Pixl.js,
MDBT42Q, Jolt.js, Bangle.js), found by a scan of S seconds. A device connected to another host (the
Web IDE, a phone) does not advertise and is not listed. Where the machine has no Bluetooth, or
the Bluetooth package is not installed, one line says so and the serial ports are still listed.

Options:
      --scan S        seconds to scan for Bluetooth LE devices (default 3)
      --json          {"serial": [...] or {"unavailable"}, "ble": [...] or {"unavailable"}}
  -h, --help          this text

Exit codes: 0 listed (even with nothing found); 2 bad command line.
`,
  options: { scan: { type: "string" }, json: { type: "boolean" } },
  positionals: [],
  async run({ values }, io) {
    const scanMs = positiveNumber(values, "scan", 3, { max: 3600 }) * 1000;
    const [serial, ble] = await Promise.all([listSerial(), listBle(scanMs)]);
    if (values.json) {
      const shape = <T>(listing: Listing<T>) => ("found" in listing ? listing.found : { unavailable: listing.unavailable });
      io.stdout.write(JSON.stringify({ serial: shape(serial), ble: shape(ble) }, null, 2) + "\n");
      return ExitCode.Ok;
    }
    const lines: string[] = [];
    if ("unavailable" in serial) lines.push(`Serial: ${serial.unavailable}`);
    else {
      lines.push(`Serial: ${count(serial.found.length, "port")}`);
      for (const port of serial.found) lines.push(`  ${printable(port.path)}${serialDetails(port)}`);
    }
    if ("unavailable" in ble) lines.push(`Bluetooth LE: ${ble.unavailable}`);
    else {
      lines.push(`Bluetooth LE: ${count(ble.found.length, "device")} with the Nordic UART in a ${scanMs / 1000} s scan`);
      for (const device of ble.found) {
        lines.push(`  ble://${device.address}  ${device.name ? printable(device.name) : "(no name)"}  rssi ${device.rssi}`);
      }
    }
    io.stdout.write(lines.join("\n") + "\n");
    return ExitCode.Ok;
  },
};

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function serialDetails(port: SerialInfo): string {
  const parts = [
    port.manufacturer,
    port.serialNumber && `serial ${port.serialNumber}`,
    port.vendorId && `USB ${port.vendorId}:${port.productId ?? "?"}`,
  ].filter((part): part is string => Boolean(part));
  return parts.length ? `  ${printable(parts.join(", "))}` : "";
}

async function listSerial(): Promise<Listing<SerialInfo>> {
  try {
    const { SerialPort } = await import("serialport");
    const found: SerialInfo[] = await SerialPort.list();
    return { found: found.sort((a, b) => a.path.localeCompare(b.path)) };
  } catch (error) {
    return { unavailable: `cannot list serial ports: ${(error as Error).message.split("\n")[0]}` };
  }
}

async function listBle(scanMs: number): Promise<Listing<BleDevice>> {
  try {
    return { found: await scanUartDevices(await loadNoble(), scanMs) };
  } catch (error) {
    return { unavailable: `not available: ${(error as Error).message}` };
  }
}
