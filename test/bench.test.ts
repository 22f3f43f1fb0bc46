// Smoke test of the benchmark suite: `npm run bench -- --quick --json FILE` runs, every section is measured, and
// the figures are sane (sizes and counts consistent with each other and with the format; no timing assertions).

import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { RECORD_OVERHEAD } from "../pstore/format";
import { parseBenchArgs } from "../tools/bench/bench";
import { REFERENCE_CODEC } from "../tools/bench/codecs";
import { markdownReport, textReport } from "../tools/bench/report";
import { SECTION_NAMES, type BenchResults } from "../tools/bench/results";

const ROOT = resolve(import.meta.dirname, "..");
const dir = mkdtempSync(join(tmpdir(), "pstore-bench-"));
const jsonFile = join(dir, "bench.json");
const markdownFile = join(dir, "PERFORMANCE.md");
const run = spawnSync(process.execPath, ["--import", "tsx", "tools/bench/bench.ts", "--quick", "--json", jsonFile, "--markdown", markdownFile], {
  cwd: ROOT,
  encoding: "utf8",
  timeout: 100_000,
});
const results = (run.status === 0 ? JSON.parse(readFileSync(jsonFile, "utf8")) : undefined) as BenchResults | undefined;

function available<K extends (typeof SECTION_NAMES)[number]>(name: K): BenchResults[K] & { available: true } {
  if (!results) throw new Error(`bench --quick exited with ${run.status}: ${run.stderr}`);
  const section = results[name];
  if (!section.available) throw new Error(`section ${name} is not available: ${section.reason}`);
  return section as BenchResults[K] & { available: true };
}

const positive = (n: number) => Number.isFinite(n) && n > 0;

test("the quick run exits 0, measures every section, and prints every section's table", (t) => {
  t.is(run.status, 0, run.stderr);
  for (const name of SECTION_NAMES) t.true(available(name).available, name);
  for (const title of ["Compression", "Bundle sizes", "Flash cost", "Boot scan", "Host decode", "Serial pull"]) {
    t.true(run.stdout.includes(`== ${title}`), `table "${title}" missing from stdout`);
  }
  t.false(run.stdout.includes("not available"));
  const markdown = readFileSync(markdownFile, "utf8");
  t.true(markdown.includes("npm run bench -- --quick --json"), "the Markdown names the command that made it");
  t.is((markdown.match(/^## /gm) ?? []).length, SECTION_NAMES.length);
});

test("codecs: every codec in both modes per file, compresses the logs, the reference is its own unit", (t) => {
  const codecs = available("codecs");
  const files = new Set(codecs.rows.map((r) => r.file));
  const names = new Set(codecs.rows.map((r) => r.codec));
  t.true(names.has(REFERENCE_CODEC) && [...names].some((n) => n.startsWith("pstore lz4")) && [...names].some((n) => n.startsWith("heatshrink")));
  t.is(codecs.rows.length, files.size * names.size * 2);
  for (const r of codecs.rows) {
    t.true(r.compressedBytes > 0 && r.compressedBytes < r.inputBytes, `${r.codec} ${r.mode}: ${r.compressedBytes} of ${r.inputBytes}`);
    t.is(r.ratio, r.inputBytes / r.compressedBytes);
    t.true(positive(r.compressMBps) && positive(r.decompressMBps) && positive(r.compressVsReference) && positive(r.decompressVsReference));
    if (r.codec === REFERENCE_CODEC) t.is(r.compressVsReference, 1);
  }
  // Independent 4 KB blocks cannot reference each other, so they compress no better than the whole file.
  for (const r of codecs.rows.filter((x) => x.mode === "whole")) {
    const blocks = codecs.rows.find((x) => x.mode === "4k-blocks" && x.file === r.file && x.codec === r.codec)!;
    t.is(blocks.inputBytes, r.inputBytes);
    t.true(blocks.ratio <= r.ratio * 1.02, `${r.codec}: blocks ${blocks.ratio} vs whole ${r.ratio}`);
  }
});

test("bundles: the module, the service module and the boot code of the board, gzip smaller than minified", (t) => {
  const bundles = available("bundles");
  t.deepEqual(bundles.failures, []);
  t.deepEqual(bundles.rows.map((r) => r.file).sort(), ["pstore.boot.js", "pstore.js", "pstore.svc.js"]);
  for (const r of bundles.rows) t.true(positive(r.bytes) && positive(r.gzip), r.file);
  t.true(bundles.rows.find((r) => r.file === "pstore.js")!.gzip < bundles.rows.find((r) => r.file === "pstore.js")!.bytes);
});

test("flash cost: a record programs its payload plus the format's overhead, and the crash path never erases", (t) => {
  const flash = available("flashCost");
  t.deepEqual([...new Set(flash.rows.map((r) => r.board))], ["PUCKJS", "LINUX"]);
  for (const r of flash.rows) {
    const what = `${r.board} ${r.type}`;
    // Everything but the erase-mark word is programmed: payload + overhead - 4, at least.
    t.true(r.write.programBytes >= r.payloadBytes + RECORD_OVERHEAD - 4, `${what}: ${r.write.programBytes} bytes programmed`);
    t.true(r.crash.programBytes >= r.payloadBytes + RECORD_OVERHEAD - 4, what);
    t.is(r.crash.erases, 0, `${what}: the crash path erased`);
    t.true(r.write.amplification > 1 && r.amortised.amplification > 1, what);
    t.is(r.write.amplification, r.write.programBytes / r.payloadBytes);
    t.true(positive(r.write.modelledMs) && positive(r.crash.modelledMs) && positive(r.amortised.modelledMs), what);
    t.true(r.amortised.records >= 1, what);
  }
});

test("boot scan: every record is listed and flash reads grow with the record count", (t) => {
  const rows = available("bootScan").rows;
  t.true(rows.length >= 2);
  for (const r of rows) t.is(r.listed, r.records);
  for (let i = 1; i < rows.length; i++) {
    t.true(rows[i].records > rows[i - 1].records);
    t.true(rows[i].readOps > rows[i - 1].readOps && rows[i].readBytes > rows[i - 1].readBytes);
    t.true(rows[i].modelledMs > rows[i - 1].modelledMs);
  }
  // Each record is read at least once, header and payload.
  for (const r of rows) t.true(r.readBytes >= r.records * RECORD_OVERHEAD, `${r.records} records, ${r.readBytes} bytes read`);
});

test("decode: the full image yields records whose decoded size is at least their stored size", (t) => {
  for (const r of available("decode").rows) {
    t.true(r.records > 0, r.board);
    t.true(r.decodedBytes >= r.storedBytes && r.storedBytes > 0, r.board);
    t.true(r.imageBytes >= r.regionBytes, r.board);
    t.true(positive(r.hostMs) && positive(r.regionMBps) && positive(r.imageMBps), r.board);
  }
});

test("serial pull: the wire carries more than the payload, and a slower link takes longer", (t) => {
  const rows = available("serialPull").rows;
  t.deepEqual(rows.map((r) => r.operation), ["pull", "dump"]);
  for (const r of rows) {
    t.true(r.records > 0);
    t.true(r.payloadPerWireByte > 0 && r.payloadPerWireByte < 1, `${r.operation}: ${r.payloadPerWireByte}`);
    t.is(r.payloadPerWireByte, r.payloadBytes / (r.bytesSent + r.bytesReceived));
    t.true(r.transferBytes >= r.payloadBytes, r.operation);
    const seconds = Object.fromEntries(r.seconds.map((s) => [s.link, s.seconds]));
    t.true(seconds["9600 baud"] > seconds["115200 baud"]);
    t.true(seconds["Bluetooth LE (~2 KB/s)"] > seconds["115200 baud"]);
  }
});

test("a section that could not run is reported as not available, with the reason", (t) => {
  if (!results) return t.fail(run.stderr);
  const broken: BenchResults = { ...results, serialPull: { available: false, reason: "tools/sim/espruino is missing" } };
  t.true(textReport(broken).includes("not available: tools/sim/espruino is missing"));
  t.true(markdownReport(broken).includes("Not available: tools/sim/espruino is missing"));
});

test("arguments: --json without a file means stdout, --markdown needs a file, unknown ones are refused", (t) => {
  t.deepEqual(parseBenchArgs(["--json"]), { quick: false, help: false, json: "-" });
  t.deepEqual(parseBenchArgs(["--json", "out.json", "--quick"]), { quick: true, help: false, json: "out.json" });
  t.deepEqual(parseBenchArgs(["--json", "--quick"]), { quick: true, help: false, json: "-" });
  t.throws(() => parseBenchArgs(["--markdown"]), { message: /needs a file/ });
  t.throws(() => parseBenchArgs(["--fast"]), { message: /unknown argument "--fast"/ });
});
