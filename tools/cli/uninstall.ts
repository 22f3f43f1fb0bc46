// `pstore uninstall --board B --port P --out DIR`: pulls every record into the archive, stops pstore, erases its
// files and restarts the interpreter without it. The store stays unless --purge: a later install finds its records.

import { archiveFrom } from "./archive-run";
import { APP_INFO_FILE, MODULE_FILE, PAGE_FILES, SERVICE_FILE, SETTINGS_FILE, isBangle } from "../build/installed-files";
import { boardOption, requiredString, type Command } from "./command";
import { deviceIdentity, deviceSource, PORT_HELP, PORT_OPTIONS, withDevice } from "./device";
import { ExitCode, UsageError } from "./errors";
import { withStorageSession } from "./storage-session";

export const uninstallCommand: Command = {
  name: "uninstall",
  summary: "pull every record, then remove pstore from the device",
  help: `Usage: pstore uninstall --board B --port PORT (--out DIR | --force) [--purge]

Pulls every record into DIR as \`pstore pull\` does (stopping at the first error, with nothing removed),
then stops pstore (its boot file taken away, then reset()) and erases the module "pstore", the service
module "pstoresvc" and the boot file (on Bangle.js also "${APP_INFO_FILE}"; the boot app drops pstore
from .boot0 at the restart), and restarts the interpreter with load(): a bare interpreter with your
program. The store is left (pstore.json, the storage backend's pstore.p0, pstore.p1, … files, the flash backend's
pages): a later \`pstore install\` finds its records.

Options:
  -b, --board B       the board (PUCKJS, PIXLJS, MDBT42Q, BANGLEJS2, JOLTJS, PICO, ...)
${PORT_HELP}
  -o, --out DIR       archive folder for the pull
      --device ID     the device folder of the pull (needed to erase on a device that reports no serial)
      --force         skip the pull: records not archived yet are lost with --purge
      --purge         also erase the store: pstore.json and the pstore.p* Storage files (flash-backend pages
                      below Storage are left as they are: nothing else uses them)
  -h, --help          this text

Exit codes: 0 removed; 2 bad command line; 3 port or device error; 4 DIR cannot be written; 5 records
refused or corrupt (left on the device, and pstore with them); 130 Ctrl-C.
`,
  options: {
    ...PORT_OPTIONS,
    board: { type: "string", short: "b" },
    out: { type: "string", short: "o" },
    force: { type: "boolean" },
    purge: { type: "boolean" },
    device: { type: "string" },
  },
  positionals: [],
  async run({ values }, io) {
    const boardName = boardOption(requiredString(values, "board")).name;
    if (values.force !== true) {
      if (typeof values.out !== "string") throw new UsageError("pstore uninstall: --out DIR (where the records are pulled first) or --force");
      const out = values.out;
      const pulled = await withDevice(values, io, async ({ client }) => {
        const identity = deviceIdentity(await client.status(), values.device as string | undefined);
        return archiveFrom(deviceSource(client, identity), { out, erase: true, json: false, kind: "pull" }, io);
      });
      if (pulled !== ExitCode.Ok) return pulled;
    }
    await withStorageSession(values, io, async (session) => {
      await session.stopPstore(boardName);
      const files = [MODULE_FILE, SERVICE_FILE];
      if (isBangle(boardName)) files.push(APP_INFO_FILE);
      if (values.purge === true) files.push(SETTINGS_FILE, ...(await session.list(PAGE_FILES)));
      for (const name of files) if (await session.eraseFile(name)) io.stdout.write(`erased ${name}\n`);
      await session.restart(boardName);
    });
    io.stdout.write(`pstore is no longer installed${values.purge === true ? "; its store is erased" : "; its store is kept for a later install"}\n`);
    return ExitCode.Ok;
  },
};
