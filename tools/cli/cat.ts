// `pstore cat NAME --port P`: one record, verified and decoded, on stdout. Nothing is archived or erased.

import { decodeRecord } from "../archive/record";
import { describeName } from "../archive/safe-names";
import { recordNameArgument, type Command } from "./command";
import { deviceSource, PORT_HELP, PORT_OPTIONS, withDevice } from "./device";
import { DataError, ExitCode } from "./errors";
import { ProgressBar } from "./progress";

export const catCommand: Command = {
  name: "cat",
  summary: "print one record, verified and decoded",
  help: `Usage: pstore cat NAME --port PORT [--raw]

Fetches record NAME (as \`pstore list\` shows it), checks its CRCs, joins and decompresses it, and
writes the content to stdout: text for dmesg, console, pmsg and event records, call lines for
ftrace records. The record stays on the device.

Options:
${PORT_HELP}
      --raw           write the stored parts exactly as fetched (headers included) instead
  -h, --help          this text

Exit codes: 0 printed; 2 bad command line; 3 port or device error; 5 no such record, or it failed
verification or decoding (the reason goes to stderr); 130 Ctrl-C.
`,
  options: { ...PORT_OPTIONS, raw: { type: "boolean" } },
  positionals: ["name"],
  async run({ values, positionals }, io) {
    const name = recordNameArgument(positionals[0]);
    const bar = new ProgressBar(io.stderr);
    const parts = await withDevice(values, io, async ({ client }) => {
      const record = (await client.list()).find((r) => r.name === name);
      if (!record) throw new DataError(`no record ${describeName(name)} on the device (see pstore list)`);
      try {
        return await deviceSource(client, { deviceId: "" }).fetch(record, (done, total) => bar.update(name, done, total));
      } finally {
        bar.clear();
      }
    });
    if (values.raw) {
      for (const part of parts) io.stdout.write(part);
      return ExitCode.Ok;
    }
    const decoded = decodeRecord(name, parts);
    if (decoded.outcome === "dropped") {
      io.stderr.write(`pstore cat: ${decoded.problem}\n`);
      return ExitCode.Ok;
    }
    if (decoded.outcome !== "ok") throw new DataError(`${decoded.problem} (use --raw for the bytes as stored)`);
    // The record as stored, not the archive's text view: what the device wrote, byte for byte.
    io.stdout.write((decoded.files.find((f) => f.suffix === ".raw") ?? decoded.files[0]).data);
    return ExitCode.Ok;
  },
};
