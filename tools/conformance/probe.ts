// What a conformance probe is, and the exact bytes it puts on the console, so a recording from a real Espruino and
// its replay on the simulated one send the same thing.
//
// Two kinds. A value probe is a function body evaluated on the device with the console echo off (a DLE line); its
// answer comes back as JSON between markers: `<<conform {"value":…}>>` or `{"threw":"Error: …"}` (String(e), the
// way the device prints it). With `async`, the body gets `done` and answers when it calls it (from a timer, an
// event). A raw probe sends lines as typed and keeps every byte that came back: it probes the console's framing.

import type { RuleId } from "../build/gate";

export interface RawStep {
  /** Bytes typed on the console (latin1), sent as they are: include the `\n`. */
  send: string;
  /** Virtual or real milliseconds to wait for what the step sets off (timers) before the line is read as quiet. */
  waitMs?: number;
}

export interface Probe {
  /** File name of its recording: lowercase words joined by `-`. */
  id: string;
  /** What is probed and why the device code cares. */
  about: string;
  /** A value probe: a function body whose `return` is the answer (one line: the REPL runs it as one). */
  value?: string;
  /** The body answers through `done(value)` instead of `return`. */
  async?: boolean;
  /** A raw probe: console steps, each recorded byte for byte. */
  raw?: RawStep[];
  /** Longest wait for a value probe's answer (default 2 s). */
  waitMs?: number;
  /** Boards the probe applies to (process.env.BOARD); all when absent. */
  boards?: string[];
  /** Text in what came back that varies from run to run, as [regular expression source, replacement]. */
  normalise?: Array<[string, string]>;
  /**
   * Behaviour the simulated Espruino cannot have (V8 underneath): the recording documents it, and the replay checks
   * instead that the build's compatibility gate refuses the probe's code with the rule `gate`, when one is given.
   */
  unmodelled?: { why: string; gate?: RuleId };
}

/** What one probe answered, as a recording keeps it. */
export interface ProbeAnswer {
  id: string;
  /** The bytes sent, per step (latin1). */
  sent: string[];
  /** The bytes received after each step, normalised (latin1). */
  received: string[];
  /** A value probe's answer: `{value}` or `{threw}`; absent when none came back. */
  answer?: { value?: unknown; threw?: string };
}

export const MARK_OPEN = "<<conform ";
export const MARK_CLOSE = ">>";

/** The console lines a probe sends. */
export function probeLines(probe: Probe): RawStep[] {
  if (probe.raw) return probe.raw;
  if (probe.value === undefined) throw new Error(`probe ${probe.id}: neither value nor raw`);
  if (/\n/.test(probe.value)) throw new Error(`probe ${probe.id}: a value body must be one line`);
  // `answer` is defined inside the line: nothing the REPL keeps between probes is needed.
  const answer = `function(r){print(${JSON.stringify(MARK_OPEN)}+JSON.stringify(r)+${JSON.stringify(MARK_CLOSE)})}`;
  const body = probe.async
    ? `(function(answer){try{(function(done){${probe.value}})(function(v){answer({value:v})})}catch(e){answer({threw:String(e)})}})(${answer})`
    : `(function(answer){var r;try{r={value:(function(){${probe.value}})()}}catch(e){r={threw:String(e)}}answer(r)})(${answer})`;
  return [{ send: "\x10" + body + "\n", waitMs: probe.waitMs }];
}

/** The answer between the markers in what came back, or undefined. */
export function parseAnswer(text: string): ProbeAnswer["answer"] {
  const open = text.indexOf(MARK_OPEN);
  if (open < 0) return undefined;
  const close = text.indexOf(MARK_CLOSE + "\r\n", open);
  if (close < 0) return undefined;
  try {
    return JSON.parse(text.slice(open + MARK_OPEN.length, close)) as ProbeAnswer["answer"];
  } catch {
    return { threw: `unparsable answer: ${text.slice(open, close + 2)}` };
  }
}

export function normalise(probe: Probe, text: string): string {
  let out = text;
  for (const [pattern, replacement] of probe.normalise ?? []) out = out.replace(new RegExp(pattern, "g"), replacement);
  return out;
}

export function appliesTo(probe: Probe, board: string): boolean {
  return !probe.boards || probe.boards.includes(board);
}
