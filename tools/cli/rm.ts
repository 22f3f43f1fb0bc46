// `pstore rm NAME --port P`: erase one record on the device without archiving it.

import { describeName } from "../archive/safe-names";
import { recordNameArgument, type Command } from "./command";
import { PORT_HELP, PORT_OPTIONS, withDevice } from "./device";
import { DataError, ExitCode } from "./errors";

export const rmCommand: Command = {
  name: "rm",
  summary: "erase one record on the device (without archiving it)",
  help: `Usage: pstore rm NAME --port PORT

Erases record NAME (every part of it) on the device. It is not archived first: use \`pstore pull\`
to keep a copy. The flash page is reclaimed by the device at idle once none of its records is live.

Options:
${PORT_HELP}
  -h, --help          this text

Exit codes: 0 erased; 2 bad command line; 3 port or device error; 5 no such record; 130 Ctrl-C.
`,
  options: { ...PORT_OPTIONS },
  positionals: ["name"],
  async run({ values, positionals }, io) {
    const name = recordNameArgument(positionals[0]);
    const erased = await withDevice(values, io, ({ client }) => client.erase(name));
    if (!erased) throw new DataError(`no record ${describeName(name)} on the device (see pstore list)`);
    io.stdout.write(`erased ${name}\n`);
    return ExitCode.Ok;
  },
};
