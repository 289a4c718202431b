import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { rowPool } from '../chunks/pool.js';
import { chunkRows } from '../extent/grid.js';
import { MAX_LISTED_FAILURES, type BatchInput, type BatchResult } from '../job/types.js';

/** Heartbeat details: where a retry of this batch resumes, and what was done before that point. */
interface Checkpoint {
  next: number;
  result: BatchResult;
}

const HEARTBEAT_EVERY_MS = 1000;
/** Chunks per row task: rows longer than this are split so threads share the work of a batch. */
const ROW_LENGTH = 8;

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
  const retry = ctx.info.attempt > 1;
  const rows = chunkRows(input.job.grid, previous?.next ?? input.first, input.end, ROW_LENGTH);
  const done = new Array<boolean>(rows.length).fill(false);
  let next = rows[0]?.[0] ?? input.end;
  const checkpoint = (): Checkpoint => ({ next, result });
  const ticker = setInterval(() => ctx.heartbeat(checkpoint()), HEARTBEAT_EVERY_MS);
  const pool = rowPool();
  let cursor = 0;
  let failure: unknown;

  const runRows = async (): Promise<void> => {
    while (cursor < rows.length && !ctx.cancellationSignal.aborted && failure === undefined) {
      const i = cursor++;
      const [first, end] = rows[i]!;
      const outcome = await pool.run({ job: input.job, first, end });
      if ('error' in outcome) {
        const { kind, message } = outcome.error;
        failure ??=
          kind === 'job'
            ? ApplicationFailure.nonRetryable(message, 'JobError')
            : ApplicationFailure.retryable(message, 'ChunkWriteError');
        return;
      }
      result.written += outcome.ok.written;
      result.voxels += outcome.ok.voxels;
      result.failed += outcome.ok.failures.length;
      // Every chunk a retry processes may have been written by the interrupted attempt.
      if (retry) result.rewritten += end - first;
      for (const f of outcome.ok.failures)
        if (result.failures.length < MAX_LISTED_FAILURES) result.failures.push(f);
      done[i] = true;
      let j = rows.findIndex(([f]) => f === next);
      while (j >= 0 && done[j]) next = rows[j++]?.[1] ?? input.end;
      ctx.heartbeat(checkpoint());
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(pool.maxThreads, rows.length) }, runRows));
    if (failure !== undefined) throw failure;
    if (ctx.cancellationSignal.aborted) {
      // The job was cancelled: complete with what was written, so the job's counts match the disk.
      if (ctx.cancellationDetails?.cancelRequested) return { ...result, cancelled: true };
      // Worker shutdown or a timeout: hand the batch back; a retry resumes from the checkpoint.
      throw ApplicationFailure.retryable(
        `batch interrupted (${describeCancel(ctx)}); resuming elsewhere`,
        'BatchInterrupted',
      );
    }
    return result;
  } finally {
    clearInterval(ticker);
  }
}

function describeCancel(ctx: Context): string {
  const d = ctx.cancellationDetails;
  if (d?.workerShutdown) return 'worker shutting down';
  if (d?.timedOut) return 'timed out';
  if (d?.paused) return 'paused';
  return 'stopped';
}
