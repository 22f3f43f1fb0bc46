// `pstore decode IMAGE --board B --out DIR`: the archive a pull would make, from an image file, no device.

import { readFileSync } from "node:fs";
import { openImageSource } from "../image/source";
import { archiveFrom } from "./archive-run";
import { requiredString, type Command } from "./command";
import { DataError, ExitCode } from "./errors";

export const decodeCommand: Command = {
  name: "decode",
  summary: "archive the records found in a raw image file (a dump or a simulator image)",
  help: `Usage: pstore decode IMAGE --out DIR [--board B] [--device ID] [--json]

Scans IMAGE (written by \`pstore dump\` or by \`pstore sim --image\`) the way the device's own boot scan
would, and archives every intact record into DIR exactly as \`pstore pull\` does: verified, joined,
decompressed, traces decoded, dmesg.txt rebuilt, records.jsonl updated, nothing duplicated. Every page
the image holds is read and none is given up, whatever zones the device used. A valid retained-RAM area
(console tail and breadcrumb not yet committed by a boot) is archived as console-ram-0. The image says
where pstore's pages are (format 2); an older image (format 1) is read with the definition of its board.
An image cut short or partly unreadable is decoded as far as it goes: each thing lost is named in a
warning on stderr, and the exit code is 5.

Options:
  -o, --out DIR       archive folder (created 0700 when missing)
  -b, --board B       board the image was taken from; must match the image header (default: the header's)
      --device ID     device id for the archive folder (default "<BOARD> image")
      --json          print the archived records as JSON (docs/JSON.md) instead of the summary
  -h, --help          this text

Exit codes: 0 all archived; 2 bad command line; 4 DIR cannot be written;
5 IMAGE does not parse, is cut short or holds something unreadable (what it holds is archived), or
some records were refused or failed their CRC (archived raw as *.corrupt).
`,
  options: {
    out: { type: "string", short: "o" },
    board: { type: "string", short: "b" },
    device: { type: "string" },
    json: { type: "boolean" },
  },
  positionals: ["image"],
  async run({ values, positionals }, io) {
    const out = requiredString(values, "out");
    const path = positionals[0];
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(path));
    } catch (error) {
      throw new DataError(`cannot read image ${path}: ${(error as Error).message}`);
    }
    const source = openImageSource(bytes, path, values.board as string | undefined, values.device as string | undefined);
    for (const warning of source.warnings) io.stderr.write(`pstore decode: warning: ${warning}\n`);
    const code = await archiveFrom(source, { out, erase: false, json: values.json === true, kind: "decode" }, io);
    return source.warnings.length ? ExitCode.Data : code;
  },
};
