/**
 * Where the engine's time goes on a thread, phase by phase: reading files, decoding tiles, copying
 * samples, compressing and writing chunks. Off unless a profile turns it on (the bench's, see
 * bench/profile.ts), which then runs the engine's own row work on one thread: a phase adds the
 * wall time during which at least one of its calls runs, so a row's four chunk writes in flight
 * at once count once. Off, a phase costs one test of a flag.
 */
export const PHASES = ['read', 'decode', 'copy', 'compress', 'write'] as const;
export type Phase = (typeof PHASES)[number];

type Totals = Record<Phase, number>;

let on = false;
const spent: Totals = { read: 0, decode: 0, copy: 0, compress: 0, write: 0 };
const running: Totals = { read: 0, decode: 0, copy: 0, compress: 0, write: 0 };
const since: Totals = { read: 0, decode: 0, copy: 0, compress: 0, write: 0 };

/** Starts (from zero) or stops counting on this thread. */
export function profilePhases(enabled: boolean): void {
  on = enabled;
  for (const p of PHASES) spent[p] = running[p] = since[p] = 0;
}

/** Milliseconds spent in each phase since profiling started. */
export function phaseTotals(): Totals {
  return { ...spent };
}

function enter(phase: Phase): void {
  if (running[phase]++ === 0) since[phase] = performance.now();
}

function leave(phase: Phase): void {
  if (--running[phase] === 0) spent[phase] += performance.now() - since[phase];
}

export function inPhase<T>(phase: Phase, work: () => T): T {
  if (!on) return work();
  enter(phase);
  try {
    return work();
  } finally {
    leave(phase);
  }
}

export async function inPhaseAsync<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
  if (!on) return work();
  enter(phase);
  try {
    return await work();
  } finally {
    leave(phase);
  }
}
