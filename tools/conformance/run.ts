// Runs probes over a line, one at a time, each after a `reset()` so none sees what another left behind.

import { appliesTo, MARK_OPEN, normalise, parseAnswer, probeLines, type Probe, type ProbeAnswer } from "./probe";
import { ANSWER_MS, type ProbeLine } from "./lines";

/** Sent before every probe, then SYNC_LINE, whose answer says the reset is over; their output is not recorded. */
export const RESET_LINE = "\x10reset()\n";
const SYNC_MARK = "<<sync>>";
const SYNC_LINE = `\x10print(${JSON.stringify(SYNC_MARK)})\n`;
const RESET_MS = 10_000;

/** What the interpreter says it is: process.env's VERSION and BOARD. */
export interface Identity {
  version: string;
  board: string;
}

export async function identify(line: ProbeLine): Promise<Identity> {
  const text = await line.exchange("\x10print('<<id '+JSON.stringify([process.env.VERSION,process.env.BOARD])+'>>')\n", ANSWER_MS, "<<id ");
  const m = /<<id (\[.*\])>>/.exec(text);
  if (!m) throw new Error(`the device did not say what it is; it answered ${JSON.stringify(text)}`);
  const [version, board] = JSON.parse(m[1]) as [string, string];
  return { version, board };
}

export async function runProbe(line: ProbeLine, probe: Probe): Promise<ProbeAnswer> {
  await line.exchange(RESET_LINE, 0);
  const synced = await line.exchange(SYNC_LINE, RESET_MS, SYNC_MARK);
  if (!synced.includes(SYNC_MARK)) throw new Error(`probe ${probe.id}: the device did not answer after reset() (got ${JSON.stringify(synced)})`);
  const steps = probeLines(probe);
  const received: string[] = [];
  for (const step of steps) {
    const text = await line.exchange(step.send, step.waitMs ?? (probe.raw ? 0 : ANSWER_MS), probe.raw ? undefined : MARK_OPEN);
    received.push(normalise(probe, text));
  }
  const result: ProbeAnswer = { id: probe.id, sent: steps.map((s) => s.send), received };
  if (!probe.raw) result.answer = parseAnswer(received.join(""));
  return result;
}

export async function runProbes(line: ProbeLine, probes: Probe[], board: string, progress?: (p: Probe) => void): Promise<ProbeAnswer[]> {
  const out: ProbeAnswer[] = [];
  for (const probe of probes) {
    if (!appliesTo(probe, board)) continue;
    progress?.(probe);
    out.push(await runProbe(line, probe));
  }
  return out;
}
