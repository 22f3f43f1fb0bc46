// Whether a zone list can work: the one check behind the build's boards/validate.ts and the device's start(),
// so a zone list is refused with the same words at build time and in pstore.json.

import type { ZoneConfig } from "./types";

export const POLICY_NAMES = ["ring", "keep-first", "priority"];
export const RECORD_TYPE_NAMES = ["dmesg", "console", "ftrace", "pmsg", "event"];

/**
 * Calls `fail(field, problem)` (which throws) at the first problem of `zones`; `pages` is what the medium offers
 * (undefined: checked elsewhere, as a Storage area is by size). Returns the pages the zones take.
 */
export function checkZones(zones: ZoneConfig[], pages: number | undefined, fail: (field: string, problem: string) => never): number {
  if (!(zones instanceof Array) || zones.length === 0) fail("zones", "no zones");
  const names: string[] = [];
  const owners: { [type: string]: string } = {};
  let needed = 0;
  for (let i = 0; i < zones.length; i++) {
    const z = zones[i];
    let field = "zones[" + i + "]";
    if (!z || typeof z !== "object") fail(field, "must be {name, types, pages, policy}, got " + JSON.stringify(z));
    if (z.name) field += " (" + z.name + ")";
    if (!z.name || typeof z.name !== "string") fail(field + ".name", "missing");
    if (names.indexOf(z.name) >= 0) fail(field + ".name", 'zone name "' + z.name + '" is used twice');
    names.push(z.name);
    if (POLICY_NAMES.indexOf(z.policy) < 0) fail(field + ".policy", 'unknown policy "' + z.policy + '" (valid: ' + POLICY_NAMES.join(", ") + ")");
    if (!(typeof z.pages === "number" && z.pages > 0 && Math.floor(z.pages) === z.pages)) fail(field + ".pages", "must be a positive whole number, got " + z.pages);
    if (z.policy !== "keep-first" && z.pages < 2) {
      fail(field + ".pages", 'a "' + z.policy + '" zone needs at least 2 pages (one is always kept erased), got ' + z.pages);
    }
    if (!(z.types instanceof Array) || z.types.length === 0) fail(field + ".types", "no record types");
    for (let t = 0; t < z.types.length; t++) {
      const type = z.types[t];
      if (RECORD_TYPE_NAMES.indexOf(type) < 0) fail(field + ".types", 'unknown record type "' + type + '" (valid: ' + RECORD_TYPE_NAMES.join(", ") + ")");
      if (owners[type] !== undefined) fail(field + ".types", 'record type "' + type + '" is already stored by zone ' + owners[type]);
      owners[type] = z.name;
    }
    needed += z.pages;
  }
  if (pages !== undefined && needed > pages) fail("zones", "need " + needed + " pages but the region has " + pages);
  return needed;
}
