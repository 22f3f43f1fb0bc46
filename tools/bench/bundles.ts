// Bundle size section: the minified and gzipped size of every board's bundles, built by the project's own build
// (tools/build/build.ts, esbuild + compatibility gate) without writing anything (dry run), so dist/ is untouched.

import { boardNames } from "../../boards/index";
import { buildBoard } from "../build/build";

export interface BundleRow {
  board: string;
  codec: string;
  features: string[];
  /** Bundle file name within the board's folder, e.g. pstore.js. */
  file: string;
  bytes: number;
  gzip: number;
  /** The build's size budget for this bundle (lean modules only), when it has one. */
  budget?: number;
}

export interface BundleFailure {
  board: string;
  error: string;
}

export async function benchBundles(boards: string[] = boardNames()): Promise<{ rows: BundleRow[]; failures: BundleFailure[] }> {
  const builds = await Promise.allSettled(boards.map((board) => buildBoard(board, { dryRun: true })));
  const rows: BundleRow[] = [];
  const failures: BundleFailure[] = [];
  builds.forEach((result, i) => {
    if (result.status === "rejected") {
      failures.push({ board: boards[i], error: String((result.reason as Error)?.message ?? result.reason).split("\n")[0] });
      return;
    }
    const build = result.value;
    const features = Object.entries(build.features).filter(([, on]) => on).map(([name]) => name);
    for (const size of build.sizes) {
      rows.push({ board: build.board, codec: build.codec, features, file: size.file.split("/").pop()!, bytes: size.bytes, gzip: size.gzip, budget: size.budget });
    }
  });
  return { rows, failures };
}
