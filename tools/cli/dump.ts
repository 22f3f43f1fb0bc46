// `pstore dump --port P --out IMAGE`: the raw pstore region and retained RAM, for post-mortem work when the
// store itself is damaged (what dd of the medium is on Linux). `pstore decode` reads the result.

import { basename, dirname, resolve } from "node:path";
import { getBoard } from "../../boards/index";
import type { BoardDefinition } from "../../boards/types";
import { encodeImage, type ImageKind } from "../../hal/sim/image";
import { imageFromDump } from "../image/dump-image";
import { DurableWriter } from "../archive/durable";
import { boardOption, type Command } from "./command";
import { PORT_HELP, PORT_OPTIONS, withDevice } from "./device";
import { DataError, ExitCode, UsageError } from "./errors";
import { ProgressBar } from "./progress";
import { formatBytes } from "./table";

export const dumpCommand: Command = {
  name: "dump",
  summary: "copy the raw pstore flash region and retained RAM into an image file",
  help: `Usage: pstore dump --port PORT --out IMAGE [--board B]

Copies the device's pstore region (flash backend) or the Storage area its files pstore.p0, pstore.p1, …
live in, headers included (storage backend), and its retained RAM, byte for byte, each chunk CRC-checked on
the line, into IMAGE in the image file format with the layout of pstore's pages (docs/FORMAT.md,
"Image files"), so IMAGE decodes without the board definition. Nothing on the device changes.
Read it back with \`pstore decode IMAGE --out DIR\`. IMAGE is written 0600 through a temporary
file and renamed when complete.

Options:
${PORT_HELP}
  -o, --out IMAGE     image file to write
  -b, --board B       board name for the image header when the device's status does not give one
  -h, --help          this text

Exit codes: 0 written; 2 bad command line; 3 port or device error; 4 IMAGE cannot be written;
5 the device's dump does not fit its board or holds no pstore pages (a device whose service
sends no Storage spans: nothing is written); 130 Ctrl-C.
`,
  options: { ...PORT_OPTIONS, out: { type: "string", short: "o" }, board: { type: "string", short: "b" } },
  positionals: [],
  async run({ values }, io) {
    const out = typeof values.out === "string" && values.out !== "" ? resolve(values.out) : undefined;
    if (!out) throw new UsageError("--out is required");
    const named = typeof values.board === "string" ? boardOption(values.board).name : undefined;
    const bar = new ProgressBar(io.stderr);
    const { board, kind, dump } = await withDevice(values, io, async ({ client }) => {
      const status = await client.status();
      const board = typeof status.board === "string" ? status.board : named;
      if (!board) throw new UsageError("the device's status names no board: give --board");
      const backends = Array.isArray(status.backends) ? (status.backends as Array<{ name?: unknown; state?: unknown }>) : [];
      const kind: ImageKind = backends.some((b) => b.name === "storage" && b.state === "ok") ? "storage" : "flash";
      try {
        return { board, kind, dump: await client.dump((done, total) => bar.update("dump", done, total ?? done)) };
      } finally {
        bar.clear();
      }
    });
    let definition: BoardDefinition;
    try {
      definition = getBoard(board);
    } catch (error) {
      throw new DataError(`the device says it is a ${board}: ${(error as Error).message}`);
    }
    const image = imageFromDump(definition, kind, dump);
    new DurableWriter().writeFile(dirname(out), basename(out), encodeImage(image));
    const pages = image.layout!.pages.length;
    const sizes = dump.info.spans.map((s) => `0x${s.addr.toString(16)}+${formatBytes(s.size)}`).join(", ");
    io.stdout.write(`wrote ${out}: ${board} ${kind} image, ${pages} page${pages === 1 ? "" : "s"} in ${sizes}${dump.retained.length ? `, retained ${formatBytes(dump.retained.length)}` : ""}\n`);
    return ExitCode.Ok;
  },
};
