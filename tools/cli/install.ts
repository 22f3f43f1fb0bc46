// `pstore install --board B --port P`: writes the board's bundles to the device's Storage (the module as
// "pstore", the service module as "pstoresvc", the boot code as the board's boot file, on Bangle.js also the App
// Loader's pstore.info), after stopping a running pstore (storage-session.ts), restarts the interpreter, and
// confirms pstore runs by reading its status. The records already stored stay.

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { APP_FOLDER, APP_INFO_FILE, BANGLE_BOOT_FILE, MODULE_FILE, SERVICE_FILE, appInfo, bootFileOf, isBangle } from "../build/installed-files";
import { BundleError, DEFAULT_DIST, loadBundles } from "./bundles";
import { boardOption, requiredString, type Command } from "./command";
import { deviceIdOf, PORT_HELP, PORT_OPTIONS, withDevice } from "./device";
import { DataError, DeviceError, ExitCode } from "./errors";
import { resetLine } from "./status";
import { withStorageSession } from "./storage-session";
import { printable } from "./story";

export const installCommand: Command = {
  name: "install",
  summary: "write the module, service module and boot code to Storage; confirm pstore runs",
  help: `Usage: pstore install --board B --port PORT [--dist DIR] [--build]

Stops a running pstore (its boot file taken away, then reset(); its records are written and kept),
writes dist/<B>/pstore.js to the device's Storage as the module "pstore", dist/<B>/pstore.svc.js as
the service module "pstoresvc" (the host's requests and the read side), and dist/<B>/pstore.boot.js
as boot code, last: ".boot1", which runs at every boot before your program; on Bangle.js
"${BANGLE_BOOT_FILE}", which the bootloader folds into .boot0 ahead of the other boot files, with
"${APP_INFO_FILE}" so that the App Loader lists pstore. Each file is checked on the device by CRC-32.
Then it restarts the interpreter with load() (on Bangle.js the boot app rebuilds .boot0) and reads
\`pstore status\` to confirm pstore runs. Builds the bundles first when they are missing (or with
--build). Your own program (.bootcde), pstore.json and the stored records are left alone.

Options:
  -b, --board B       board to install for (PUCKJS, PIXLJS, MDBT42Q, BANGLEJS2, JOLTJS, PICO, ...)
${PORT_HELP}
      --dist DIR      folder with the built bundles (default: this package's dist/)
      --build         rebuild the bundles even when they exist
  -h, --help          this text

Exit codes: 0 installed and answering; 2 bad command line or unknown board; 3 port or device error,
or pstore did not answer after the restart; 5 the build failed the compatibility gate; 130 Ctrl-C.
`,
  options: { ...PORT_OPTIONS, board: { type: "string", short: "b" }, dist: { type: "string" }, build: { type: "boolean" } },
  positionals: [],
  async run({ values }, io) {
    const boardName = boardOption(requiredString(values, "board")).name;
    const dist = typeof values.dist === "string" ? resolve(values.dist) : DEFAULT_DIST;
    const files = await loadBundles({ board: boardName, dist, rebuild: values.build === true, log: (line) => io.stdout.write(line + "\n") }).catch(
      (error: Error) => {
        throw error instanceof BundleError ? new DataError(error.message) : error;
      },
    );
    const uploads: Array<[string, Uint8Array]> = [
      [MODULE_FILE, files.module],
      [SERVICE_FILE, files.svc],
    ];
    if (isBangle(boardName)) {
      uploads.push([APP_INFO_FILE, new TextEncoder().encode(JSON.stringify(appInfo(boardName, appVersion(dist, boardName))))]);
    }
    uploads.push([bootFileOf(boardName), files.boot]);
    await withStorageSession(values, io, async (session) => {
      await session.stopPstore(boardName);
      for (const [name, data] of uploads) await session.writeFile(name, data);
      await session.restart(boardName);
    });
    const status = await withDevice(values, io, ({ client }) => client.status()).catch((error: Error) => {
      throw new DeviceError(`the files are on the device, but pstore did not answer after the restart: ${error.message}`);
    });
    io.stdout.write(`pstore runs on ${printable(deviceIdOf(status))}: boot ${printable(String(status.boot))}, last reset ${printable(resetLine(status))}\n`);
    return ExitCode.Ok;
  },
};

/** The version the App Loader would record: the one in the metadata.json of the app the build made beside the bundles. */
function appVersion(dist: string, boardName: string): string {
  const path = join(dist, boardName, APP_FOLDER, "metadata.json");
  if (!existsSync(path)) throw new DataError(`${path} is missing: the App Loader's record of pstore (${APP_INFO_FILE}) takes its version from there`);
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
}
