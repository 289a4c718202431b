/**
 * OME-Zarr 0.5 `multiscales` metadata for a pyramid: one dataset per level with its scale and
 * the translation that keeps voxel centres where they are. A level-k voxel summarises the 2^k
 * level-0 voxels of its block, whose centre lies (2^k - 1) / 2 level-0 voxels past the block's
 * first voxel; both methods read the same block, so both get the same translation.
 */
import type {
  CoordinateTransformation,
  OmeAttributes,
  OmeAxis,
  OmeDataset,
  SpaceUnit,
} from '../destinations/zarr-metadata.js';
import { halvesZ, type DownsampleAxes, type DownsampleMethod } from './levels.js';

export interface VoxelSize {
  x: number;
  y: number;
  z: number;
}

export interface PyramidLayout {
  name: string;
  /** The highest level: datasets 0..top. */
  top: number;
  timeAxis: boolean;
  /** How the levels above 0 were made; needed when top > 0. */
  downsample?: DownsampleAxes;
  method?: DownsampleMethod;
  /** Level 0's voxel size; 1 on each axis when the config gives none. */
  voxelSize?: VoxelSize;
  unit?: SpaceUnit;
}

function axes(layout: PyramidLayout): OmeAxis[] {
  const space = (name: string): OmeAxis => ({
    name,
    type: 'space',
    ...(layout.unit ? { unit: layout.unit } : {}),
  });
  const zyx = [space('z'), space('y'), space('x')];
  return layout.timeAxis ? [{ name: 't', type: 'time' }, ...zyx] : zyx;
}

function dataset(layout: PyramidLayout, level: number): OmeDataset {
  const size = layout.voxelSize ?? { x: 1, y: 1, z: 1 };
  const factor = 2 ** level;
  const zFactor = layout.downsample && halvesZ(layout.downsample) ? factor : 1;
  const scale = [size.z * zFactor, size.y * factor, size.x * factor];
  const shift = (base: number, f: number) => ((f - 1) / 2) * base;
  const translation = [shift(size.z, zFactor), shift(size.y, factor), shift(size.x, factor)];
  if (layout.timeAxis) {
    scale.unshift(1);
    translation.unshift(0);
  }
  const transforms: CoordinateTransformation[] = [{ type: 'scale', scale }];
  if (level > 0) transforms.push({ type: 'translation', translation });
  return { path: String(level), coordinateTransformations: transforms };
}

export function multiscalesAttributes(layout: PyramidLayout): OmeAttributes {
  const datasets: OmeDataset[] = [];
  for (let k = 0; k <= layout.top; k++) datasets.push(dataset(layout, k));
  return {
    version: '0.5',
    multiscales: [
      {
        name: layout.name,
        axes: axes(layout),
        datasets,
        ...(layout.top > 0 && layout.method ? { type: layout.method } : {}),
      },
    ],
  };
}
