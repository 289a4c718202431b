/**
 * The tile grid of a tile source: the extent's x and y cut by tile_size (tiles are aligned to
 * absolute coordinates, as the original's tile indices are), one tile plane per z and t. Pure.
 */
import type { Range } from '../config/types.js';
import type { Box } from './box.js';

export interface TileSize {
  x: number;
  y: number;
}

/** Tile indices (half-open) that hold an extent's voxels: xi, yi, and the z and t planes. */
export interface TileRange {
  x: Range;
  y: Range;
  z: Range;
  t: Range;
}

/** The tiles an extent needs; `t` defaults to the single time point 0. */
export function tileRange(extent: { x: Range; y: Range; z: Range; t?: Range }, size: TileSize): TileRange {
  const cut = (r: Range, s: number): Range => [Math.floor(r[0] / s), Math.ceil(r[1] / s)];
  return { x: cut(extent.x, size.x), y: cut(extent.y, size.y), z: extent.z, t: extent.t ?? [0, 1] };
}

export function tileCount(range: TileRange): number {
  const n = (r: Range) => Math.max(0, r[1] - r[0]);
  return n(range.x) * n(range.y) * n(range.z) * n(range.t);
}

export function inRange(i: number, range: Range): boolean {
  return i >= range[0] && i < range[1];
}

/** The numbers first..end-1 of a half-open range, for loops over tile indices. */
export function indices(range: Range): number[] {
  return Array.from({ length: Math.max(0, range[1] - range[0]) }, (_, i) => range[0] + i);
}

/** The voxels of tile (xi, yi) of plane (z, t) of a `width` x `height` tile, absolute. */
export function tileBox(
  xi: number,
  yi: number,
  z: number,
  t: number,
  size: TileSize,
  width = size.x,
  height = size.y,
): Box {
  const x0 = xi * size.x;
  const y0 = yi * size.y;
  return { x: [x0, x0 + width], y: [y0, y0 + height], z: [z, z + 1], t };
}
