// The device bundles `install` and `sim` use: dist/<BOARD>/ of this package (shipped prebuilt in the npm package,
// made by `npm run build` in a clone), or another folder. Building is the build tools' job (tools/build, which needs
// the development dependencies): they are loaded only when bundles have to be built, so an installed package runs
// without them.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BuildOptions } from "../build/build";

/** The package's folder (a clone, or where npm installed it). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const DEFAULT_DIST = join(PACKAGE_ROOT, "dist");

export interface Bundles {
  module: Uint8Array;
  svc: Uint8Array;
  boot: Uint8Array;
}

export interface BundleRequest {
  board: string;
  dist: string;
  /** Build even when the bundles are there. */
  rebuild?: boolean;
  /** Options for a build; bundles already in `dist` are used as they are. */
  build?: Pick<BuildOptions, "features" | "codec">;
  /** Told before a build starts. */
  log: (line: string) => void;
}

/** Thrown when the bundles cannot be had: not there and not buildable here, or the build refused them. */
export class BundleError extends Error {}

/** The board's three bundles from `dist`, built first when missing (or when asked to). */
export async function loadBundles(request: BundleRequest): Promise<Bundles> {
  const { board, dist } = request;
  const paths = { module: join(dist, board, "pstore.js"), svc: join(dist, board, "pstore.svc.js"), boot: join(dist, board, "pstore.boot.js") };
  if (request.rebuild || !Object.values(paths).every((path) => existsSync(path))) {
    const { buildBoard } = await buildTools(board);
    request.log(`building ${board} into ${dist}`);
    try {
      await buildBoard(board, { outDir: dist, ...request.build });
    } catch (error) {
      throw new BundleError(`building ${board} failed: ${(error as Error).message}`);
    }
  }
  const read = (path: string) => new Uint8Array(readFileSync(path));
  return { module: read(paths.module), svc: read(paths.svc), boot: read(paths.boot) };
}

async function buildTools(board: string): Promise<typeof import("../build/build")> {
  try {
    return await import("../build/build");
  } catch (error) {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND") throw error;
    throw new BundleError(
      `building the ${board} bundles needs the development dependencies, which are not installed ` +
        `(${(error as Error).message.split("\n")[0]}): the npm package ships the bundles prebuilt in ${DEFAULT_DIST} ` +
        `(use them: no --build, no --dist); in a clone, run npm ci first`,
    );
  }
}
