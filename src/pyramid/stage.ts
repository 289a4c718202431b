/**
 * What a job's pyramid stage rebuilds: the halves of the job's extent above it, or the whole
 * pyramid when there was none over this level-0 extent with these settings (a new volume, a job
 * that grew the volume, other levels or method); and what a verify checks. Reads only, so a
 * retried plan decides the same.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { readVolumeRecord, VolumeError, type ZarrVolume } from '../destinations/zarr.js';
import { sameExtent, type Extent } from '../extent/grid.js';
import { levelChunkCounts, planPyramid, pyramidTop, topOf, type PyramidJob } from './job.js';
import type { MultiscaleConfig } from './levels.js';
import { newStaging } from './staging.js';

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
    built.top === pyramidTop(volume, record.extent, multiscale);
  // A volume written by a job stages level 1's parts there; `downsample VOLUME` starts at level 2.
  const staging = newStaging(volume.path, record.extent).dir;
  const job = planPyramid(volume, record.extent, multiscale, current ? input.changed : undefined, staging);
  return { job, counts: levelChunkCounts(job) };
}

/**
 * What a verify checks above level 0: every level of the job's pyramid (the config's, or when it
 * asks for none, the one the volume records: the destination resolves it so); undefined when
 * there is none. The levels are defined over the volume's level-0 extent as it stands, so a
 * pyramid left behind by a later job that grew the volume shows up as differing.
 */
export async function planPyramidCheck(volume: ZarrVolume): Promise<PyramidStagePlan | undefined> {
  const { multiscale } = volume;
  if (!multiscale) return undefined;
  const record = await readVolumeRecord(volume);
  const job = planPyramid(volume, record.extent, multiscale);
  if (topOf(job) === 0) return undefined;
  for (let level = 1; level < job.extents.length; level++) {
    const array = path.join(volume.path, String(level), 'zarr.json');
    if (!(await exists(array)))
      throw new VolumeError(
        `${array} not found: the volume has no pyramid level ${level} (the job's pyramid has levels 1-${topOf(job)})`,
      );
  }
  return { job, counts: levelChunkCounts(job) };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
