/**
 * The chunk grid of a job: the extent cut into destination chunks aligned to absolute coordinates.
 * Pure (no I/O) so that workflow code can use it.
 */
import type { Range } from '../config/types.js';
import { boxSize, type Box } from './box.js';

export interface Extent {
  x: Range;
  y: Range;
  z: Range;
  t: Range;
}

/** Chunk shape in voxels. t is always 1: one chunk holds one time point. */
export interface ChunkShape {
  x: number;
  y: number;
  z: number;
}

export const BOSS_CUBOID: ChunkShape = { x: 512, y: 512, z: 16 };

export interface Grid {
  extent: Extent;
  chunk: ChunkShape;
}

/** Absolute chunk coordinates (chunk indices, not voxels). */
export interface ChunkCoord {
  t: number;
  z: number;
  y: number;
  x: number;
}

/** The voxels of one chunk that lie inside the extent, half-open, absolute. */
export interface ChunkBox extends Box {
  coord: ChunkCoord;
}

interface Span {
  first: number;
  count: number;
}

function span(range: Range, size: number): Span {
  const first = Math.floor(range[0] / size);
  return { first, count: Math.ceil(range[1] / size) - first };
}

export function gridCounts(grid: Grid): { t: number; z: number; y: number; x: number } {
  return {
    t: grid.extent.t[1] - grid.extent.t[0],
    z: span(grid.extent.z, grid.chunk.z).count,
    y: span(grid.extent.y, grid.chunk.y).count,
    x: span(grid.extent.x, grid.chunk.x).count,
  };
}

export function chunkCount(grid: Grid): number {
  const c = gridCounts(grid);
  return c.t * c.z * c.y * c.x;
}

/** Chunks are numbered x fastest, then y, z, t, so consecutive numbers share tiles. */
export function chunkCoord(grid: Grid, index: number): ChunkCoord {
  const c = gridCounts(grid);
  if (!Number.isInteger(index) || index < 0 || index >= c.t * c.z * c.y * c.x) {
    throw new RangeError(`chunk ${index} is outside the job's ${c.t * c.z * c.y * c.x} chunks`);
  }
  const x = index % c.x;
  let rest = (index - x) / c.x;
  const y = rest % c.y;
  rest = (rest - y) / c.y;
  const z = rest % c.z;
  const t = (rest - z) / c.z;
  return {
    t: grid.extent.t[0] + t,
    z: span(grid.extent.z, grid.chunk.z).first + z,
    y: span(grid.extent.y, grid.chunk.y).first + y,
    x: span(grid.extent.x, grid.chunk.x).first + x,
  };
}

export function sameCoord(a: ChunkCoord, b: ChunkCoord): boolean {
  return a.t === b.t && a.z === b.z && a.y === b.y && a.x === b.x;
}

/** The index of the chunk at `coord` in the grid (see chunkCoord), or undefined when it lies outside. */
export function chunkIndex(grid: Grid, coord: ChunkCoord): number | undefined {
  const c = gridCounts(grid);
  const t = coord.t - grid.extent.t[0];
  const z = coord.z - span(grid.extent.z, grid.chunk.z).first;
  const y = coord.y - span(grid.extent.y, grid.chunk.y).first;
  const x = coord.x - span(grid.extent.x, grid.chunk.x).first;
  if (t < 0 || t >= c.t || z < 0 || z >= c.z || y < 0 || y >= c.y || x < 0 || x >= c.x) return undefined;
  return ((t * c.z + z) * c.y + y) * c.x + x;
}

function clip(chunkIndex: number, size: number, range: Range): Range {
  return [Math.max(chunkIndex * size, range[0]), Math.min((chunkIndex + 1) * size, range[1])];
}

export function chunkBox(grid: Grid, index: number): ChunkBox {
  return boxOfChunk(grid, chunkCoord(grid, index));
}

/** The voxels of the chunk at `coord` that lie inside the grid's extent. */
export function boxOfChunk(grid: Grid, coord: ChunkCoord): ChunkBox {
  return {
    coord,
    x: clip(coord.x, grid.chunk.x, grid.extent.x),
    y: clip(coord.y, grid.chunk.y, grid.extent.y),
    z: clip(coord.z, grid.chunk.z, grid.extent.z),
    t: coord.t,
  };
}

/** All the voxels of a chunk, inside the extent or not: the layout of a chunk's samples. */
export function wholeChunk(chunk: ChunkShape, coord: ChunkCoord): Box {
  return {
    x: [coord.x * chunk.x, (coord.x + 1) * chunk.x],
    y: [coord.y * chunk.y, (coord.y + 1) * chunk.y],
    z: [coord.z * chunk.z, (coord.z + 1) * chunk.z],
    t: coord.t,
  };
}

/** True when the box covers the whole chunk, so nothing already stored in the chunk needs keeping. */
export function coversChunk(box: ChunkBox, chunk: ChunkShape): boolean {
  const size = boxSize(box);
  return size.x === chunk.x && size.y === chunk.y && size.z === chunk.z;
}

/** The smallest extent holding both. */
export function unionExtent(a: Extent, b: Extent): Extent {
  const u = (p: Range, q: Range): Range => [Math.min(p[0], q[0]), Math.max(p[1], q[1])];
  return { x: u(a.x, b.x), y: u(a.y, b.y), z: u(a.z, b.z), t: u(a.t, b.t) };
}

export function sameExtent(a: Extent, b: Extent): boolean {
  return (['x', 'y', 'z', 't'] as const).every((k) => a[k][0] === b[k][0] && a[k][1] === b[k][1]);
}

export function extentVoxels(extent: Extent): number {
  return (
    (extent.x[1] - extent.x[0]) *
    (extent.y[1] - extent.y[0]) *
    (extent.z[1] - extent.z[0]) *
    (extent.t[1] - extent.t[0])
  );
}

/**
 * Splits chunks [first, end) into rows: runs of consecutive chunks that share t, z and y, at most
 * `maxLength` long. A row is the unit one thread assembles, so tiles shared along x are read once.
 */
export function chunkRows(grid: Grid, first: number, end: number, maxLength: number): Range[] {
  const perRow = gridCounts(grid).x;
  const rows: Range[] = [];
  let start = first;
  while (start < end) {
    const rowEnd = Math.min(end, (Math.floor(start / perRow) + 1) * perRow, start + maxLength);
    rows.push([start, rowEnd]);
    start = rowEnd;
  }
  return rows;
}

/**
 * Chunks of one z band of one time point: a z-slab, consecutive in chunk order. A z-index stack's
 * slice feeds the chunks of one slab and no other.
 */
export function slabChunks(grid: Grid): number {
  const c = gridCounts(grid);
  return c.x * c.y;
}

/** Splits chunks [first, end) at slab boundaries. */
export function chunkSlabs(grid: Grid, first: number, end: number): Range[] {
  const perSlab = slabChunks(grid);
  const slabs: Range[] = [];
  for (let start = first; start < end;) {
    const slabEnd = Math.min(end, (Math.floor(start / perSlab) + 1) * perSlab);
    slabs.push([start, slabEnd]);
    start = slabEnd;
  }
  return slabs;
}

/** Where a batch from `next` of at least `size` chunks ends: on a multiple of `align`, at most `total`. */
export function batchEnd(next: number, size: number, total: number, align = 1): number {
  return Math.min(total, Math.ceil((next + size) / align) * align);
}

export function formatExtent(extent: Extent): string {
  const r = (v: Range) => `${v[0]}:${v[1]}`;
  return `x ${r(extent.x)}, y ${r(extent.y)}, z ${r(extent.z)}, t ${r(extent.t)}`;
}

/** "chunks ZxYxX", as progress and `describe` show a chunk shape. */
export function formatChunkShape(chunk: ChunkShape): string {
  return `chunks ${chunk.z}x${chunk.y}x${chunk.x}`;
}
