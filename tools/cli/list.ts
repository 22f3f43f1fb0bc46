// `pstore list --port P`: what the device holds, without fetching anything.

import { recordJson } from "../archive/record-json";
import { jsonDocument } from "../json/schema";
import type { Command } from "./command";
import { PORT_HELP, PORT_OPTIONS, reportFailedBackends, withDevice } from "./device";
import { ExitCode } from "./errors";
import { formatBytes, formatTable, formatWhen } from "./table";

export const listCommand: Command = {
  name: "list",
  summary: "show the records stored on the device",
  help: `Usage: pstore list --port PORT [--json]

Lists the intact records the device holds: name, type, reason, boot, time (wall clock when the
device had it set, otherwise uptime since that boot), decoded size, stored size and codec, parts.

Options:
${PORT_HELP}
      --json          the records as JSON (docs/JSON.md)
  -h, --help          this text

Exit codes: 0 listed; 2 bad command line; 3 port or device error, or a backend that failed (the
records of the others are listed, and stderr names the failed one); 130 Ctrl-C.
`,
  options: { ...PORT_OPTIONS, json: { type: "boolean" } },
  positionals: [],
  async run({ values }, io) {
    const { records, status } = await withDevice(values, io, async ({ client }) => ({ status: await client.status(), records: await client.list() }));
    const rows = records.map(recordJson);
    if (values.json) {
      io.stdout.write(JSON.stringify(jsonDocument("list", { records: rows }), null, 2) + "\n");
    } else if (rows.length === 0) {
      io.stdout.write("no records on the device\n");
    } else {
      io.stdout.write(
        formatTable(
          ["NAME", "TYPE", "REASON", "BOOT", "TIME", "SIZE", "STORED", "PARTS"],
          rows.map((r) => [
            r.name,
            r.type,
            r.reason,
            String(r.boot),
            formatWhen(r.time, r.uptimeMs),
            formatBytes(r.originalBytes),
            `${formatBytes(r.storedBytes)} ${r.codec}`,
            String(r.parts),
          ]),
        ),
      );
    }
    return reportFailedBackends("list", status, io, ExitCode.Ok);
  },
};
