// A recording on disk: `meta.json` (what answered, when, over which port) and one `<probe id>.json` per probe with
// what was sent and what came back. Replaying compares the simulated Espruino against it, probe by probe.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gate } from "../build/gate";
import { appliesTo, probeLines, type Probe, type ProbeAnswer } from "./probe";
import { openSimLine } from "./lines";
import { runProbe, type Identity } from "./run";

export interface RecordingMeta extends Identity {
  /** Where it was recorded from, e.g. "tcp://127.0.0.1:2323". */
  port: string;
  recordedAt: string;
  probes: number;
}

export interface Recording {
  meta: RecordingMeta;
  answers: Map<string, ProbeAnswer & { about?: string }>;
}

export function writeRecording(dir: string, meta: RecordingMeta, answers: ProbeAnswer[], probes: Probe[]): void {
  mkdirSync(dir, { recursive: true });
  // A re-recording replaces the folder's probes: a probe since removed must not linger as a stale recording.
  for (const name of readdirSync(dir)) if (name.endsWith(".json")) rmSync(join(dir, name));
  writeFileSync(join(dir, "meta.json"), JSON.stringify(meta, null, 1) + "\n");
  const about = new Map(probes.map((p) => [p.id, p.about]));
  for (const a of answers) writeFileSync(join(dir, `${a.id}.json`), JSON.stringify({ about: about.get(a.id), ...a }, null, 1) + "\n");
}

export function readRecording(dir: string): Recording {
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as RecordingMeta;
  const answers = new Map<string, ProbeAnswer & { about?: string }>();
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith(".json") || name === "meta.json") continue;
    const answer = JSON.parse(readFileSync(join(dir, name), "utf8")) as ProbeAnswer;
    answers.set(answer.id, answer);
  }
  return { meta, answers };
}

/** One way the simulator's answer differs from the recording (or the recording from the probes). */
export interface Difference {
  probe: string;
  about: string;
  problem: string;
  recorded?: string;
  simulated?: string;
}

/** Replays every probe that applies to the recording's board on a fresh simulated board; lists each difference. */
export interface Replay {
  /** Probes run on the simulator and compared. */
  compared: number;
  differences: Difference[];
  /** Probes of behaviour the simulator does not have, checked against the gate where it can refuse them. */
  unmodelled: Probe[];
}

export async function replay(recording: Recording, probes: Probe[]): Promise<Replay> {
  const differences: Difference[] = [];
  const unmodelled: Probe[] = [];
  const board = recording.meta.board;
  const line = openSimLine(board, recording.meta.version);
  let compared = 0;
  const known = new Set<string>();
  for (const probe of probes) {
    if (!appliesTo(probe, board)) continue;
    known.add(probe.id);
    const recorded = recording.answers.get(probe.id);
    const base = { probe: probe.id, about: probe.about };
    if (!recorded) {
      differences.push({ ...base, problem: `not recorded from ${board}: record it again (npm run conformance -- --record)` });
      continue;
    }
    const sent = probeLines(probe).map((s) => s.send);
    if (JSON.stringify(sent) !== JSON.stringify(recorded.sent)) {
      differences.push({ ...base, problem: "the probe changed since it was recorded: record it again", recorded: JSON.stringify(recorded.sent), simulated: JSON.stringify(sent) });
      continue;
    }
    if (probe.unmodelled) {
      unmodelled.push(probe);
      const rule = probe.unmodelled.gate;
      if (rule && !gate(sent.join("\n").replace(/\x10/g, "")).some((f) => f.rule === rule)) {
        differences.push({ ...base, problem: `not simulated (${probe.unmodelled.why}), and the compatibility gate does not refuse it as ${rule}` });
      }
      continue;
    }
    const simulated = await runProbe(line, probe);
    compared++;
    recorded.received.forEach((text, step) => {
      const got = simulated.received[step];
      if (got !== text) differences.push({ ...base, problem: `step ${step}: the console bytes differ`, recorded: JSON.stringify(text), simulated: JSON.stringify(got) });
    });
  }
  for (const id of recording.answers.keys()) {
    if (!known.has(id)) differences.push({ probe: id, about: "", problem: "recorded, but no such probe any more: record again" });
  }
  await line.close();
  return { compared, differences, unmodelled };
}

export function describeDifference(d: Difference): string {
  let out = `${d.probe}: ${d.problem}`;
  if (d.about) out += `\n  probes: ${d.about}`;
  if (d.recorded !== undefined) out += `\n  real:      ${d.recorded}`;
  if (d.simulated !== undefined) out += `\n  simulated: ${d.simulated}`;
  return out;
}
