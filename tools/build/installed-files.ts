// The Storage files pstore puts on a device and the ones it creates there, named once: `pstore install` and
// `uninstall`, the simulator, the build's App Loader metadata and pstore.info all read them from here.

import { getBoard } from "../../boards/index";
import type { BoardDefinition } from "../../boards/types";
import { SETTINGS_FILE } from "../../firmware/config";
import { SERVICE_MODULE } from "../../firmware/service";
import { PAGE_FILE_PREFIX } from "../../pstore/pages";

export { SETTINGS_FILE };

/** The module, what require("pstore") loads. */
export const MODULE_FILE = "pstore";
/** The service module, loaded by the host's requests and by list/read/erase/status (firmware/svc.ts). */
export const SERVICE_FILE = SERVICE_MODULE;
/** Boot code on boards without the Bangle.js bootloader: `.boot1` runs at every boot before the application. */
export const BOOT_FILE = ".boot1";
/**
 * Boot code on Bangle.js, which the "boot" app folds into `.boot0` (apps/boot/bootupdate.js): numbered boot files
 * run first, lowest number first, then the others by name; 0 is the lowest a name can carry, so pstore starts
 * before every unnumbered boot file and with the other 0s (their order among themselves is the sort's).
 */
export const BANGLE_BOOT_FILE = "pstore.0.boot.js";
/** Boot code an earlier install wrote on Bangle.js; install and uninstall take it away. */
export const OLD_BANGLE_BOOT_FILES = ["pstore.boot.js"];
/** The App Loader's record of an installed app (EspruinoAppLoaderCore js/appinfo.js, createAppJSON). */
export const APP_ID = "pstore";
export const APP_INFO_FILE = APP_ID + ".info";
/** Subfolder of the build's dist/<BOARD>/ that holds the App Loader app (its metadata.json gives pstore.info's version). */
export const APP_FOLDER = "app";
/** Boards whose boot code the Bangle.js bootloader collects from `*.boot.js` files into `.boot0`. */
export const BANGLE_BOARDS = ["BANGLEJS", "BANGLEJS2"];

export function isBangle(boardName: string): boolean {
  return BANGLE_BOARDS.includes(boardName);
}

/** The board's boot file name. */
export function bootFileOf(boardName: string): string {
  return isBangle(boardName) ? BANGLE_BOOT_FILE : BOOT_FILE;
}

/**
 * The Storage files pstore creates at run time on `board` with its own zones: the settings, and on the storage
 * backend one pre-allocated file per page, `pstore.p0` … (pstore/pages.ts). Zones set in pstore.json may use more pages.
 */
export function dataFiles(board: BoardDefinition): string[] {
  const files = [SETTINGS_FILE];
  if (board.backend === "storage") {
    const pages = board.zones.reduce((sum, zone) => sum + zone.pages, 0);
    for (let i = 0; i < pages; i++) files.push(PAGE_FILE_PREFIX + i);
  }
  return files;
}

/** Storage.list() pattern of the storage backend's page files, `pstore.p0` …, as the device's regular expression. */
export const PAGE_FILES = `/^${PAGE_FILE_PREFIX.replace(".", "\\.")}\\d+$/`;

/** The files `pstore install` writes, in the order it writes them: the boot file last, once the modules are in. */
export function installedFiles(boardName: string): string[] {
  return [MODULE_FILE, SERVICE_FILE, bootFileOf(boardName)];
}

/**
 * pstore.info as the App Loader writes it for an app it installed: id, name, type, version, tags, `files` (the info
 * file first) and `data`, comma-separated, so that the App Loader lists pstore and can update or remove it.
 */
export function appInfo(boardName: string, version: string): object {
  return {
    id: APP_ID,
    name: APP_ID,
    type: "bootloader",
    version: version,
    tags: "tool,system,debug",
    files: [APP_INFO_FILE, ...installedFiles(boardName)].join(","),
    data: dataFiles(getBoard(boardName)).join(","),
  };
}
