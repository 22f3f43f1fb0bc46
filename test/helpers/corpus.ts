// The shared log corpus (real system logs, see ../shared/corpus/README.md), read in place: never copied here.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const corpusDir = path.resolve(projectRoot, "../shared/corpus");

export interface CorpusFile {
  name: string;
  data: Uint8Array;
}

/** Every `*.log` file of the corpus, sorted by name. Throws if the corpus is missing, so no test passes vacuously. */
export function loadCorpus(): CorpusFile[] {
  const names = readdirSync(corpusDir)
    .filter((name) => name.endsWith(".log"))
    .sort();
  if (names.length === 0) throw new Error(`no *.log files in the corpus at ${corpusDir}`);
  return names.map((name) => ({ name, data: new Uint8Array(readFileSync(path.join(corpusDir, name))) }));
}

/** `data` cut into consecutive blocks of `size` bytes (the last one shorter), as views. */
export function blocksOf(data: Uint8Array, size: number): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  for (let start = 0; start < data.length; start += size) blocks.push(data.subarray(start, start + size));
  return blocks;
}
