/**
 * A pyramid in a zarr volume: level k+1's chunks computed from level k's as stored. A chunk needs
 * only the (up to 8) chunks under it, so any set of one level's chunks is independent work once
 * the level below is written, and a chunk rebuilt twice comes out the same (idempotent).
 */
import { openPyramid, readZarrChunk, writeZarrChunk, type ZarrVolume } from '../destinations/zarr.js';
import {
  boxOfChunk,
  chunkBox,
  chunkCount,
  type ChunkBox,
  type ChunkCoord,
  type Extent,
  type Grid,
} from '../extent/grid.js';
import { downsampleChunk } from './downsample.js';
import { halvesZ, levelExtents, topLevel, type MultiscaleConfig } from './levels.js';

/** What building a volume's pyramid needs: plain data, so it can cross into activities. */
export interface PyramidJob {
  volume: ZarrVolume;
  multiscale: MultiscaleConfig;
  /** The extents of levels 0..top: level 0's is the volume's. */
  extents: Extent[];
  /**
   * The parts of levels 0..top to rebuild: a job over part of the volume changes only the halves
   * of its extent above it. The whole level when absent.
   */
  regions?: Extent[];
}

/**
 * The pyramid over `level0` (the volume's extent), rebuilding only what lies above `changed`
 * (a job's extent inside it) when given.
 */
export function planPyramid(
  volume: ZarrVolume,
  level0: Extent,
  multiscale: MultiscaleConfig,
  changed?: Extent,
): PyramidJob {
  const top = topLevel(level0, volume.chunk, multiscale);
  const extents = levelExtents(level0, top, multiscale.downsample);
  return changed
    ? { volume, multiscale, extents, regions: levelExtents(changed, top, multiscale.downsample) }
    : { volume, multiscale, extents };
}

export function topOf(job: PyramidJob): number {
  return job.extents.length - 1;
}

/** The chunk grid of the part of a level (1..top) to build: chunk `i` of the level is chunk `i` of this grid. */
export function levelGrid(job: PyramidJob, level: number): Grid {
  return { extent: (job.regions ?? job.extents)[level]!, chunk: job.volume.chunk };
}

/** Chunks to build at each level 1..top (index 0 is level 1). */
export function levelChunkCounts(job: PyramidJob): number[] {
  const counts: number[] = [];
  for (let level = 1; level <= topOf(job); level++) counts.push(chunkCount(levelGrid(job, level)));
  return counts;
}

/** Creates arrays 1..top (empty ones when the whole pyramid is built) and lists them in the group's multiscales. */
export function preparePyramid(job: PyramidJob): Promise<void> {
  return openPyramid(job.volume, topOf(job), job.multiscale, job.extents[0]!, !job.regions);
}

function overlaps(coord: ChunkCoord, grid: Grid): boolean {
  const { extent, chunk } = grid;
  const inside = (i: number, size: number, r: [number, number]) => i * size < r[1] && (i + 1) * size > r[0];
  return (
    inside(coord.x, chunk.x, extent.x) &&
    inside(coord.y, chunk.y, extent.y) &&
    inside(coord.z, chunk.z, extent.z)
  );
}

/**
 * Chunk `index` of level `level` (1..top) as the pyramid's definition gives it from level
 * `level - 1` as stored: the whole chunk's samples, and the part of it inside the level's extent.
 */
export async function computePyramidChunk(
  job: PyramidJob,
  level: number,
  index: number,
): Promise<{ box: ChunkBox; samples: Uint8Array }> {
  const { volume } = job;
  const below: Grid = { extent: job.extents[level - 1]!, chunk: volume.chunk };
  const { coord } = chunkBox(levelGrid(job, level), index);
  // The chunk's voxels inside the level's extent: all of them are recomputed, not only the region's.
  const box = boxOfChunk({ extent: job.extents[level]!, chunk: volume.chunk }, coord);
  const halveZ = halvesZ(job.multiscale.downsample);
  const reads: Promise<Uint8Array | undefined>[] = [];
  for (let dz = 0; dz < (halveZ ? 2 : 1); dz++)
    for (let dy = 0; dy < 2; dy++)
      for (let dx = 0; dx < 2; dx++) {
        const input = {
          t: coord.t,
          z: (halveZ ? 2 : 1) * coord.z + dz,
          y: 2 * coord.y + dy,
          x: 2 * coord.x + dx,
        };
        reads.push(
          overlaps(input, below) ? readZarrChunk(volume, input, level - 1) : Promise.resolve(undefined),
        );
      }
  const samples = downsampleChunk({
    datatype: volume.datatype,
    method: job.multiscale.method,
    chunk: volume.chunk,
    below: below.extent,
    halveZ,
    coord,
    inputs: await Promise.all(reads),
  });
  return { box, samples };
}

/**
 * Computes and stores chunk `index` of level `level` (1..top). Voxels of the chunk outside the
 * level's extent keep what the volume holds there, as an ingest over part of a chunk does.
 */
export async function buildPyramidChunk(job: PyramidJob, level: number, index: number): Promise<void> {
  const { box, samples } = await computePyramidChunk(job, level, index);
  // The volume merges a chunk the level's extent covers in part into what it holds, under its lock.
  await writeZarrChunk(job.volume, box, samples, level);
}

/** Every level in turn, chunk by chunk, on this thread: for the CLI's small volumes and tests. */
export async function buildPyramid(job: PyramidJob): Promise<void> {
  await preparePyramid(job);
  for (let level = 1; level <= topOf(job); level++) {
    const count = chunkCount(levelGrid(job, level));
    for (let i = 0; i < count; i++) await buildPyramidChunk(job, level, i);
  }
}
