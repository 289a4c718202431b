/**
 * The pyramid stage's activities: plan it, open its arrays, and build (or for a verify, check)
 * batches of one level's chunks on the pyramid threads with heartbeat checkpoints, like the
 * ingest's batches. Inputs are
 * ranges of chunk indices, never pixels; a chunk rebuilt comes out the same, so retries are safe.
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE } from '../errors.js';
import { preparePyramid } from '../pyramid/build.js';
import type { PyramidJob } from '../pyramid/job.js';
import { pyramidPool } from '../pyramid/pool.js';
import { dropStaging } from '../pyramid/staging.js';
import { planPyramidCheck, planPyramidStage } from '../pyramid/stage.js';
import type { PyramidChunkOutcome } from '../pyramid/chunk-task.js';
import type { ZarrVolume } from '../destinations/zarr.js';
import { listFailure } from '../job/progress.js';
import type { ChunkFailure } from '../job/types.js';
import { existingZarrVolume } from '../destinations/zarr-existing.js';
import type { MultiscaleConfig } from '../pyramid/levels.js';
import { HEARTBEAT_EVERY_MS, RowQueue } from './ingest-batch.js';
import { asJobFailure } from './prepare-job.js';

export interface PyramidBatchInput {
  job: PyramidJob;
  level: number;
  /** Chunks [first, end) of the level's grid. */
  first: number;
  end: number;
  /** Verify: compare each chunk with the one the level below gives instead of writing it. */
  check?: boolean;
}

export interface PyramidBatchResult {
  /** Chunks built or checked (by this attempt and the ones it resumed from). */
  built: number;
  /** Checked chunks that differ or cannot be read; the first MAX_LISTED_FAILURES of them listed. */
  failed: number;
  failures: ChunkFailure[];
  cancelled?: boolean;
}

/** Where a retry resumes: every chunk before `next` is done, and these are its findings. */
interface PyramidCheckpoint {
  next: number;
  failed?: number;
  failures?: ChunkFailure[];
}

type ChunkDone = Extract<PyramidChunkOutcome, { ok: true }>;

/**
 * Counts finished chunks into the checkpoint in index order: chunks finish out of order on the
 * threads, and a retry redoes everything from `next`.
 */
class LevelCommitter {
  private readonly finished: ChunkDone[] = [];
  readonly checkpoint: Required<PyramidCheckpoint>;

  constructor(
    private readonly start: number,
    private readonly end: number,
    previous: PyramidCheckpoint | undefined,
  ) {
    this.checkpoint = { next: start, failed: previous?.failed ?? 0, failures: previous?.failures ?? [] };
  }

  finish(index: number, outcome: ChunkDone): void {
    this.finished[index - this.start] = outcome;
    const c = this.checkpoint;
    for (; c.next < this.end && this.finished[c.next - this.start]; c.next++) {
      const failure = this.finished[c.next - this.start]!.failure;
      if (!failure) continue;
      c.failed++;
      listFailure(c.failures, failure);
    }
  }

  /**
   * The batch's result from its first chunk: the checkpoint's and the chunks finished beyond it
   * (for a cancelled batch, which nothing redoes).
   */
  result(first: number): PyramidBatchResult {
    const { next, failed, failures } = this.checkpoint;
    const result = { built: next - first, failed, failures: [...failures] };
    for (const outcome of this.finished.slice(next - this.start)) {
      if (!outcome) continue;
      result.built++;
      if (!outcome.failure) continue;
      result.failed++;
      listFailure(result.failures, outcome.failure);
    }
    return result;
  }
}

async function asStage<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw asJobFailure(err);
  }
}

export const pyramidPlan = (input: Parameters<typeof planPyramidStage>[0]) =>
  asStage(() => {
    // The threads start while the stage is planned and its arrays opened.
    pyramidPool();
    return planPyramidStage(input);
  });

/** Verify: the pyramid to check above level 0, or undefined when the volume has none to check. */
export const pyramidCheckPlan = (volume: ZarrVolume) =>
  asStage(() => {
    pyramidPool();
    return planPyramidCheck(volume);
  });

export const pyramidOpen = (job: PyramidJob) => asStage(() => preparePyramid(job));

/** The pyramid is built: the parts staged for it (and any a failed chunk left) go. */
export const pyramidFinish = (job: PyramidJob) =>
  asStage(async () => {
    if (job.staging) await dropStaging(job.staging.dir);
  });

/** `downsample VOLUME`: the volume as stored, with the pyramid asked for. */
export const pyramidVolume = (input: { path: string; multiscale: MultiscaleConfig }) =>
  asStage(async () => ({ ...(await existingZarrVolume(input.path)), multiscale: input.multiscale }));

export async function pyramidBatch(input: PyramidBatchInput): Promise<PyramidBatchResult> {
  const ctx = Context.current();
  const previous = ctx.info.heartbeatDetails as PyramidCheckpoint | undefined;
  const start = previous?.next ?? input.first;
  const committer = new LevelCommitter(start, input.end, previous);
  const ticker = setInterval(() => ctx.heartbeat(committer.checkpoint), HEARTBEAT_EVERY_MS);
  const queue = new RowQueue(input.end - start, ctx.cancellationSignal);
  const { job, level, check } = input;
  const thread = async () => {
    for (let i = queue.take(); i !== undefined; i = queue.take()) {
      const index = start + i;
      const outcome = await pyramidPool().run({ job, level, index, ...(check ? { check } : {}) });
      if ('error' in outcome) return queue.fail(outcome);
      committer.finish(index, outcome);
      ctx.heartbeat(committer.checkpoint);
    }
  };
  try {
    if (start > input.first)
      log.info('pyramid batch resumes from its checkpoint', { ...input, job: undefined, next: start });
    const threads = Math.min(pyramidPool().maxThreads, input.end - start);
    await Promise.all(Array.from({ length: threads }, thread));
    if (queue.failure !== undefined) throw queue.failure;
    const { first, end } = input;
    const result = committer.result(first);
    const { failed } = result;
    if (!ctx.cancellationSignal.aborted) {
      log.info(check ? 'pyramid check batch finished' : 'pyramid batch finished', {
        level,
        first,
        end,
        failed,
      });
      return result;
    }
    if (ctx.cancellationDetails?.cancelRequested) return { ...result, cancelled: true };
    throw ApplicationFailure.retryable(
      'pyramid batch interrupted; resuming elsewhere',
      FAILURE.batchInterrupted,
    );
  } finally {
    clearInterval(ticker);
    queue.close();
  }
}
