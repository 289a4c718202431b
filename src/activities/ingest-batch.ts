import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { rowPool } from '../chunks/pool.js';
import type { RowResult } from '../chunks/row.js';
import { chunkRows } from '../extent/grid.js';
import { count } from '../metrics/counters.js';
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
  if (previous) count('boss_ingest_batch_resumes_total');
  const rows = chunkRows(input.job.grid, previous?.next ?? input.first, input.end, ROW_LENGTH);
  const outcomes = new Array<RowResult | undefined>(rows.length);
  // The checkpoint holds the rows before `next` only: rows finished out of order beyond it are
  // redone by a retry, so counting them now would count them twice.
  let next = rows[0]?.[0] ?? input.end;
  let committed = 0;
  const checkpoint = (): Checkpoint => ({ next, result });
  const ticker = setInterval(() => ctx.heartbeat(checkpoint()), HEARTBEAT_EVERY_MS);
  const pool = rowPool();
  let cursor = 0;
  let failure: unknown;

  const commit = (): void => {
    for (; committed < rows.length && outcomes[committed]; committed++) {
      const row = outcomes[committed]!;
      const [first, end] = rows[committed]!;
      addRow(result, row);
      // Every chunk a retry processes may have been written by the interrupted attempt.
      if (retry) result.rewritten += end - first;
      next = end;
    }
  };

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
      outcomes[i] = outcome.ok;
      commit();
      ctx.heartbeat(checkpoint());
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(pool.maxThreads, rows.length) }, runRows));
    if (failure !== undefined) throw failure;
    if (ctx.cancellationSignal.aborted) {
      // The job was cancelled: complete with what was written, so the job's counts match the disk.
      if (ctx.cancellationDetails?.cancelRequested) {
        // Nothing will redo the rows finished beyond the checkpoint: count them too.
        const all = { ...result, failures: [...result.failures], cancelled: true };
        for (const row of outcomes.slice(committed)) if (row) addRow(all, row);
        return all;
      }
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

function addRow(result: BatchResult, row: RowResult): void {
  result.written += row.written;
  result.voxels += row.voxels;
  result.failed += row.failures.length;
  for (const f of row.failures) if (result.failures.length < MAX_LISTED_FAILURES) result.failures.push(f);
}

function describeCancel(ctx: Context): string {
  const d = ctx.cancellationDetails;
  if (d?.workerShutdown) return 'worker shutting down';
  if (d?.timedOut) return 'timed out';
  if (d?.paused) return 'paused';
  return 'stopped';
}
