// `pstore decode` run in this process on image bytes, and the archive it made read back.

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { main } from "../../tools/cli/main";

/** A records.jsonl line, with the boot folder it was found in. */
export interface ArchivedEntry {
  name: string;
  boot: number;
  seq: number;
  type: string;
  reason: string;
  codec: string;
  flags: string[];
  parts: number;
  uptimeMs: number;
  storedBytes: number;
  originalBytes: number;
  outcome: string;
  files: string[];
  folder: string;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write: (chunk, _encoding, done) => (chunks.push(Buffer.from(chunk)), done()) });
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

// The archive fsyncs every file it writes, and callers decode hundreds of images: memory-backed files where the
// system has them, since durability is not what they test.
const dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "pstore-decode-run-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
let runs = 0;

/** `pstore decode IMAGE --out DIR` on `bytes`, with what it printed and every archived index line. */
export async function decodeInProcess(bytes: Uint8Array): Promise<{ code: number; out: string; err: string; entries: ArchivedEntry[] }> {
  const run = join(dir, `run-${runs++}`);
  const path = `${run}.img`;
  writeFileSync(path, bytes);
  const out = sink();
  const err = sink();
  const code = await main(["decode", path, "--out", run], { stdout: out.stream, stderr: err.stream, signal: new AbortController().signal });
  const entries: ArchivedEntry[] = [];
  const walk = (folder: string) => {
    if (!existsSync(folder)) return;
    for (const item of readdirSync(folder, { withFileTypes: true })) {
      const at = join(folder, item.name);
      if (item.isDirectory()) walk(at);
      else if (item.name === "records.jsonl") {
        for (const line of readFileSync(at, "utf8").split("\n").filter(Boolean)) entries.push({ ...JSON.parse(line), folder });
      }
    }
  };
  walk(run);
  return { code, out: out.text(), err: err.text(), entries };
}
