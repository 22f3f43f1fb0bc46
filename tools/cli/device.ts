// Opening a device for a subcommand: the port from --port/$PSTORE_PORT, a DeviceClient with a clean REPL, the
// device's identity from its status, and the device as a RecordSource for the pull pipeline. Ctrl-C closes the
// line, which ends whatever call is waiting, and the command exits 130.

import type { RecordSource, SourceRecord } from "../archive/collect";
import { InterruptedError } from "../archive/collect";
import { DEFAULT_BAUD, openPort } from "../ports/index";
import { DeviceClient } from "../protocol/client";
import { PORT_OPTIONS, positiveNumber, requiredString, type CliIo, type OptionValues } from "./command";
import { DeviceError, UsageError } from "./errors";

export { PORT_OPTIONS };

export const PORT_HELP = `  -p, --port PORT     serial device (/dev/ttyACM0, /dev/rfcomm0, COM3) or tcp://host:port;
                      default $PSTORE_PORT
      --baud N        serial baud rate (default ${DEFAULT_BAUD}; USB CDC and TCP ignore it)
      --timeout S     seconds a request may wait for its answer's next intact frame
                      (default 5, 0.1 to 3600)`;

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

/** Opens the port, gets a clean REPL and a hello from the service, runs `use`, and always closes the line. */
export async function withDevice<T>(values: OptionValues, io: CliIo, use: (session: DeviceSession) => Promise<T>): Promise<T> {
  const spec = requiredString(values, "port", process.env.PSTORE_PORT);
  checkPortScheme(spec);
  const baud = baudOption(values);
  const timeoutMs = timeoutOption(values);
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

/**
 * "PUCKJS 7f3a1c2b…": board and serial number as the device reports them in its status (`board`, `serial`),
 * which name the archive's device folder. A device that does not say gets "unknown".
 */
export function deviceIdOf(status: Record<string, unknown>): string {
  const text = (value: unknown) => (typeof value === "string" || typeof value === "number" ? String(value) : "");
  const id = [text(status.board), text(status.serial)].filter((s) => s !== "").join(" ");
  return id || "unknown";
}

export interface DeviceIdentity {
  deviceId: string;
  /** Why this device's records may not be erased: it cannot be told apart from another one. */
  eraseRefusal?: string;
}

/**
 * Who the device is, for the archive: `--device ID` when given (the user vouches for it), otherwise board and serial
 * from its status. Without a serial number two devices would share one folder, so nothing of it is erased.
 */
export function deviceIdentity(status: Record<string, unknown>, given: string | undefined): DeviceIdentity {
  if (given !== undefined && given !== "") return { deviceId: given };
  const deviceId = deviceIdOf(status);
  const serial = status.serial;
  if ((typeof serial === "string" && serial !== "") || typeof serial === "number") return { deviceId };
  return {
    deviceId,
    eraseRefusal: "the device reports no serial number, so its records cannot be told from another device's; name it with --device ID to erase",
  };
}

/** Bytes a record takes on the line: payload, plus header and commit word and padding per part. */
function wireSize(record: SourceRecord): number {
  return record.storedLength + record.parts * 55;
}

/**
 * Records of a device for collectRecords. `list` pulls every record in one stream (DeviceClient.fetchAll), each
 * listed with its images; when the device has no bulk call or the stream did not hold together, it lists with `l`
 * and `fetch` gets each record with `g`.
 */
export function deviceSource(client: DeviceClient, identity: DeviceIdentity): RecordSource {
  return {
    ...identity,
    list: async () => {
      const bulk = await client.fetchAll();
      if (bulk.complete) return bulk.records;
      return client.list();
    },
    fetch: async (record, progress) => {
      const parts: Uint8Array[] = [];
      let before = 0;
      const estimate = wireSize(record);
      for (let part = 0; part < record.parts; part++) {
        const bytes = await client.fetchPart(record.name, part, {
          onProgress: (done) => progress(before + done, Math.max(estimate, before + done)),
        });
        before += bytes.length;
        parts.push(bytes);
      }
      progress(before, before);
      return parts;
    },
    erase: (name) => client.erase(name),
  };
}
