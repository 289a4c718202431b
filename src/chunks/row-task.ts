/**
 * Entry point of a chunk thread. Errors cross the thread boundary as data, because structured
 * cloning drops an Error's class and code, which decide whether a retry can help.
 */
import sharp from 'sharp';
import { classify } from '../errors.js';
import type { JobSpec } from '../job/types.js';
import { ingestRow, type RowResult } from './row.js';
import { ingestSlab } from './slab.js';

// The pool runs one row per thread; libvips threads inside each decode would only compete.
sharp.concurrency(1);
sharp.cache(false);

export interface RowTask {
  job: JobSpec;
  first: number;
  end: number;
  /** The chunks lie in one z-slab of a z-index stack: read each slice once (slab.ts). */
  slab?: boolean;
}

/** `job`: retrying cannot help (bad config, unusable destination); `retry`: anything else. */
export type RowOutcome = { ok: RowResult } | { error: { kind: 'job' | 'retry'; message: string } };

export default function runRowTask(task: RowTask): Promise<RowOutcome> {
  const ingest = task.slab ? ingestSlab : ingestRow;
  return rowOutcome(() => ingest(task.job, task.first, task.end));
}

/** A row's result, or its error as data (see above). Shared by every task a chunk thread runs. */
export async function rowOutcome(row: () => Promise<RowResult>): Promise<RowOutcome> {
  try {
    return { ok: await row() };
  } catch (err) {
    return threadError(err);
  }
}

/** An error as data that crosses the thread boundary, keeping whether a retry can help. */
export function threadError(err: unknown): { error: { kind: 'job' | 'retry'; message: string } } {
  const kind = classify(err) === 'job' ? 'job' : 'retry';
  return { error: { kind, message: (err as Error).message ?? String(err) } };
}
