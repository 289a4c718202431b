/**
 * What building a pyramid is, as plain data: the levels' extents, the parts of them a job
 * rebuilds, the chunks under each chunk, and which chunks of a level can be built once a prefix
 * of the level below is written. Pure, so that workflow code can schedule levels with it.
 */
import type { ZarrVolume } from '../destinations/zarr.js';
import {
  chunkCoord,
  chunkCount,
  chunkIndex,
  sameExtent,
  type ChunkCoord,
  type Extent,
  type Grid,
} from '../extent/grid.js';
import { halvesZ, levelExtents, partsPossible, topLevel, type MultiscaleConfig } from './levels.js';

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
  /**
   * Where the parts of each level's chunks are staged (see staging.ts): every level's chunk
   * written stages its part of the chunk above; `level0` when the job's ingest staged level 1's
   * over the same level-0 extent. Absent: every chunk is built from the chunks under it as stored.
   */
  staging?: { dir: string; level0: boolean };
}

/**
 * The pyramid over `level0` (the volume's extent), rebuilding only what lies above `changed`
 * (a job's extent inside it) when given.
 */
export function planPyramid(
  spec: ZarrVolume,
  level0: Extent,
  multiscale: MultiscaleConfig,
  changed?: Extent,
  stagingDir?: string,
): PyramidJob {
  const { staging, ...volume } = spec;
  const top = pyramidTop(volume, level0, multiscale);
  const extents = levelExtents(level0, top, multiscale.downsample);
  const job: PyramidJob = { volume, multiscale, extents };
  if (changed) job.regions = levelExtents(changed, top, multiscale.downsample);
  const dir = staging?.dir ?? stagingDir;
  if (dir && partsPossible(volume.chunk, halvesZ(multiscale.downsample)))
    job.staging = { dir, level0: staging !== undefined && sameExtent(staging.extent, level0) };
  return job;
}

/**
 * The top level over `level0`: `auto` stops where x and y fit in one chunk, the unit a viewer
 * reads (a sharded volume's inner chunk, not its shard).
 */
export function pyramidTop(
  volume: Pick<ZarrVolume, 'chunk' | 'innerChunk'>,
  level0: Extent,
  multiscale: MultiscaleConfig,
): number {
  return topLevel(level0, volume.innerChunk ?? volume.chunk, multiscale);
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
 * The level-(k-1) chunks under the level-k chunk at `coord`, at index (dz * 2 + dy) * 2 + dx;
 * undefined for those outside level k-1's extent (they hold nothing).
 */
export function inputsOf(job: PyramidJob, level: number, coord: ChunkCoord): (ChunkCoord | undefined)[] {
  const below: Grid = { extent: job.extents[level - 1]!, chunk: job.volume.chunk };
  const halveZ = halvesZ(job.multiscale.downsample);
  const inputs: (ChunkCoord | undefined)[] = [];
  for (let dz = 0; dz < (halveZ ? 2 : 1); dz++)
    for (let dy = 0; dy < 2; dy++)
      for (let dx = 0; dx < 2; dx++) {
        const input = {
          t: coord.t,
          z: (halveZ ? 2 : 1) * coord.z + dz,
          y: 2 * coord.y + dy,
          x: 2 * coord.x + dx,
        };
        inputs.push(overlaps(input, below) ? input : undefined);
      }
  return inputs;
}

/** The level-(k+1) chunk above a level-k chunk. */
export function coordAbove(coord: ChunkCoord, halveZ: boolean): ChunkCoord {
  const z = halveZ ? Math.floor(coord.z / 2) : coord.z;
  return { t: coord.t, z, y: Math.floor(coord.y / 2), x: Math.floor(coord.x / 2) };
}

/**
 * The level-1 chunks (indices in level 1's grid) that chunks [first, end) of the ingest's grid
 * `written` feed and that no other chunk of that grid does: once those are written, nothing
 * else the job writes changes them, so the batch that wrote them can build them at once.
 */
export function levelOneWithin(job: PyramidJob, written: Grid, first: number, end: number): number[] {
  if (topOf(job) < 1) return [];
  const halveZ = halvesZ(job.multiscale.downsample);
  const grid = levelGrid(job, 1);
  const found = new Set<number>();
  for (let i = first; i < end; i++) {
    const coord = coordAbove(chunkCoord(written, i), halveZ);
    const index = chunkIndex(grid, coord);
    if (index === undefined || found.has(index)) continue;
    const inside = inputsOf(job, 1, coord).every((input) => {
      const at = input && chunkIndex(written, input);
      return at === undefined || (at >= first && at < end);
    });
    if (inside) found.add(index);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * The chunks of level `level` that can be built once the chunks [0, done) of `below` (the grid
 * the level below is written in: the ingest's for level 1, the level's own otherwise) are: those
 * from `from` on, up to the first whose inputs in that grid are not all written. Inputs outside
 * the grid are not rewritten, so they are ready. Returns the end of that run.
 */
export function readyUpTo(job: PyramidJob, level: number, from: number, below: Grid, done: number): number {
  const grid = levelGrid(job, level);
  const total = chunkCount(grid);
  let end = from;
  for (; end < total; end++) {
    const inputs = inputsOf(job, level, chunkCoord(grid, end));
    const waiting = inputs.some((input) => {
      const index = input && chunkIndex(below, input);
      return index !== undefined && index >= done;
    });
    if (waiting) break;
  }
  return end;
}
