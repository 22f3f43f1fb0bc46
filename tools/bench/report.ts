// Turns a run's results into tables: plain text for the terminal, Markdown for docs/PERFORMANCE.md.

import { formatTable } from "../cli/table";
import { BOOT_SCAN_BOARD, BOOT_SCAN_PAYLOAD_BYTES } from "./boot-scan";
import { PAYLOAD_BYTES } from "./flash-cost";
import { LINKS } from "./serial-pull";
import { SECTION_NAMES, type BenchResults, type SectionName } from "./results";

interface Table {
  headers: string[];
  rows: string[][];
}

interface SectionReport {
  title: string;
  /** What was measured and how to read it (Markdown-safe plain text). */
  note: string;
  tables: Table[];
  /** Set when the section could not be measured. */
  unavailable?: string;
}

function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

/** Three significant digits, without exponent notation for the sizes in play here. */
function sig(n: number): string {
  if (!Number.isFinite(n)) return "-";
  if (n === 0) return "0";
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(n))));
  return n.toFixed(Math.min(digits, 4));
}

const TITLES: Record<SectionName, string> = {
  codecs: "Compression (host)",
  bundles: "Bundle sizes",
  flashCost: "Flash cost per record",
  bootScan: "Boot scan",
  decode: "Host decode of a full image",
  archive: "Host archive of a pull",
  serialPull: "Serial pull",
};

function codecsReport(r: BenchResults["codecs"] & { available: true }): SectionReport {
  return {
    title: TITLES.codecs,
    note:
      `Each corpus file compressed whole and as independent ${r.blockSize}-byte blocks (how records are compressed). ` +
      "Ratio = input / output. Speeds in MB/s (10^6 bytes of input per second, best of 5 rounds); " +
      "x ref = speed divided by the reference LZ4 (lz4js) on the same input in the same run. " +
      "Every output is decoded and compared with its input before it is timed. The heatshrink compressor timed " +
      "here is the host port (pstore/heatshrink.ts); devices compress with the firmware's native one.",
    tables: [
      {
        headers: ["file", "mode", "codec", "ratio", "out bytes", "compress MB/s", "x ref", "decompress MB/s", "x ref"],
        rows: r.rows.map((c) => [
          c.file,
          c.mode,
          c.codec,
          fixed(c.ratio, 2),
          String(c.compressedBytes),
          sig(c.compressMBps),
          fixed(c.compressVsReference, 2),
          sig(c.decompressMBps),
          fixed(c.decompressVsReference, 2),
        ]),
      },
    ],
  };
}

function bundlesReport(r: BenchResults["bundles"] & { available: true }): SectionReport {
  const failures = r.failures.map((f) => `${f.board}: ${f.error}`).join("; ");
  return {
    title: TITLES.bundles,
    note:
      "Minified bundles as `npm run build` makes them (esbuild + compatibility gate, dry run), gzip level 9. " +
      `Budget: ${r.budgetBytes} bytes minified for a lean resident module (neither retained RAM nor ftrace built in), enforced for PUCKJS.` +
      (failures ? ` Builds that failed: ${failures}.` : ""),
    tables: [
      {
        headers: ["board", "codec", "features", "file", "minified bytes", "gzip bytes", "% of budget"],
        rows: r.rows.map((b) => [
          b.board,
          b.codec,
          b.features.join("+") || "-",
          b.file,
          String(b.bytes),
          String(b.gzip),
          b.budget ? fixed((100 * b.bytes) / b.budget, 0) + "%" : "",
        ]),
      },
    ],
  };
}

function flashCostReport(r: BenchResults["flashCost"] & { available: true }): SectionReport {
  const sizes = Object.entries(PAYLOAD_BYTES).map(([type, n]) => `${type} ${n}`).join(", ");
  return {
    title: TITLES.flashCost,
    note:
      `Raw payloads of ${sizes} bytes, written through the core over the simulated board with its default zones. ` +
      "write / crash: one record into a freshly prepared zone (normal path with the idle work it leaves, and the " +
      "crash path, which must erase nothing). amortised: per record while the zone is filled (ring zones three " +
      "times over), idle erases and page preparation included. ms = modelled flash time from the board's timing " +
      "figures; amp = bytes programmed / payload bytes. Storage-backend boards (BANGLEJS2, LINUX) erase through " +
      "Storage compaction, which a zone fill does not reach, so their erases show as 0.",
    tables: [
      {
        headers: [
          "board", "type", "zone", "payload",
          "write bytes", "erases", "ms", "amp",
          "crash bytes", "crash erases", "crash ms",
          "records", "amort. bytes", "amort. erases", "amort. ms", "amort. amp",
        ],
        rows: r.rows.map((f) => [
          f.board,
          f.type,
          `${f.zone} (${f.policy})`,
          String(f.payloadBytes),
          String(f.write.programBytes),
          String(f.write.erases),
          sig(f.write.modelledMs),
          fixed(f.write.amplification, 2),
          String(f.crash.programBytes),
          String(f.crash.erases),
          sig(f.crash.modelledMs),
          String(f.amortised.records),
          fixed(f.amortised.programBytes, 0),
          fixed(f.amortised.erases, 3),
          sig(f.amortised.modelledMs),
          fixed(f.amortised.amplification, 2),
        ]),
      },
    ],
  };
}

function bootScanReport(r: BenchResults["bootScan"] & { available: true }): SectionReport {
  return {
    title: TITLES.bootScan,
    note:
      `${BOOT_SCAN_BOARD}'s default layout (one 128 KB keep-first zone, no enlargement needed) holding N event ` +
      `records of ${BOOT_SCAN_PAYLOAD_BYTES} bytes; one boot (store start, which scans every page) measured. ` +
      "Reads from the simulated flash's counters; device ms = those reads at the board's read rate; host ms = the " +
      "same start() on this machine (best of 5 rounds).",
    tables: [
      {
        headers: ["board", "records", "listed", "read ops", "read bytes", "device ms", "host ms"],
        rows: r.rows.map((b) => [b.board, String(b.records), String(b.listed), String(b.readOps), String(b.readBytes), sig(b.modelledMs), sig(b.hostMs)]),
      },
    ],
  };
}

function decodeReport(r: BenchResults["decode"] & { available: true }): SectionReport {
  return {
    title: TITLES.decode,
    note:
      "Each board's store filled (corpus text compressed with the board's codec, ftrace snapshots), saved as an " +
      "image, then decoded as `pstore decode` does (image parse, boot scan over the image, CRC checks, join, " +
      "decompress, trace decoding), without writing the archive. Region = pstore's own pages; image = the whole " +
      "image file (every flash span the board lists, or its whole Storage area). Best of 5 rounds.",
    tables: [
      {
        headers: ["board", "codec", "records", "region bytes", "image bytes", "stored bytes", "decoded bytes", "host ms", "region MB/s", "image MB/s"],
        rows: r.rows.map((d) => [
          d.board,
          d.codec,
          String(d.records),
          String(d.regionBytes),
          String(d.imageBytes),
          String(d.storedBytes),
          String(d.decodedBytes),
          sig(d.hostMs),
          sig(d.regionMBps),
          sig(d.imageMBps),
        ]),
      },
    ],
  };
}

function serialPullReport(r: BenchResults["serialPull"] & { available: true }): SectionReport {
  return {
    title: TITLES.serialPull,
    note:
      "The host client against the simulated Espruino running the board's real bundle, over an in-memory line, " +
      "store filled as for the decode section. pull = list, then fetch every part of every record (payload = " +
      "stored record payloads); dump = the whole region raw (payload = region bytes). Times are modelled from the " +
      "bytes counted on the line in both directions at the link's rate (UART 8N1: baud / 10 bytes per second); " +
      "round trips and device processing time are not included.",
    tables: [
      {
        headers: ["board", "operation", "records", "payload bytes", "sent", "received", "payload / wire byte", ...LINKS.map((l) => `${l.name} s`)],
        rows: r.rows.map((s) => [
          s.board,
          s.operation,
          String(s.records),
          String(s.payloadBytes),
          String(s.bytesSent),
          String(s.bytesReceived),
          fixed(s.payloadPerWireByte, 3),
          ...s.seconds.map((x) => sig(x.seconds)),
        ]),
      },
    ],
  };
}

function archiveReport(r: BenchResults["archive"] & { available: true }): SectionReport {
  return {
    title: TITLES.archive,
    note:
      "A pull of N records of one boot (120-270 B of log text each, from an in-memory source) into a fresh folder " +
      "on this machine's temporary disk, erase included: verify, decode, write each record file durably (fsync, " +
      "rename, folder fsync), append its records.jsonl line, rebuild dmesg.txt once. Reference: before appending " +
      "the index and rebuilding dmesg.txt once per pull, the same machine took 12 ms per record at 1,000 records " +
      "and 34 ms per record at 4,000 (both rewritten for every record: quadratic).",
    tables: [
      {
        headers: ["records", "ms", "ms per record", "files written", "index appends", "dmesg.txt writes"],
        rows: r.rows.map((a) => [String(a.records), fixed(a.ms, 0), fixed(a.msPerRecord, 3), String(a.fileWrites), String(a.indexAppends), String(a.dmesgWrites)]),
      },
    ],
  };
}

function sectionReport(results: BenchResults, name: SectionName): SectionReport {
  const section = results[name];
  if (!section.available) return { title: TITLES[name], note: "", tables: [], unavailable: section.reason };
  switch (name) {
    case "codecs":
      return codecsReport(results.codecs as BenchResults["codecs"] & { available: true });
    case "bundles":
      return bundlesReport(results.bundles as BenchResults["bundles"] & { available: true });
    case "flashCost":
      return flashCostReport(results.flashCost as BenchResults["flashCost"] & { available: true });
    case "bootScan":
      return bootScanReport(results.bootScan as BenchResults["bootScan"] & { available: true });
    case "decode":
      return decodeReport(results.decode as BenchResults["decode"] & { available: true });
    case "serialPull":
      return serialPullReport(results.serialPull as BenchResults["serialPull"] & { available: true });
    case "archive":
      return archiveReport(results.archive as BenchResults["archive"] & { available: true });
  }
}

function metaLine(results: BenchResults): string {
  const m = results.meta;
  return (
    `${m.date}, ${m.quick ? "quick run, " : ""}Node ${m.node} on ${m.platform}, ${m.cpus} x ${m.cpu}, ` +
    `load average ${m.loadBefore.toFixed(1)} before / ${m.loadAfter.toFixed(1)} after, ${m.seconds.toFixed(0)} s`
  );
}

export function textReport(results: BenchResults): string {
  const out: string[] = [`pstore benchmarks: ${metaLine(results)}`, ""];
  for (const name of SECTION_NAMES) {
    const s = sectionReport(results, name);
    out.push(`== ${s.title}`);
    if (s.unavailable) {
      out.push(`not available: ${s.unavailable}`, "");
      continue;
    }
    for (const table of s.tables) out.push(formatTable(table.headers, table.rows));
  }
  return out.join("\n");
}

function markdownTable(table: Table): string {
  const escape = (cell: string) => cell.replace(/\|/g, "\\|");
  const numeric = table.headers.map((_, i) => table.rows.length > 0 && table.rows.every((row) => /^-?[\d.]+%?$|^-$|^$/.test(row[i] ?? "")));
  return [
    `| ${table.headers.map(escape).join(" | ")} |`,
    `| ${numeric.map((n) => (n ? "---:" : "---")).join(" | ")} |`,
    ...table.rows.map((row) => `| ${row.map(escape).join(" | ")} |`),
  ].join("\n");
}

export function markdownReport(results: BenchResults): string {
  const out: string[] = [
    "# Performance",
    "",
    "Figures from the benchmark suite (`tools/bench/`), generated by",
    "",
    "```",
    results.meta.command,
    "```",
    "",
    "Run it again to refresh this file; add `--json FILE` for the machine-readable results. Host speeds (MB/s, host ms)",
    "depend on the machine and its load (the run's load average is given below); the speed ratios to the reference",
    "LZ4 are measured in rounds interleaved with it and vary less; byte counts, operation counts and modelled device",
    "times do not vary at all. Modelled times come from each board's `timing` figures in `boards/`.",
    "",
    `Run: ${metaLine(results)}. Corpus: ${results.meta.corpus.map((c) => `${c.file} (${c.bytes} bytes)`).join(", ")}.`,
    "",
  ];
  for (const name of SECTION_NAMES) {
    const s = sectionReport(results, name);
    out.push(`## ${s.title}`, "");
    if (s.unavailable) {
      out.push(`Not available: ${s.unavailable}`, "");
      continue;
    }
    out.push(s.note, "");
    for (const table of s.tables) out.push(markdownTable(table), "");
  }
  return out.join("\n");
}
