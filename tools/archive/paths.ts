// Archive paths built from device names (checked by safe-names.ts first): never outside the archive folder.

import { isAbsolute, relative, resolve } from "node:path";
import { DataError } from "../cli/errors";
import { describeName } from "./safe-names";

/** `root` joined with `parts`, refusing any result that is not strictly inside `root`. */
export function pathInside(root: string, ...parts: string[]): string {
  const base = resolve(root);
  const full = resolve(base, ...parts);
  const rel = relative(base, full);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new DataError(`refusing path ${describeName(parts.join("/"))}: it is not inside ${base}`);
  }
  return full;
}
