// Names that come from the device become file and folder names in the archive, so they are checked here
// before any path is built: the archive never writes outside its folder whatever the device sends.

import { parseRecordName, type ParsedName } from "../../pstore/format";
import { DataError } from "../cli/errors";

/** Shows a hostile name readably in an error message: control characters escaped, length capped. */
export function describeName(name: string): string {
  return JSON.stringify(name.length > 80 ? name.slice(0, 80) + "…" : name);
}

/**
 * The parts of a well-formed record name (`<type>-<backend>-<seq>`, FORMAT.md "Names": only lowercase letters,
 * digits, `_` and `-`, so always a safe file name); throws naming it otherwise. Refused, not guessed at.
 */
export function checkRecordName(name: string): ParsedName {
  const parsed = typeof name === "string" && name.length <= 64 ? parseRecordName(name) : undefined;
  if (!parsed) {
    throw new DataError(`the device sent record name ${describeName(String(name))}, which is not <type>-<backend>-<seq>: refused`);
  }
  return parsed;
}

/**
 * A device id (board and serial number, as the device reports them) made into one safe folder name:
 * letters, digits, `.`, `_` and `-` are kept, every other character becomes `_`, at most 64 characters,
 * never `.`/`..` or a hidden name. Sanitized rather than refused: the records are still worth keeping.
 */
export function deviceFolderName(deviceId: string): string {
  let name = deviceId.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64);
  if (name.startsWith(".")) name = "_" + name.slice(1);
  return name === "" ? "unknown-device" : name;
}
