// The built bundles installed on a simulated Espruino as a user installs them: dist/<BOARD>/pstore.js as Storage
// file "pstore", pstore.svc.js as "pstoresvc", pstore.boot.js as ".boot0", options in "pstore.json", then a power cycle. Tests then drive the
// device only through what a user has: code typed at the REPL, the console, and the chip's resets.

import type { ExecutionContext } from "ava";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBoard } from "../../boards/index";
import type { CodecName } from "../../boards/types";
import { buildBoard, type FeatureName } from "../../tools/build/build";
import { SimDevice } from "../../tools/sim/espruino/device";
import { SERVICE_MODULE } from "../../firmware/service";

export type Features = Partial<Record<FeatureName, boolean>>;

const outDir = mkdtempSync(join(tmpdir(), "pstore-e2e-"));
type Bundles = { module: string; svc: string; boot: string };
const builds = new Map<string, Promise<Bundles>>();

/**
 * Builds a board once per feature set and codec (into a temp dir, through the compatibility gate) and reads the
 * files back.
 */
export function bundles(board: string, features: Features = {}, codec?: CodecName): Promise<Bundles> {
  const key = board + JSON.stringify(features) + (codec ?? "");
  if (!builds.has(key)) {
    const dir = join(outDir, key.replace(/[^A-Za-z0-9]/g, "_"));
    builds.set(
      key,
      buildBoard(board, { outDir: dir, features, codec }).then(() => ({
        module: readFileSync(join(dir, board, "pstore.js"), "latin1"),
        svc: readFileSync(join(dir, board, "pstore.svc.js"), "latin1"),
        boot: readFileSync(join(dir, board, "pstore.boot.js"), "latin1"),
      })),
    );
  }
  return builds.get(key)!;
}

export interface RecordListing {
  name: string;
  type: number;
  reason: number;
  flags: number;
  boot: number;
}

export interface InstalledDevice {
  dev: SimDevice;
  /** Console output since the last call. */
  output(): string;
  /** Evaluates code on the device; fails the test if it throws. */
  run(code: string): any;
  /** Evaluates code on the device once: its value, or the message of what it threw. */
  attempt(code: string): { value?: any; error?: string };
  records(): RecordListing[];
  read(name: string): string;
}

/**
 * Installs `board`'s bundles (built with `features`, and `codec` instead of the board's) with `options` as pstore.json
 * and `app` as .bootcde, then boots.
 */
export async function installPstore(
  t: ExecutionContext,
  board: string,
  options: object = {},
  features: Features = {},
  app?: string,
  codec?: CodecName,
): Promise<InstalledDevice> {
  const code = await bundles(board, features, codec);
  const dev = new SimDevice({ board: getBoard(board) });
  let out = "";
  dev.on("output", (bytes) => {
    out += Buffer.from(bytes).toString("latin1");
  });
  dev.writeFile("pstore", code.module);
  dev.writeFile(SERVICE_MODULE, code.svc);
  dev.writeFile(".boot0", code.boot);
  dev.writeFile("pstore.json", JSON.stringify(options));
  if (app) dev.writeFile(".bootcde", app);
  dev.powerLoss();
  dev.advance(50);
  const run = (js: string) => {
    const r = dev.evaluate(js);
    if (r.error) t.fail(`${board}: ${js} threw ${String(r.error.thrown)}`);
    return r.value;
  };
  return {
    dev,
    output() {
      const s = out;
      out = "";
      return s;
    },
    run,
    attempt(js: string) {
      const r = dev.evaluate(js);
      if (!r.error) return { value: r.value };
      const e = r.error.thrown as { message?: unknown } | null;
      return { error: e !== null && typeof e === "object" && "message" in e ? String(e.message) : String(e) };
    },
    records() {
      // Every listing also checks the chip's re-programming rules held: firmware code may catch the error itself.
      if (dev.flash.violations.length) t.fail(`${board}: flash rule broken: ${dev.flash.violations.map((v) => v.message).join("; ")}`);
      return JSON.parse(run("JSON.stringify(require('pstore').list())") as string);
    },
    read(name: string) {
      return run(`require('pstore').read(${JSON.stringify(name)})`) as string;
    },
  };
}
