/** Settings derived from a job config. Pure: the workflow uses them. */
import type { Extent } from '../extent/grid.js';
import type { FailureStopRule } from '../job/failure-stop.js';
import type { JobConfig } from './types.js';

export function jobExtent(config: JobConfig): Extent {
  const e = config.ingest_job.extent;
  return { x: e.x, y: e.y, z: e.z, t: e.t ?? [0, 1] };
}

export interface EngineSettings {
  chunksPerBatch: number;
  window: number;
  batchesPerRun: number;
  /** Writes per second the job may send to its Boss (one per chunk), across all workers. */
  rateLimit?: number;
  failureStop: FailureStopRule;
}

export const ENGINE_DEFAULTS: EngineSettings = {
  // Fewer activities, history events and hand-offs a job. The bench's stacks, warm, interleaved
  // jobs of one worker, medians of 10-12: 8 -> 16 took the 8-bit stack (64 chunks) from 0.88 to
  // 0.80 s; 16 -> 32 from 0.76 to 0.72 s (best 0.71 -> 0.63), the dev server's CPU 0.13 -> 0.07 s
  // a job, JPEG 0.90 -> 0.84 s, 16-bit 0.82 -> 0.81 s. 64 (one batch) was slower than 32. A batch
  // spreads its rows over all of a worker's threads, so its size does not limit one worker.
  // Chunks of other sizes: BATCH_BYTES, of which this is the count of 4 MiB chunks.
  chunksPerBatch: 32,
  window: 16,
  batchesPerRun: 400,
  // Two batches' worth: a wrong root_dir or extent stops within seconds, a few bad tiles never.
  failureStop: { maxFailedFraction: 0.5, afterChunks: 64 },
};

/** Batches a job is cut into, at most, unless `chunks_per_batch` says otherwise. */
export const MAX_BATCHES = 20_000;
/** The largest batch the default makes: a retried batch resumes at its checkpoint, so size costs little. */
export const MAX_DEFAULT_BATCH = 1024;

/**
 * Voxel bytes a default batch holds: 32 chunks of 16x512x512 uint8. Each batch costs the Temporal
 * server about 25 ms of CPU (its activity's and workflow tasks' events), whatever its chunks hold;
 * a time series' 2 MiB chunks (4x512x512 uint16) in batches of 32 gave the dev server 0.98 CPU-s
 * of a 3.5 s job on the same two cores, in batches of 64 0.55 (interleaved, warm, medians of 8:
 * 3.53 -> 3.37 s, best 3.18 -> 2.87 s); the 16-bit stack's 8 MiB chunks in batches of 16 instead
 * of one batch of 32 ran 0.82 -> 0.80 s (medians of 10).
 */
export const BATCH_BYTES = 128 * 2 ** 20;

/**
 * The default batch size: BATCH_BYTES of chunks, grown with the job: one execution completes
 * tens of activities a second, so a petabyte (2.5x10^8 chunks) in batches of 16 would be bound by
 * its workflow, not its workers; in batches of 1,024 it needs a few a second. A power of two, so
 * batches stay row-aligned. `chunkBytes` is absent for plans made before it counted (4 MiB, 32).
 */
export function defaultChunksPerBatch(
  totalChunks: number,
  chunkBytes = BATCH_BYTES / ENGINE_DEFAULTS.chunksPerBatch,
): number {
  let size = 1;
  while (size < MAX_DEFAULT_BATCH && size * 2 * chunkBytes <= BATCH_BYTES) size *= 2;
  while (size < MAX_DEFAULT_BATCH && totalChunks / size > MAX_BATCHES) size *= 2;
  return size;
}

/** `plannedBatch`: the plan's default batch size (JobPlan.chunksPerBatch), where it has one. */
export function engineSettings(
  config: JobConfig,
  totalChunks: number,
  plannedBatch?: number,
): EngineSettings {
  const e = config.engine ?? {};
  return {
    chunksPerBatch: e.chunks_per_batch ?? plannedBatch ?? defaultChunksPerBatch(totalChunks),
    window: e.window ?? ENGINE_DEFAULTS.window,
    batchesPerRun: e.batches_per_run ?? ENGINE_DEFAULTS.batchesPerRun,
    rateLimit: config.client.backend.name === 'boss' ? config.client.backend.rate_limit : undefined,
    failureStop: {
      maxFailedFraction: e.max_failed_fraction ?? ENGINE_DEFAULTS.failureStop.maxFailedFraction,
      afterChunks: e.failure_check_after ?? ENGINE_DEFAULTS.failureStop.afterChunks,
    },
  };
}
