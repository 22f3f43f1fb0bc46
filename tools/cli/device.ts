// Opening a device for a subcommand: the port from --port/$PSTORE_PORT, a DeviceClient with a clean REPL, the
// device's identity from its status, and the device as a RecordSource for the pull pipeline. Ctrl-C closes the
// line, which ends whatever call is waiting, and the command exits 130.

import type { RecordSource, SourceRecord } from "../archive/collect";
import { InterruptedError } from "../archive/collect";
import { existsSync } from "node:fs";
import { SERVICE_MODULE } from "../../firmware/service";
import { DEFAULT_BAUD, openPort, type Port } from "../ports/index";
import { DeviceClient } from "../protocol/client";
import { PORT_OPTIONS, positiveNumber, requiredString, type CliIo, type OptionValues } from "./command";
import { DeviceError, UsageError } from "./errors";

export { PORT_OPTIONS };

export const PORT_HELP = `  -p, --port PORT     serial device (/dev/ttyACM0, COM3), tcp://host:port, or a Bluetooth LE
                      device: ble://AA:BB:CC:DD:EE:FF or ble:NAME (pstore ports lists them);
                      default $PSTORE_PORT
      --baud N        serial baud rate (default ${DEFAULT_BAUD}; USB CDC, TCP and BLE ignore it)
      --timeout S     seconds without an answer before a call fails (default 5); a BLE
                      device is looked for twice as long`;

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
  const baud = positiveNumber(values, "baud", DEFAULT_BAUD);
  const timeoutMs = positiveNumber(values, "timeout", 5) * 1000;
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
      // Espruino says `Module "pstoresvc" not found` when the service module is not in Storage.
      if (error instanceof Error && new RegExp(`Module \\W*${SERVICE_MODULE}\\W* not found`).test(error.message)) {
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
 * "PUCKJS 7f3a1c2b…": board and serial number as the device reports them in its status (`board`, `serial`),
 * which name the archive's device folder. A device that does not say gets "unknown".
 */
export function deviceIdOf(status: Record<string, unknown>): string {
  const text = (value: unknown) => (typeof value === "string" || typeof value === "number" ? String(value) : "");
  const id = [text(status.board), text(status.serial)].filter((s) => s !== "").join(" ");
  return id || "unknown";
}

/** Bytes a record takes on the line: payload, plus header and commit word and padding per part. */
function wireSize(record: SourceRecord): number {
  return record.storedLength + record.parts * 55;
}

/**
 * Records of a device for collectRecords. `list` pulls every record in one stream (DeviceClient.fetchAll) and
 * `fetch` hands out those images; when the device has no bulk call or the stream did not hold together, it lists
 * with `l` and fetches each record with `g` as before. Each listed name once, none lost.
 */
export function deviceSource(client: DeviceClient, deviceId: string): RecordSource {
  const pulled = new Map<string, Uint8Array[]>();
  return {
    deviceId,
    list: async () => {
      pulled.clear();
      const bulk = await client.fetchAll();
      for (const record of bulk.records) pulled.set(record.name, record.images);
      if (bulk.complete) return bulk.records;
      return client.list();
    },
    fetch: async (record, progress) => {
      const images = pulled.get(record.name);
      if (images) {
        pulled.delete(record.name);
        const size = images.reduce((n, image) => n + image.length, 0);
        progress(size, size);
        return images;
      }
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
