// `pstore status --port P`: the store's state on the device: boot counter, reset reason, backends, zones.

import type { BackendStatus, ZoneStatus } from "../../pstore/backend";
import type { Command } from "./command";
import { deviceIdOf, PORT_HELP, PORT_OPTIONS, reportFailedBackends, withDevice } from "./device";
import { ExitCode } from "./errors";
import { jsonDocument } from "../json/schema";
import { printable } from "./story";
import { formatBytes, formatTable } from "./table";

export const statusCommand: Command = {
  name: "status",
  summary: "show the store's state on the device (boot, reset reason, backends, zones)",
  help: `Usage: pstore status --port PORT [--json]

Asks the device's pstore service for its status: device (board and serial), boot counter, last
reset reason, next sequence number, and per backend its state and zones (pages, bytes used and
free, spare pages for the crash path, erase counts, records, dropped records, pending erases).
\`pstore install\` reads it to confirm the firmware runs.

Options:
${PORT_HELP}
      --json          the device id and the status object exactly as the device sent it (docs/JSON.md)
  -h, --help          this text

Exit codes: 0 shown; 2 bad command line; 3 port or device error (no pstore on it), or a backend
that failed (the status is shown, and stderr names the backend and its error); 130 Ctrl-C.
`,
  options: { ...PORT_OPTIONS, json: { type: "boolean" } },
  positionals: [],
  async run({ values }, io) {
    const status = await withDevice(values, io, ({ client }) => client.status());
    io.stdout.write(values.json ? JSON.stringify(jsonDocument("status", { device: deviceIdOf(status), status }), null, 2) + "\n" : formatStatus(status));
    return reportFailedBackends("status", status, io, ExitCode.Ok);
  },
};

export function resetLine(status: Record<string, unknown>): string {
  const reset = status.reset as { cause?: unknown; crashes?: unknown } | undefined;
  const cause = String(reset?.cause ?? status.lastResetReason ?? "unknown");
  return reset && typeof reset.crashes === "number" ? `${cause} (${reset.crashes} crash${reset.crashes === 1 ? "" : "es"} in a row)` : cause;
}

export function formatStatus(status: Record<string, unknown>): string {
  const lines = [
    `device:      ${printable(deviceIdOf(status))}`,
    `boot:        ${printable(String(status.boot ?? "?"))}`,
    `last reset:  ${printable(resetLine(status))}`,
    `next seq:    ${printable(String(status.nextSeq ?? "?"))}`,
  ];
  const backends = Array.isArray(status.backends) ? (status.backends as BackendStatus[]) : [];
  for (const b of backends) {
    const extra = Object.entries(b)
      .filter(([k, v]) => !["name", "state", "error", "zones", "nextSeq"].includes(k) && typeof v !== "object")
      .map(([k, v]) => `${k} ${v}`);
    lines.push(`backend ${printable(String(b.name))}: ${printable(String(b.state))}${b.error ? ` (${printable(String(b.error), 200)})` : ""}${extra.length ? `, ${printable(extra.join(", "), 200)}` : ""}`);
    const zones = Array.isArray(b.zones) ? (b.zones as ZoneStatus[]) : [];
    if (zones.length) {
      const table = formatTable(
        ["ZONE", "POLICY", "PAGES", "USED", "FREE", "SPARE", "CRASH FREE", "ERASES", "RECORDS", "DROPS", "PENDING"],
        zones.map((z) => [
          printable(String(z.name)),
          printable(String(z.policy)),
          String(z.pages),
          formatBytes(Number(z.bytesUsed)),
          formatBytes(Number(z.bytesFree)),
          String(z.sparePages),
          formatBytes(Number(z.crashFree)),
          `${z.eraseMin}..${z.eraseMax}`,
          String(z.records),
          String(z.drops),
          String(z.pendingErases),
        ]),
      );
      lines.push(table.replace(/^/gm, "  ").trimEnd());
    }
  }
  return lines.join("\n") + "\n";
}
