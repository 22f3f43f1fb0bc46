// Opening a device for a subcommand: the port from --port/$PSTORE_PORT, a DeviceClient with a clean REPL, the
// device's identity from its status and the device as a RecordSource (both in tools/protocol/source.ts). Ctrl-C
// closes the line, which ends whatever call is waiting, and the command exits 130.

import { InterruptedError } from "../archive/collect";
import { existsSync } from "node:fs";
import { DEFAULT_BAUD, openPort, type Port } from "../ports/index";
import { DeviceClient } from "../protocol/client";
import { ProtocolError } from "../protocol/errors";
import { PORT_OPTIONS, positiveNumber, requiredString, type CliIo, type OptionValues } from "./command";
import { DeviceError, ExitCode, UsageError } from "./errors";
import { printable } from "./story";

export { PORT_OPTIONS };
export { deviceIdentity, deviceIdOf, deviceSource, type DeviceIdentity } from "../protocol/source";

export const PORT_HELP = `  -p, --port PORT     serial device (/dev/ttyACM0, COM3), tcp://host:port, or a Bluetooth LE
                      device: ble://AA:BB:CC:DD:EE:FF or ble:NAME (pstore ports lists them);
                      default $PSTORE_PORT
      --baud N        serial baud rate (default ${DEFAULT_BAUD}; USB CDC, TCP and BLE ignore it)
      --timeout S     seconds a request may wait for its answer's next intact frame
                      (default 5, 0.1 to 3600); a BLE device is looked for twice as long`;

/** --timeout in ms: 0.1 to 3600 s (a timer cannot wait longer than 2^31 ms; a longer wait would fire at once). */
export function timeoutOption(values: OptionValues): number {
  return Math.round(positiveNumber(values, "timeout", 5, { min: 0.1, max: 3600 }) * 1000);
}

/** --baud: above 0, at most 10,000,000 (no UART goes faster). */
export function baudOption(values: OptionValues): number {
  return positiveNumber(values, "baud", DEFAULT_BAUD, { max: 10_000_000 });
}

export interface DeviceSession {
  client: DeviceClient;
  /** What the port is, for messages. */
  port: string;
}

/** How long a silent line goes before the user is told what the command is waiting for. */
const WAITING_NOTICE_MS = 1000;

/** The port --port (or $PSTORE_PORT) names, open; the line's timeout from --timeout. */
export async function openPortOption(values: OptionValues): Promise<{ port: Port; spec: string; timeoutMs: number }> {
  const spec = requiredString(values, "port", process.env.PSTORE_PORT);
  checkPortScheme(spec);
  const baud = baudOption(values);
  const timeoutMs = timeoutOption(values);
  try {
    return { port: await openPort(spec, { baud, timeoutMs }), spec, timeoutMs };
  } catch (error) {
    const message = (error as Error).message;
    // The port layer's own messages already say "cannot open X …" or "cannot connect to X …".
    throw new DeviceError(message.startsWith("cannot ") ? message : `cannot open ${spec}: ${message}`);
  }
}

/**
 * Opens the port, gets a clean REPL and a hello from the service, runs `use`, and always closes the line. A line
 * that stays silent says so after a second and fails after the timeout, rather than through every retry.
 */
export async function withDevice<T>(values: OptionValues, io: CliIo, use: (session: DeviceSession) => Promise<T>): Promise<T> {
  const { port, spec, timeoutMs } = await openPortOption(values);
  const client = new DeviceClient(port, { responseTimeoutMs: timeoutMs });
  const interrupt = () => void client.close();
  io.signal.addEventListener("abort", interrupt);
  let heard = false;
  const onData = () => {
    heard = true;
    clearTimeout(notice);
    clearTimeout(silence);
  };
  port.on("data", onData);
  const notice = setTimeout(() => io.stderr.write(`waiting for the device on ${port.description}…\n`), WAITING_NOTICE_MS);
  const silence = setTimeout(() => void client.close(), timeoutMs);
  try {
    if (io.signal.aborted) throw new InterruptedError();
    try {
      await client.connect();
    } catch (error) {
      if (!heard && !io.signal.aborted) {
        throw new DeviceError(
          `nothing came back from ${port.description} in ${timeoutMs / 1000} s: is a device there, switched on, not connected to another program, and at this baud rate?`,
        );
      }
      if (error instanceof ProtocolError && error.code === "not-installed") {
        throw new DeviceError(`pstore is not installed on the device at ${spec}: run pstore install --board B --port ${spec} (B: its board, e.g. PUCKJS)`);
      }
      throw error;
    } finally {
      clearTimeout(notice);
      clearTimeout(silence);
      port.off("data", onData);
    }
    return await use({ client, port: port.description });
  } catch (error) {
    if (io.signal.aborted) throw new InterruptedError();
    throw error;
  } finally {
    io.signal.removeEventListener("abort", interrupt);
    await client.close().catch(() => {});
  }
}

/**
 * A spec like `nonsense://x` is a mistyped or unsupported transport, and `127.0.0.1:2323` a TCP address without
 * its scheme, not serial device paths: refused as a bad command line before the serial layer turns them into a
 * puzzling "no such file".
 */
function checkPortScheme(spec: string): void {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(spec);
  if (scheme && scheme[1] !== "tcp" && scheme[1].toLowerCase() !== "ble") {
    throw new UsageError(`--port ${JSON.stringify(spec)}: unknown scheme "${scheme[1]}://"; give a serial device (/dev/ttyACM0, COM3), tcp://host:port or ble://ADDRESS`);
  }
  if (/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/.test(spec) && !existsSync(spec)) {
    throw new UsageError(`--port ${JSON.stringify(spec)} looks like a TCP address: write tcp://${spec}`);
  }
}

/**
 * Each backend the device's status reports as not "ok", as `name (state: error)`. Its records cannot be listed or
 * pulled, and new ones are not stored: `status`, `list` and `pull` say so and exit with ExitCode.Device.
 */
export function failedBackends(status: Record<string, unknown>): string[] {
  const backends = Array.isArray(status.backends) ? (status.backends as Array<{ name?: unknown; state?: unknown; error?: unknown } | null>) : [];
  return backends
    .filter((b): b is { name?: unknown; state?: unknown; error?: unknown } => typeof b === "object" && b !== null && "state" in b && b.state !== "ok")
    .map((b) => `${printable(String(b.name))} (${printable(String(b.state))}${b.error ? `: ${printable(String(b.error), 200)}` : ""})`);
}

/** The line naming the failed backends, on stderr, and the exit code for it; `code` when none failed. */
export function reportFailedBackends(command: string, status: Record<string, unknown>, io: CliIo, code: ExitCode): ExitCode {
  const failed = failedBackends(status);
  if (failed.length === 0) return code;
  io.stderr.write(`pstore ${command}: the device reports a failed backend, whose records are not listed, pulled or stored: ${failed.join(", ")}\n`);
  return code === ExitCode.Ok ? ExitCode.Device : code;
}
