// Opening a device for a subcommand: the port from --port/$PSTORE_PORT, a DeviceClient with a clean REPL, the
// device's identity from its status and the device as a RecordSource (both in tools/protocol/source.ts). Ctrl-C
// closes the line, which ends whatever call is waiting, and the command exits 130.

import { InterruptedError } from "../archive/collect";
import { DEFAULT_BAUD, openPort } from "../ports/index";
import { DeviceClient } from "../protocol/client";
import { PORT_OPTIONS, positiveNumber, requiredString, type CliIo, type OptionValues } from "./command";
import { DeviceError, UsageError } from "./errors";

export { PORT_OPTIONS };
export { deviceIdOf, deviceSource } from "../protocol/source";

export const PORT_HELP = `  -p, --port PORT     serial device (/dev/ttyACM0, /dev/rfcomm0, COM3) or tcp://host:port;
                      default $PSTORE_PORT
      --baud N        serial baud rate (default ${DEFAULT_BAUD}; USB CDC and TCP ignore it)
      --timeout S     seconds without an answer before a call fails (default 5)`;

export interface DeviceSession {
  client: DeviceClient;
  /** What the port is, for messages. */
  port: string;
}

/** Opens the port, gets a clean REPL and a hello from the service, runs `use`, and always closes the line. */
export async function withDevice<T>(values: OptionValues, io: CliIo, use: (session: DeviceSession) => Promise<T>): Promise<T> {
  const spec = requiredString(values, "port", process.env.PSTORE_PORT);
  checkPortScheme(spec);
  const baud = positiveNumber(values, "baud", DEFAULT_BAUD);
  const timeoutMs = positiveNumber(values, "timeout", 5) * 1000;
  let port;
  try {
    port = await openPort(spec, { baud, timeoutMs });
  } catch (error) {
    const message = (error as Error).message;
    // The port layer's own messages already say "cannot open X …" or "cannot connect to X …".
    throw new DeviceError(message.startsWith("cannot ") ? message : `cannot open ${spec}: ${message}`);
  }
  const client = new DeviceClient(port, { responseTimeoutMs: timeoutMs });
  const interrupt = () => void client.close();
  io.signal.addEventListener("abort", interrupt);
  try {
    if (io.signal.aborted) throw new InterruptedError();
    await client.connect();
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
 * A spec like `nonsense://x` is a mistyped or unsupported transport, not a serial device path: refused as a bad
 * command line before the serial layer turns it into a puzzling "no such file".
 */
function checkPortScheme(spec: string): void {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(spec);
  if (scheme && scheme[1] !== "tcp") {
    throw new UsageError(`--port ${JSON.stringify(spec)}: unknown scheme "${scheme[1]}://"; give a serial device (/dev/ttyACM0, COM3) or tcp://host:port`);
  }
}
