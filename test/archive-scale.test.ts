// The archive's cost grows linearly with the records of a pull: each record is written once, its index line
// appended (in batches), dmesg.txt rebuilt once per pull, never a file rewritten per record. And the JSON schema
// checker the tests and the archive rely on does refuse what does not fit.

import test from "ava";
import { readFileSync } from "node:fs";
import { benchArchive } from "../tools/bench/archive";
import { schemaProblem } from "../tools/json/schema";

test("archiving N records writes O(N) files: one per record file, index appended in batches, dmesg.txt once", async (t) => {
  const text = new Uint8Array(Buffer.from("a log line of the application\n".repeat(200), "latin1"));
  for (const row of await benchArchive([50, 600], text)) {
    t.is(row.fileWrites, row.records + row.dmesgWrites, `${row.records} records`);
    t.is(row.dmesgWrites, 1);
    t.is(row.indexAppends, Math.ceil(row.records / 256));
  }
});

test("the schema checker refuses wrong types, missing and unknown fields, and accepts the documented shapes", (t) => {
  const record = {
    name: "dmesg-flash-17", backend: "flash", boot: 3, seq: 17, type: "dmesg", typeCode: 1, reason: "exception", reasonCode: 3,
    codec: "raw", codecCode: 0, flags: [], flagBits: 0, parts: 1, time: null, uptimeMs: 5, storedBytes: 9, originalBytes: 9,
  };
  t.is(schemaProblem("list", { schema: 1, kind: "list", records: [record] }), undefined);
  t.regex(schemaProblem("list", { schema: 1, kind: "list", records: [{ ...record, uptimeMs: "5" }] })!, /uptimeMs is string, not/);
  t.regex(schemaProblem("list", { schema: 1, kind: "list", records: [{ ...record, type: 1 }] })!, /type is integer, not string/);
  const { storedBytes: _gone, ...missing } = record;
  t.regex(schemaProblem("list", { schema: 1, kind: "list", records: [missing] })!, /has no storedBytes/);
  t.regex(schemaProblem("list", { schema: 2, kind: "list", records: [] })!, /schema is 2, not 1/);
  t.regex(schemaProblem("status", { schema: 1, kind: "status", device: "x", status: {}, extra: 1 })!, /unknown field "extra"/);
  const line = { schema: 1, kind: "record", ...record, device: "d", archivedAs: "dmesg-flash-17~2", outcome: "ok", files: ["dmesg-flash-17~2"], crcs: ["a1352f20"], archivedAt: "" };
  t.is(schemaProblem("indexLine", line), undefined);
  t.regex(schemaProblem("indexLine", { ...line, crcs: ["xyz"] })!, /crcs\[0\]/);
  t.regex(schemaProblem("indexLine", { ...line, outcome: "fine" })!, /outcome is "fine"/);
  // The documentation names every definition the schema has.
  const doc = readFileSync(new URL("../docs/JSON.md", import.meta.url), "utf8");
  for (const name of ["list", "pull", "status", "indexLine"]) t.true(doc.includes(`\`${name}\``), name);
});
