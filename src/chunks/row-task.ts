/**
 * Entry point of a chunk thread. Errors cross the thread boundary as data, because structured
 * cloning drops an Error's class and code, which decide whether a retry can help.
 */
import sharp from 'sharp';
import { classify } from '../errors.js';
import type { JobSpec } from '../job/types.js';
import { ingestRow, type RowResult } from './row.js';

// The pool runs one row per thread; libvips threads inside each decode would only compete.
sharp.concurrency(1);
sharp.cache(false);

export interface RowTask {
  job: JobSpec;
  first: number;
  end: number;
}

/** `job`: retrying cannot help (bad config, unusable destination); `retry`: anything else. */
export type RowOutcome = { ok: RowResult } | { error: { kind: 'job' | 'retry'; message: string } };

export default async function runRowTask(task: RowTask): Promise<RowOutcome> {
  try {
    return { ok: await ingestRow(task.job, task.first, task.end) };
  } catch (err) {
    return threadError(err);
  }
}

/** An error as data that crosses the thread boundary, keeping whether a retry can help. */
export function threadError(err: unknown): { error: { kind: 'job' | 'retry'; message: string } } {
  const kind = classify(err) === 'job' ? 'job' : 'retry';
  return { error: { kind, message: (err as Error).message ?? String(err) } };
}
