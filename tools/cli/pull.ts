// `pstore pull --port P --out DIR`: systemd-pstore for a device on a serial line.

import { archiveFrom } from "./archive-run";
import { requiredString, type Command } from "./command";
import { deviceIdOf, deviceSource, PORT_HELP, PORT_OPTIONS, reportFailedBackends, withDevice } from "./device";

export const pullCommand: Command = {
  name: "pull",
  summary: "fetch, verify, decode and archive every record, then erase it on the device",
  help: `Usage: pstore pull --port PORT --out DIR [--no-erase] [--json]

Fetches every record the device lists, checks its CRCs, joins its parts, decompresses it, decodes
traces into named call lines, and archives it under DIR/<device>/<boot>/ (README.md, "The archive").
Each file is written to a temporary name, flushed and renamed, and the folder flushed, before the
record is erased on the device; records already in the archive are not archived again, only erased.
A record that does not decompress or decode is archived raw (NAME.enc.lz4, NAME.enc.hs, NAME.enc.raw,
NAME.undecoded); one whose CRC fails is archived as NAME.corrupt and left on the device.
Stops at the first device or archive error: what was archived stays, nothing else is erased.

Options:
${PORT_HELP}
  -o, --out DIR       archive folder (created 0700 when missing)
      --no-erase      keep the records on the device
      --json          print the archived records as JSON instead of the summary
  -h, --help          this text

Exit codes: 0 everything archived; 2 bad command line; 3 port or device error, or a backend that
failed (the others' records are archived, and stderr names the failed one); 4 DIR cannot be
written (nothing more erased); 5 some records refused or corrupt (left on the device); 130 Ctrl-C.
`,
  options: {
    ...PORT_OPTIONS,
    out: { type: "string", short: "o" },
    "no-erase": { type: "boolean" },
    json: { type: "boolean" },
  },
  positionals: [],
  async run({ values }, io) {
    const out = requiredString(values, "out");
    return withDevice(values, io, async ({ client }) => {
      const status = await client.status();
      const code = await archiveFrom(deviceSource(client, deviceIdOf(status)), { out, erase: values["no-erase"] !== true, json: values.json === true }, io);
      return reportFailedBackends("pull", status, io, code);
    });
  },
};
