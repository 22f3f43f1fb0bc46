// The shape of a benchmark run: what `--json` writes and what the text and Markdown reports are made from.

import type { ArchiveRow } from "./archive";
import type { BootScanRow } from "./boot-scan";
import type { BundleFailure, BundleRow } from "./bundles";
import type { CodecRow } from "./codecs";
import type { DecodeRow } from "./decode";
import type { FlashCostRow } from "./flash-cost";
import type { SerialPullRow } from "./serial-pull";

/** A section's figures, or why it could not be measured (a dependency missing or failing). */
export type Section<T> = ({ available: true } & T) | { available: false; reason: string };

export interface BenchMeta {
  /** ISO time the run started. */
  date: string;
  /** The command line that reproduces the run. */
  command: string;
  quick: boolean;
  node: string;
  platform: string;
  cpu: string;
  cpus: number;
  /** 1-minute load average before and after the run: host speeds are only comparable on a quiet machine. */
  loadBefore: number;
  loadAfter: number;
  seconds: number;
  corpus: Array<{ file: string; bytes: number }>;
}

export interface BenchResults {
  meta: BenchMeta;
  codecs: Section<{ blockSize: number; rows: CodecRow[] }>;
  bundles: Section<{ budgetBytes: number; rows: BundleRow[]; failures: BundleFailure[] }>;
  flashCost: Section<{ rows: FlashCostRow[] }>;
  bootScan: Section<{ rows: BootScanRow[] }>;
  decode: Section<{ rows: DecodeRow[] }>;
  serialPull: Section<{ rows: SerialPullRow[] }>;
  archive: Section<{ rows: ArchiveRow[] }>;
}

export type SectionName = Exclude<keyof BenchResults, "meta">;

export const SECTION_NAMES: SectionName[] = ["codecs", "bundles", "flashCost", "bootScan", "decode", "serialPull", "archive"];
