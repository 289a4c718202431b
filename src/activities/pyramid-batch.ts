/**
 * The pyramid stage's activities: plan it, open its arrays, and build batches of one level's
 * chunks on the pyramid threads with heartbeat checkpoints, like the ingest's batches. Inputs are
 * ranges of chunk indices, never pixels; a chunk rebuilt comes out the same, so retries are safe.
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE } from '../errors.js';
import { preparePyramid, type PyramidJob } from '../pyramid/build.js';
import { pyramidPool } from '../pyramid/pool.js';
import { planPyramidStage } from '../pyramid/stage.js';
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
}

export interface PyramidBatchResult {
  /** Chunks built (by this attempt and the ones it resumed from). */
  built: number;
  cancelled?: boolean;
}

/** Where a retry resumes: every chunk before `next` is built. */
interface PyramidCheckpoint {
  next: number;
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

export const pyramidOpen = (job: PyramidJob) => asStage(() => preparePyramid(job));

/** `downsample VOLUME`: the volume as stored, with the pyramid asked for. */
export const pyramidVolume = (input: { path: string; multiscale: MultiscaleConfig }) =>
  asStage(async () => ({ ...(await existingZarrVolume(input.path)), multiscale: input.multiscale }));

export async function pyramidBatch(input: PyramidBatchInput): Promise<PyramidBatchResult> {
  const ctx = Context.current();
  const start = (ctx.info.heartbeatDetails as PyramidCheckpoint | undefined)?.next ?? input.first;
  const built = new Uint8Array(input.end - start);
  let next = start;
  const ticker = setInterval(() => ctx.heartbeat({ next } satisfies PyramidCheckpoint), HEARTBEAT_EVERY_MS);
  const queue = new RowQueue(input.end - start, ctx.cancellationSignal);
  const thread = async () => {
    for (let i = queue.take(); i !== undefined; i = queue.take()) {
      const outcome = await pyramidPool().run({ job: input.job, level: input.level, index: start + i });
      if ('error' in outcome) return queue.fail(outcome);
      built[i] = 1;
      while (next < input.end && built[next - start]) next++;
      ctx.heartbeat({ next } satisfies PyramidCheckpoint);
    }
  };
  try {
    if (start > input.first)
      log.info('pyramid batch resumes from its checkpoint', { ...input, job: undefined, next });
    await Promise.all(Array.from({ length: Math.min(pyramidPool().maxThreads, built.length) }, thread));
    if (queue.failure !== undefined) throw queue.failure;
    const count = start - input.first + built.reduce((a, b) => a + b, 0);
    const { level, first, end } = input;
    if (!ctx.cancellationSignal.aborted) {
      log.info('pyramid batch finished', { level, first, end });
      return { built: count };
    }
    if (ctx.cancellationDetails?.cancelRequested) return { built: count, cancelled: true };
    throw ApplicationFailure.retryable(
      'pyramid batch interrupted; resuming elsewhere',
      FAILURE.batchInterrupted,
    );
  } finally {
    clearInterval(ticker);
  }
}
