import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { rowPool } from '../chunks/pool.js';
import { rowLength } from '../chunks/row-memory.js';
import type { RowResult } from '../chunks/row.js';
import type { RowOutcome } from '../chunks/row-task.js';
import { FAILURE } from '../errors.js';
import { chunkRows, chunkSlabs } from '../extent/grid.js';
import { count } from '../metrics/counters.js';
import { readsWholeSlices } from '../plugins/names.js';
import { MAX_LISTED_FAILURES, type BatchInput, type BatchResult } from '../job/types.js';
import { LevelOneBuilds } from './level-one.js';
import { batchDrained } from '../worker/batch-slots.js';

/** Heartbeat details: where a retry of this batch resumes, and what was done before that point. */
export interface Checkpoint {
  next: number;
  result: BatchResult;
}

export const HEARTBEAT_EVERY_MS = 1000;
/** Chunks per row task: rows longer than this are split so threads share the work of a batch. */
export const ROW_LENGTH = 8;

type Row = [first: number, end: number];

/**
 * Counts finished rows into the batch's result in row order. Rows finish out of order on the
 * threads; the checkpoint covers the finished prefix only, since a retry redoes the rest and
 * counting them now would count them twice.
 */
export class RowCommitter {
  private readonly outcomes: (RowResult | undefined)[];
  private committed = 0;
  /** First chunk not covered by the checkpoint. */
  private next: number;

  constructor(
    private readonly rows: Row[],
    private readonly result: BatchResult,
    /** A retry may redo chunks the interrupted attempt wrote: count them as rewritten. */
    private readonly retry: boolean,
    end: number,
  ) {
    this.outcomes = new Array<RowResult | undefined>(rows.length);
    this.next = rows[0]?.[0] ?? end;
  }

  finish(index: number, row: RowResult): void {
    this.outcomes[index] = row;
    for (; this.committed < this.rows.length && this.outcomes[this.committed]; this.committed++) {
      const [first, end] = this.rows[this.committed]!;
      addRow(this.result, this.outcomes[this.committed]!);
      if (this.retry) this.result.rewritten += end - first;
      this.next = end;
    }
  }

  checkpoint(): Checkpoint {
    return { next: this.next, result: this.result };
  }

  /** The committed result plus the rows finished beyond the checkpoint: for a cancelled batch, which nothing redoes. */
  everything(): BatchResult {
    const all = { ...this.result, failures: [...this.result.failures] };
    for (const row of this.outcomes.slice(this.committed)) if (row) addRow(all, row);
    return all;
  }
}

/** Hands rows (or chunks) to the threads in order until all are taken, the batch is cancelled or one fails. */
export class RowQueue {
  private cursor = 0;
  failure: unknown;

  constructor(
    private readonly length: number,
    private readonly cancelled: AbortSignal,
  ) {}

  /** Set once a thread finds no row left: the batch's slot no longer holds the next batch back (see batch-slots.ts). */
  private undrain: (() => void) | undefined;

  take(): number | undefined {
    if (this.cancelled.aborted || this.failure !== undefined) return undefined;
    if (this.cursor < this.length) return this.cursor++;
    this.undrain ??= batchDrained();
    return undefined;
  }

  /** The batch ends: it holds its slot until the slot is released. */
  close(): void {
    this.undrain?.();
  }

  fail(outcome: Extract<RowOutcome, { error: unknown }>): void {
    const { kind, message } = outcome.error;
    this.failure ??=
      kind === 'job'
        ? ApplicationFailure.nonRetryable(message, FAILURE.jobError)
        : ApplicationFailure.retryable(message, FAILURE.chunkWrite);
  }
}

/**
 * Writes chunks [first, end) of a job, a row at a time on the chunk threads. Bad tiles fail their
 * chunks and are reported; anything else fails the attempt so Temporal retries it, resuming from
 * the last checkpoint.
 */
export function ingestBatch(input: BatchInput): Promise<BatchResult> {
  return chunkBatch(input);
}

/**
 * Runs chunks [first, end) a row at a time on the chunk threads, through `rowTask` (a chunk-thread
 * module like row-task.ts; the ingest's when omitted), with the ingest's heartbeats and checkpoints.
 */
export async function chunkBatch(input: BatchInput, rowTask?: string): Promise<BatchResult> {
  const ctx = Context.current();
  const previous = ctx.info.heartbeatDetails as Checkpoint | undefined;
  const start = previous?.next ?? input.first;
  const { grid, destination } = input.job;
  // A z-index stack's slices are read a z-slab at a time, each once; other sources (and other
  // tasks than the ingest's) a row at a time.
  const slab = rowTask === undefined && readsWholeSlices(input.job.config);
  const rows = slab
    ? chunkSlabs(grid, start, input.end)
    : chunkRows(grid, start, input.end, rowLength(grid.chunk, destination.datatype, ROW_LENGTH));
  const committer = new RowCommitter(
    rows,
    // Counts over zeros: a checkpoint from a worker older than `skipped` lacks that count.
    { ...emptyResult(), ...previous?.result },
    ctx.info.attempt > 1,
    input.end,
  );
  if (previous) count('boss_ingest_batch_resumes_total');
  if (previous)
    log.info('batch resumes from its checkpoint', { first: input.first, end: input.end, resumeAt: start });
  else log.info('batch starts', { first: input.first, end: input.end });
  const ticker = setInterval(() => ctx.heartbeat(committer.checkpoint()), HEARTBEAT_EVERY_MS);
  const levelOne =
    input.pyramid &&
    new LevelOneBuilds(input.pyramid, grid, input.first, input.end, !slab, ctx.cancellationSignal);
  const queue = new RowQueue(rows.length, ctx.cancellationSignal);
  try {
    const threads = Math.min(rowPool().maxThreads, rows.length);
    const rowsInput = { ...input, slab };
    await Promise.all(
      Array.from({ length: threads }, () =>
        runRows(rowsInput, rowTask, rows, queue, committer, ctx, levelOne),
      ),
    );
    if (queue.failure !== undefined) throw queue.failure;
    await levelOne?.finish();
    if (ctx.cancellationSignal.aborted) return stoppedBatch(ctx, committer);
    const built = levelOne?.built() ?? [];
    const result = { ...committer.checkpoint().result, ...(built.length > 0 ? { built } : {}) };
    log.info('batch finished', {
      first: input.first,
      end: input.end,
      written: result.written,
      failed: result.failed,
    });
    return result;
  } finally {
    clearInterval(ticker);
    queue.close();
  }
}

/** One thread's share: takes rows from the queue until none is left for it. */
async function runRows(
  input: BatchInput & { slab: boolean },
  rowTask: string | undefined,
  rows: Row[],
  queue: RowQueue,
  committer: RowCommitter,
  ctx: Context,
  levelOne: LevelOneBuilds | undefined,
): Promise<void> {
  for (let i = queue.take(); i !== undefined; i = queue.take()) {
    const [first, end] = rows[i]!;
    const job = levelOne?.rowJob(input.job, first, end) ?? input.job;
    const outcome = await rowPool().run({ job, first, end, slab: input.slab }, { filename: rowTask ?? null });
    if ('error' in outcome) return queue.fail(outcome);
    const { parts, ...row } = outcome.ok;
    for (const f of row.failures)
      log.warn('chunk failed', { chunk: f.chunk, file: f.file, reason: f.reason });
    committer.finish(i, row);
    ctx.heartbeat(committer.checkpoint());
    levelOne?.add(parts);
    levelOne?.written(committer.checkpoint().next);
  }
}

/**
 * The batch was stopped. A cancelled job: complete with what was written, so the job's counts
 * match the volume. A worker shutdown or timeout: hand the batch back; a retry resumes from the checkpoint.
 */
function stoppedBatch(ctx: Context, committer: RowCommitter): BatchResult {
  if (ctx.cancellationDetails?.cancelRequested) return { ...committer.everything(), cancelled: true };
  throw ApplicationFailure.retryable(
    `batch interrupted (${describeCancel(ctx)}); resuming elsewhere`,
    FAILURE.batchInterrupted,
  );
}

function emptyResult(): BatchResult {
  return { written: 0, skipped: 0, failed: 0, voxels: 0, rewritten: 0, failures: [] };
}

function addRow(result: BatchResult, row: RowResult): void {
  result.written += row.written;
  result.skipped += row.skipped;
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
