/**
 * Verify's unit of work at a pyramid level: a level-k chunk as stored against the chunk the
 * pyramid's definition computes from level k-1 as stored. With level 0 checked against the
 * source, checking each level against the one below checks the whole pyramid. Reads only.
 */
import { readZarrChunk } from '../destinations/zarr.js';
import type { ChunkFailure } from '../job/types.js';
import { describeChunk, firstDifference, formatDifference } from '../verify/compare.js';
import { chunkBox } from '../extent/grid.js';
import { computePyramidChunk } from './build.js';
import { levelGrid, type PyramidJob } from './job.js';

/** The chunk's difference or read failure, or undefined when it is stored as the definition gives it. */
export async function checkPyramidChunk(
  job: PyramidJob,
  level: number,
  index: number,
): Promise<ChunkFailure | undefined> {
  const { volume } = job;
  let computed;
  let stored;
  try {
    computed = await computePyramidChunk(job, level, index);
    stored = await readZarrChunk(volume, computed.box.coord, level);
  } catch (err) {
    // A stored chunk (of this level or the one below) that cannot be decoded is this chunk's finding.
    return {
      chunk: index,
      level,
      reason: `${describeChunk(chunkBox(levelGrid(job, level), index))}: cannot be read: ${(err as Error).message}`,
    };
  }
  const { box, samples } = computed;
  const difference = firstDifference(box, volume.chunk, volume.datatype, samples, stored);
  if (!difference) return undefined;
  return {
    chunk: index,
    level,
    reason:
      `${describeChunk(box)} against the ${job.multiscale.method} of level ${level - 1}: ` +
      formatDifference(difference, 'expected'),
    difference,
  };
}
