/**
 * The levels of a multiscale pyramid: how many, the extent and array shape of each, and the
 * OME-Zarr 0.5 `multiscales` metadata that places them. Pure, so that workflow code can plan
 * with it.
 */
import type { Range } from '../config/types.js';
import type { ChunkShape, Extent } from '../extent/grid.js';

export type DownsampleMethod = 'mean' | 'mode';
/** `anisotropic` halves x and y only (thick sections); `isotropic` halves z too. */
export type DownsampleAxes = 'anisotropic' | 'isotropic';

export interface MultiscaleConfig {
  /** The highest level: arrays 0..levels. `auto` stops at the first level one chunk wide in x and y. */
  levels: number | 'auto';
  method: DownsampleMethod;
  downsample: DownsampleAxes;
}

export const DEFAULT_MULTISCALE: MultiscaleConfig = {
  levels: 'auto',
  method: 'mean',
  downsample: 'anisotropic',
};

/** A guard against runaway configs: 2^40 voxels per side is beyond any volume. */
export const MAX_LEVEL = 40;

/** Level k+1's range along a halved axis: [floor(start/2), ceil(stop/2)). */
export function halveRange(range: Range): Range {
  return [Math.floor(range[0] / 2), Math.ceil(range[1] / 2)];
}

/** Whether z is halved from one level to the next. */
export function halvesZ(axes: DownsampleAxes): boolean {
  return axes === 'isotropic';
}

/** The extent of the next level up. t is never downsampled. */
export function nextLevelExtent(extent: Extent, axes: DownsampleAxes): Extent {
  return {
    x: halveRange(extent.x),
    y: halveRange(extent.y),
    z: halvesZ(axes) ? halveRange(extent.z) : extent.z,
    t: extent.t,
  };
}

/** The extents of levels 0..top, level 0 being the job's own. */
export function levelExtents(level0: Extent, top: number, axes: DownsampleAxes): Extent[] {
  const extents = [level0];
  for (let k = 1; k <= top; k++) extents.push(nextLevelExtent(extents[k - 1]!, axes));
  return extents;
}

function spansOneChunk(range: Range, size: number): boolean {
  return Math.floor(range[0] / size) === Math.floor((range[1] - 1) / size);
}

/**
 * The highest level index. With `auto`, the first level whose extent lies within one chunk in x
 * and in y: a viewer opens the whole volume from one chunk per section there.
 */
export function topLevel(level0: Extent, chunk: ChunkShape, config: MultiscaleConfig): number {
  if (config.levels !== 'auto') return config.levels;
  let extent = level0;
  let level = 0;
  while (!(spansOneChunk(extent.x, chunk.x) && spansOneChunk(extent.y, chunk.y)) && level < MAX_LEVEL) {
    extent = nextLevelExtent(extent, config.downsample);
    level++;
  }
  return level;
}

/** The array shape (z, y, x) of the next level, from the one below: ceil(n/2) on halved axes. */
export function nextLevelShape(shape: { x: number; y: number; z: number }, axes: DownsampleAxes) {
  return {
    x: Math.ceil(shape.x / 2),
    y: Math.ceil(shape.y / 2),
    z: halvesZ(axes) ? Math.ceil(shape.z / 2) : shape.z,
  };
}

/** The config's multiscale section with its defaults filled in. */
export function resolveMultiscale(config: Partial<MultiscaleConfig>): MultiscaleConfig {
  return { ...DEFAULT_MULTISCALE, ...config };
}

/** Whether a level's chunks can be built from parts: a 2x2(x2) block never straddles two chunks. */
export function partsPossible(chunk: ChunkShape, halveZ: boolean): boolean {
  return chunk.x % 2 === 0 && chunk.y % 2 === 0 && (!halveZ || chunk.z % 2 === 0);
}
