// `pstore pull --port P --out DIR`: systemd-pstore for a device on a serial line.

import { archiveFrom } from "./archive-run";
import { requiredString, type Command } from "./command";
import { deviceIdentity, deviceSource, PORT_HELP, PORT_OPTIONS, reportFailedBackends, withDevice } from "./device";

export const pullCommand: Command = {
  name: "pull",
  summary: "fetch, verify, decode and archive every record, then erase it on the device",
  help: `Usage: pstore pull --port PORT --out DIR [--no-erase] [--device ID] [--json]

Fetches every record the device lists, checks its CRCs, joins its parts, decompresses it, decodes
traces into named call lines, and archives it under DIR/<device>/<boot>/ (README.md, "The archive").
Each file is written to a temporary name, flushed and renamed, and the folder flushed; when every
record is archived, those whose content (the CRC of every part) the archive holds are erased on the
device. A record whose content is archived already is not archived again; a different record under
a name already used (the device was wiped) is archived beside it as NAME~2.
A record that does not decompress or decode is archived raw (NAME.enc.lz4, NAME.enc.hs, NAME.enc.raw,
NAME.undecoded); one whose CRC fails is archived as NAME.corrupt and left on the device.
Stops at the first device or archive error: what was archived stays, nothing is erased.
A device that reports no serial number is archived but not erased unless --device names it.

Options:
${PORT_HELP}
  -o, --out DIR       archive folder (created 0700 when missing)
      --no-erase      keep the records on the device
      --device ID     the device folder's name instead of the board and serial the device reports
      --json          print the archived records as JSON (docs/JSON.md) instead of the summary
  -h, --help          this text

Exit codes: 0 everything archived; 2 bad command line; 3 port or device error, or a backend that
failed (the others' records are archived, and stderr names the failed one); 4 DIR cannot be
written (nothing erased); 5 some records refused, corrupt or not erased (left on the device); 130 Ctrl-C.
`,
  options: {
    ...PORT_OPTIONS,
    out: { type: "string", short: "o" },
    "no-erase": { type: "boolean" },
    device: { type: "string" },
    json: { type: "boolean" },
  },
  positionals: [],
  async run({ values }, io) {
    const out = requiredString(values, "out");
    return withDevice(values, io, async ({ client }) => {
      const status = await client.status();
      const identity = deviceIdentity(status, values.device as string | undefined);
      const code = await archiveFrom(deviceSource(client, identity), { out, erase: values["no-erase"] !== true, json: values.json === true, kind: "pull" }, io);
      return reportFailedBackends("pull", status, io, code);
    });
  },
};
