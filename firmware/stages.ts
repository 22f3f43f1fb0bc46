// The bench's usage probe, built only into the bench's copy of the bundles (PSTORE_STAGES, BuildOptions.stages):
// start() notes process.memory().usage after each of its steps, and tools/bench/device-figures.ts (startSteps)
// turns the notes into where the variables after boot go.

declare var global: object;

/**
 * Appends [step, usage before this note] to the global `pstoreStages`. Each note costs the variables of its entry:
 * start() takes the first three back to back, so the last two tell how many.
 */
export function stage(step: string): void {
  const usage = process.memory().usage;
  const root: any = global;
  (root.pstoreStages = root.pstoreStages || []).push([step, usage]);
}

/** `made`, noted as `step` once made (for a step that is an argument of a call). */
export function staged<T>(made: T, step: string): T {
  stage(step);
  return made;
}

