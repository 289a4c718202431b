import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { rowPool } from '../chunks/pool.js';
import { chunkRows } from '../extent/grid.js';
import { MAX_LISTED_FAILURES, type BatchInput, type BatchResult } from '../job/types.js';

/** Heartbeat details: where a retry of this batch resumes, and what was done before that point. */
interface Checkpoint {
  next: number;
  /** Highest chunk handed to a thread by the attempt that wrote this checkpoint. */
  started: number;
  result: BatchResult;
}

const HEARTBEAT_EVERY_MS = 1000;

/**
 * Writes chunks [first, end) of a job, a row at a time on the chunk threads. Bad tiles fail their
 * chunks and are reported; anything else fails the attempt so Temporal retries it, resuming from
 * the last checkpoint.
 */
export async function ingestBatch(input: BatchInput): Promise<BatchResult> {
  const ctx = Context.current();
  const previous = ctx.info.heartbeatDetails as Checkpoint | undefined;
  const result: BatchResult = previous?.result ?? {
    written: 0,
    failed: 0,
    voxels: 0,
    rewritten: 0,
    failures: [],
  };
  const resumeAt = previous?.next ?? input.first;
  // Rows the previous attempt had started beyond its checkpoint may have been written: they are redone.
  const redoUpTo = previous ? Math.max(previous.started, previous.next) : input.first;

  const rows = chunkRows(input.job.grid, resumeAt, input.end, 8);
  const done = new Array<boolean>(rows.length).fill(false);
  let next = resumeAt;
  let started = resumeAt;
  const checkpoint = (): Checkpoint => ({ next, started, result });
  const ticker = setInterval(() => ctx.heartbeat(checkpoint()), HEARTBEAT_EVERY_MS);
  const pool = rowPool();
  try {
    let cursor = 0;
    const runOne = async (): Promise<void> => {
      while (cursor < rows.length && !ctx.cancellationSignal.aborted) {
        const i = cursor++;
        const [first, end] = rows[i]!;
        started = Math.max(started, end);
        const outcome = await pool.run({ job: input.job, first, end });
        if ('error' in outcome) {
          const { kind, message } = outcome.error;
          if (kind === 'job') throw ApplicationFailure.nonRetryable(message, 'JobError');
          throw ApplicationFailure.retryable(message, 'ChunkWriteError');
        }
        result.written += outcome.ok.written;
        result.voxels += outcome.ok.voxels;
        result.rewritten +=
          Math.max(0, Math.min(end, redoUpTo) - first) -
          outcome.ok.failures.filter((f) => f.chunk < redoUpTo).length;
        result.failed += outcome.ok.failures.length;
        for (const f of outcome.ok.failures)
          if (result.failures.length < MAX_LISTED_FAILURES) result.failures.push(f);
        done[i] = true;
        while (next < input.end) {
          const row = rows.findIndex(([f]) => f === next);
          if (row < 0 || !done[row]) break;
          next = rows[row]![1];
        }
        ctx.heartbeat(checkpoint());
      }
    };
    await Promise.all(Array.from({ length: Math.min(pool.maxThreads, rows.length) }, runOne));
    // A cancelled batch completes with what it wrote, so the job's counts match what is on disk.
    return ctx.cancellationSignal.aborted ? { ...result, cancelled: true } : result;
  } finally {
    clearInterval(ticker);
  }
}
