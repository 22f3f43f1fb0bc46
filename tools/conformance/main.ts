// `npm run conformance -- --record --port P --out DIR [--baud N] [--slow F] [--only ID,…]`: runs the probes
// (test/conformance/probes.ts) on a real Espruino and writes what it answered into DIR; `--slow` stretches every
// wait by F (the Bangle.js 2 emulator runs slower than its clock).
// `npm run conformance -- --against DIR [--only ID,…]`: replays them on the simulated Espruino of the recording's
// board and fails, printing each one, on any difference.

import { parseArgs } from "node:util";
import { probes } from "../../test/conformance/probes";
import { appliesTo } from "./probe";
import { openRealLine } from "./lines";
import { describeDifference, readRecording, replay, writeRecording } from "./recording";
import { identify, runProbes } from "./run";

const USAGE = `usage: npm run conformance -- --record --port P --out DIR [--baud N] [--slow F] [--only ID,…]
       npm run conformance -- --against DIR [--only ID,…]`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        record: { type: "boolean" },
        port: { type: "string" },
        baud: { type: "string" },
        slow: { type: "string" },
        out: { type: "string" },
        against: { type: "string" },
        only: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const only = args.only ? new Set(args.only.split(",")) : undefined;
  const selected = probes.filter((p) => !only || only.has(p.id));
  if (args.record) {
    if (!args.port || !args.out || args.against) {
      console.error(`--record needs --port and --out (and no --against)\n${USAGE}`);
      return 2;
    }
    const baud = args.baud === undefined ? undefined : Number(args.baud);
    const slowdown = args.slow === undefined ? 1 : Number(args.slow);
    if (!(slowdown >= 1)) {
      console.error(`--slow ${args.slow}: give a factor of 1 or more`);
      return 2;
    }
    const line = await openRealLine(args.port, baud, slowdown);
    try {
      const id = await identify(line);
      console.log(`recording ${selected.filter((p) => appliesTo(p, id.board)).length} probes from Espruino ${id.version} ${id.board} on ${args.port}`);
      const answers = await runProbes(line, selected, id.board, (p) => process.stdout.write(`  ${p.id}\n`));
      writeRecording(args.out, { ...id, port: args.port, recordedAt: new Date().toISOString(), probes: answers.length }, answers, selected);
      console.log(`wrote ${answers.length} answers to ${args.out}`);
    } finally {
      await line.close();
    }
    return 0;
  }
  if (args.against) {
    const recording = readRecording(args.against);
    if (only) for (const id of [...recording.answers.keys()]) if (!only.has(id)) recording.answers.delete(id);
    const { compared, differences, unmodelled } = await replay(recording, selected);
    for (const d of differences) console.log(describeDifference(d) + "\n");
    for (const p of unmodelled) console.log(`not simulated: ${p.id}: ${p.unmodelled!.why}${p.unmodelled!.gate ? ` (the gate refuses it: ${p.unmodelled!.gate})` : ""}`);
    const what = `Espruino ${recording.meta.version} ${recording.meta.board} (${args.against})`;
    console.log(differences.length === 0 ? `the simulator agrees with ${what}: ${compared} probes` : `${differences.length} differences from ${what} over ${compared} probes`);
    return differences.length === 0 ? 0 : 1;
  }
  console.error(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(3);
  },
);
