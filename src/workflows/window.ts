/**
 * The sliding window of a job's batches: how many are in flight, and what each outcome does to the
 * job's progress. Pure and synchronous (the workflow does the waiting), so it is deterministic and
 * testable on its own.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  type ActivityOptions,
} from '@temporalio/common';
import { FAILURE } from '../errors.js';
import { failureStopReason, type FailureStopRule } from '../job/failure-stop.js';
import { recordBatch, recordBatchFailure } from '../job/progress.js';
import type { BatchResult, ChunkFailure, Progress } from '../job/types.js';

/** The options of every batch activity: the ingest's and the pyramid's. */
export const BATCH_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 hour',
  // Short, so a killed worker's batch is retried within seconds and a cancel reaches activities fast.
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [FAILURE.jobError],
  },
};

/** Chunks [first, end) of the job. */
export interface BatchRange {
  first: number;
  end: number;
}

/** The innermost message of a failure chain: the activity's own words, not Temporal's wrapping. */
export function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

/** True when an activity failed with an error that ends the job (see src/errors.ts). */
export function endsJob(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === FAILURE.jobError
  );
}

export class BatchWindow {
  private inFlight = 0;
  /** Set by the first failure that ends the job: no batch starts after it. */
  fatal: string | undefined;
  /** The job ends because its chunks kept failing, not because of one error. */
  stoppedEarly = false;

  constructor(
    readonly size: number,
    private readonly progress: Progress,
    private readonly failures: ChunkFailure[],
    private readonly failureStop: FailureStopRule,
  ) {}

  get hasRoom(): boolean {
    return this.inFlight < this.size;
  }

  get drained(): boolean {
    return this.inFlight === 0;
  }

  launch(_range: BatchRange): void {
    this.inFlight++;
  }

  /** Returns true when the job must stop: its chunks keep failing (see failure-stop.ts). */
  onResult(_range: BatchRange, result: BatchResult, now: Date): boolean {
    this.inFlight--;
    recordBatch(this.progress, this.failures, result, now);
    const p = this.progress;
    const stop = failureStopReason(
      p.doneChunks + p.skippedChunks,
      p.failedChunks,
      this.failures,
      this.failureStop,
    );
    if (stop === undefined || this.fatal !== undefined) return false;
    this.fatal = stop;
    this.stoppedEarly = true;
    return true;
  }

  /** Returns true when the failure ends the job; otherwise the batch's chunks are counted as failed. */
  onFailure(range: BatchRange, err: unknown): boolean {
    this.inFlight--;
    const message = rootMessage(err);
    if (endsJob(err)) {
      this.fatal ??= message;
      return true;
    }
    recordBatchFailure(this.progress, this.failures, range.first, range.end, message);
    return false;
  }

  /** A batch stopped by the job's cancel: it reported nothing, so nothing is counted. */
  onCancelled(_range: BatchRange): void {
    this.inFlight--;
  }
}

/**
 * The chunks of a level that are done, as the prefix [0, prefix) done in full: batches finish out
 * of order, and what is built above waits on every chunk under it.
 */
export class DonePrefix {
  private readonly pending: BatchRange[] = [];

  constructor(public prefix = 0) {}

  add(range: BatchRange): void {
    this.pending.push(range);
    this.pending.sort((a, b) => a.first - b.first);
    while (this.pending.length > 0 && this.pending[0]!.first <= this.prefix)
      this.prefix = Math.max(this.prefix, this.pending.shift()!.end);
  }
}
