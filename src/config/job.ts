/** Settings derived from a job config. Pure: the workflow uses them. */
import type { Extent } from '../extent/grid.js';
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
}

export const ENGINE_DEFAULTS: EngineSettings = { chunksPerBatch: 8, window: 16, batchesPerRun: 400 };

export function engineSettings(config: JobConfig): EngineSettings {
  const e = config.engine ?? {};
  return {
    chunksPerBatch: e.chunks_per_batch ?? ENGINE_DEFAULTS.chunksPerBatch,
    window: e.window ?? ENGINE_DEFAULTS.window,
    batchesPerRun: e.batches_per_run ?? ENGINE_DEFAULTS.batchesPerRun,
    rateLimit: config.client.backend.name === 'boss' ? config.client.backend.rate_limit : undefined,
  };
}
