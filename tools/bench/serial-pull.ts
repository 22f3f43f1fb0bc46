// Serial pull section: how much of the line carries record data when the host pulls a full store, and what that
// means in time on real links. The host's DeviceClient (tools/protocol) talks over an in-memory line
// (tools/ports/memory) to the simulated Espruino (tools/sim/espruino) running the board's real bundle (tools/build),
// whose store was filled beforehand (fill.ts). Bytes are counted on loopback; link times are modelled from them:
// every byte in either direction is charged at the link's rate as if the line carried one direction at a time
// (requests and answers alternate), and round-trip latency and device processing time are left out.

import { getBoard } from "../../boards/index";
import { createLinkedPorts } from "../ports/memory";
import { uartBytesPerSecond } from "../ports/throttle";
import { DeviceClient, type WireStats } from "../protocol/client";
import { buildBoard } from "../build/build";
import { SimDevice } from "../sim/espruino/device";
import { SERVICE_MODULE } from "../../firmware/service";
import { fillStore } from "./fill";

/** Links the pull time is modelled for, in bytes per second. */
export const LINKS: Array<{ name: string; bytesPerSecond: number }> = [
  { name: "9600 baud", bytesPerSecond: uartBytesPerSecond(9600) },
  { name: "115200 baud", bytesPerSecond: uartBytesPerSecond(115200) },
  { name: "Bluetooth LE (~2 KB/s)", bytesPerSecond: 2000 },
];
/** The board the pull is measured on: the project's main target, a flash-backend nRF52. */
const SERIAL_PULL_BOARD = "PUCKJS";
/** Virtual milliseconds the simulated device runs per real millisecond of the pump. */
const PUMP_MS = 20;

export interface SerialPullRow {
  board: string;
  /** "pull": every part of every record in one bulk stream (DeviceClient.fetchAll); "dump": the whole region raw. */
  operation: "pull" | "dump";
  records: number;
  /** Bytes of record data (stored payloads) for a pull; region bytes for a dump. */
  payloadBytes: number;
  /** Binary bytes the client accepted into transfers (record parts with headers, or dump areas). */
  transferBytes: number;
  bytesSent: number;
  bytesReceived: number;
  /** payloadBytes / (bytesSent + bytesReceived). */
  payloadPerWireByte: number;
  /** Modelled seconds per link, in the order of LINKS. */
  seconds: Array<{ link: string; seconds: number }>;
}

function delta(after: WireStats, before: WireStats): WireStats {
  const out = { ...after };
  for (const key of Object.keys(out) as Array<keyof WireStats>) out[key] = after[key] - before[key];
  return out;
}

function row(board: string, operation: SerialPullRow["operation"], records: number, payloadBytes: number, wire: WireStats): SerialPullRow {
  const total = wire.bytesSent + wire.bytesReceived;
  return {
    board,
    operation,
    records,
    payloadBytes,
    transferBytes: wire.payloadBytes,
    bytesSent: wire.bytesSent,
    bytesReceived: wire.bytesReceived,
    payloadPerWireByte: payloadBytes / total,
    seconds: LINKS.map((link) => ({ link: link.name, seconds: total / link.bytesPerSecond })),
  };
}

export async function benchSerialPull(text: Uint8Array, boardName = SERIAL_PULL_BOARD): Promise<SerialPullRow[]> {
  const board = getBoard(boardName);
  const build = await buildBoard(board.name, { dryRun: true });
  if (!build.code.module || !build.code.svc || !build.code.boot) throw new Error(`${board.name}: the build made no module, service module or boot bundle`);
  const filled = fillStore(board, text);
  const device = new SimDevice({ board, flash: filled.flash });
  device.writeFile("pstore", build.code.module);
  device.writeFile(SERVICE_MODULE, build.code.svc);
  device.writeFile(".boot1", build.code.boot);
  device.reboot();

  const { host, device: line } = createLinkedPorts("bench line");
  line.on("data", (bytes) => device.write(bytes));
  device.on("output", (bytes) => {
    if (line.isOpen) line.write(bytes);
  });
  const pump = setInterval(() => device.advance(PUMP_MS), 1);
  const client = new DeviceClient(host);
  try {
    await client.connect();
    const start = client.stats;
    // What `pstore pull` does: every record in one bulk stream.
    const bulk = await client.fetchAll();
    if (!bulk.complete) throw new Error(`${board.name}: the bulk pull fell back: ${bulk.fallback}`);
    const records = bulk.records;
    const payloadBytes = records.reduce((n, record) => n + record.storedLength, 0);
    const afterPull = client.stats;
    const dump = await client.dump();
    const regionBytes = dump.spans.reduce((n, span) => n + span.length, 0) + dump.retained.length;
    if (records.length === 0) throw new Error(`${board.name}: the simulated device listed no record`);
    return [
      row(board.name, "pull", records.length, payloadBytes, delta(afterPull, start)),
      row(board.name, "dump", records.length, regionBytes, delta(client.stats, afterPull)),
    ];
  } finally {
    clearInterval(pump);
    await client.close().catch(() => {});
  }
}
