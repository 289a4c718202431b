/**
 * A pyramid in a zarr volume: level k+1's chunks computed from level k's as stored. A chunk needs
 * only the (up to 8) chunks under it, so any set of one level's chunks is independent work once
 * the level below is written, and a chunk rebuilt twice comes out the same (idempotent).
 */
import { openPyramid, readZarrChunk, writeZarrChunk, type ZarrVolume } from '../destinations/zarr.js';
import { chunkBox, chunkCount, type ChunkCoord, type Extent, type Grid } from '../extent/grid.js';
import { downsampleChunk } from './downsample.js';
import { halvesZ, levelExtents, topLevel, type MultiscaleConfig } from './levels.js';

/** What building a volume's pyramid needs: plain data, so it can cross into activities. */
export interface PyramidJob {
  volume: ZarrVolume;
  multiscale: MultiscaleConfig;
  /** The extents of levels 0..top: level 0's is the ingest's. */
  extents: Extent[];
}

export function planPyramid(volume: ZarrVolume, level0: Extent, multiscale: MultiscaleConfig): PyramidJob {
  const top = topLevel(level0, volume.chunk, multiscale);
  return { volume, multiscale, extents: levelExtents(level0, top, multiscale.downsample) };
}

export function topOf(job: PyramidJob): number {
  return job.extents.length - 1;
}

/** The chunk grid of a level (1..top) over its extent. */
export function levelGrid(job: PyramidJob, level: number): Grid {
  return { extent: job.extents[level]!, chunk: job.volume.chunk };
}

/** Creates arrays 1..top and lists them in the group's multiscales. */
export function preparePyramid(job: PyramidJob): Promise<void> {
  return openPyramid(job.volume, topOf(job), job.multiscale);
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
 * Computes and stores chunk `index` of level `level` (1..top). Voxels of the chunk outside the
 * level's extent keep what the volume holds there, as an ingest over part of a chunk does.
 */
export async function buildPyramidChunk(job: PyramidJob, level: number, index: number): Promise<void> {
  const { volume } = job;
  const grid = levelGrid(job, level);
  const below: Grid = { extent: job.extents[level - 1]!, chunk: volume.chunk };
  const box = chunkBox(grid, index);
  const { coord } = box;
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
  // The volume merges a chunk the level's extent covers in part into what it holds, under its lock.
  await writeZarrChunk(volume, box, samples, level);
}

/** Every level in turn, chunk by chunk, on this thread: for the CLI's small volumes and tests. */
export async function buildPyramid(job: PyramidJob): Promise<void> {
  await preparePyramid(job);
  for (let level = 1; level <= topOf(job); level++) {
    const count = chunkCount(levelGrid(job, level));
    for (let i = 0; i < count; i++) await buildPyramidChunk(job, level, i);
  }
}
