/**
 * What a job's pyramid stage rebuilds: the halves of the job's extent above it, or the whole
 * pyramid when there was none over this level-0 extent with these settings (a new volume, a job
 * that grew the volume, other levels or method). Reads only, so a retried plan decides the same.
 */
import { readVolumeRecord, type ZarrVolume } from '../destinations/zarr.js';
import { sameExtent, type Extent } from '../extent/grid.js';
import { levelChunkCounts, planPyramid, type PyramidJob } from './build.js';
import { topLevel, type MultiscaleConfig } from './levels.js';

export interface PyramidStageInput {
  volume: ZarrVolume;
  multiscale: MultiscaleConfig;
  /** The job's extent at level 0; absent: rebuild the whole pyramid. */
  changed?: Extent;
}

export interface PyramidStagePlan {
  job: PyramidJob;
  /** Chunks to build at levels 1..top. */
  counts: number[];
}

export async function planPyramidStage(input: PyramidStageInput): Promise<PyramidStagePlan> {
  const { volume, multiscale } = input;
  const record = await readVolumeRecord(volume);
  const built = record.pyramid;
  const current =
    built !== undefined &&
    sameExtent(built.extent, record.extent) &&
    built.method === multiscale.method &&
    built.downsample === multiscale.downsample &&
    built.top === topLevel(record.extent, volume.chunk, multiscale);
  const job = planPyramid(volume, record.extent, multiscale, current ? input.changed : undefined);
  return { job, counts: levelChunkCounts(job) };
}
