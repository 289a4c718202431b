/**
 * When a job should give up: a job whose chunks keep failing (a wrong root_dir, a wrong extent)
 * would otherwise grind through millions of chunks to end "completed with errors" hours later.
 * Pure: the workflow uses it.
 */
import type { ChunkFailure } from './types.js';

export interface FailureStopRule {
  /** Stop once more than this fraction of the processed chunks failed; 1 never stops. */
  maxFailedFraction: number;
  /** ...judged only after this many chunks were processed. */
  afterChunks: number;
}

const MISSING = 'file not found';

/** The reason to stop the job, or undefined to go on. */
export function failureStopReason(
  written: number,
  failed: number,
  failures: readonly ChunkFailure[],
  rule: FailureStopRule,
): string | undefined {
  const processed = written + failed;
  if (rule.maxFailedFraction >= 1 || processed < rule.afterChunks || failed === 0) return undefined;
  if (failed / processed <= rule.maxFailedFraction) return undefined;
  const share = failed === processed ? `all ${processed}` : `${failed} of ${processed}`;
  return `stopped early: ${share} chunks processed so far failed (${commonReason(failures, failed === processed)})`;
}

/** The most frequent failure, said the way a user can act on. */
export function commonReason(failures: readonly ChunkFailure[], every: boolean): string {
  const counts = new Map<string, { n: number; example: ChunkFailure }>();
  for (const f of failures) {
    const entry = counts.get(f.reason);
    if (entry) entry.n++;
    else counts.set(f.reason, { n: 1, example: f });
  }
  const top = [...counts.values()].sort((a, b) => b.n - a.n)[0];
  if (!top) return 'no reason recorded';
  const where = top.example.file ?? `chunk ${top.example.chunk}`;
  if (top.example.reason === MISSING) {
    return `${every && top.n === failures.length ? 'every' : 'most'} tile so far is missing, e.g. ${where}: check root_dir and the extent`;
  }
  const many =
    top.n === failures.length ? 'every failure' : `${top.n} of the ${failures.length} failures listed`;
  return `${many}: ${top.example.reason}, e.g. ${where}`;
}
