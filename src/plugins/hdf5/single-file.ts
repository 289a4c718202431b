/**
 * Hdf5SingleFile: one 3-D (z, y, x) dataset; target voxel (x, y, z) is dataset voxel
 * (x + offset_x, y + offset_y, z + offset_z). Whatever falls outside the dataset is zero, on
 * every axis and at both ends (the original lost the leading pad when a window overhung both
 * ends, and had no upper bound on z).
 */
import {
  copyVoxels,
  type VolumeBox,
  type VolumeData,
  type VolumeDatatype,
  type Xyz,
} from '../../volumes/volume.js';
import { TileError } from '../../errors.js';
import { convertExact } from './convert.js';
import type { Hdf5File } from './file.js';
import { overlap } from '../../extent/box.js';
import { zeroBox } from './window.js';

export interface SingleFileOptions {
  dataset: string;
  /** Added to target coordinates to get dataset coordinates; may be negative. */
  shift: Xyz;
  datatype: VolumeDatatype;
}

export function readSingleFile(h5: Hdf5File, box: VolumeBox, o: SingleFileOptions): VolumeData {
  const out = zeroBox(o.datatype, box);
  const d = h5.dataset(o.dataset);
  if (d.shape.length !== 3) throw new TileError(d.where, `has shape [${d.shape}], not (z, y, x)`);
  const [Z, Y, X] = d.shape;
  const { shift } = o;
  // The window in dataset coordinates, clipped to the dataset.
  const z = overlap([box.z[0] + shift.z, box.z[1] + shift.z], [0, Z]);
  const y = overlap([box.y[0] + shift.y, box.y[1] + shift.y], [0, Y]);
  const x = overlap([box.x[0] + shift.x, box.x[1] + shift.x], [0, X]);
  if (!z || !y || !x) return out;
  const values = convertExact(d.read([z, y, x]), o.datatype, d.where);
  const back = (r: [number, number], s: number): [number, number] => [r[0] - s, r[1] - s];
  copyVoxels(values, { x: back(x, shift.x), y: back(y, shift.y), z: back(z, shift.z) }, out, box);
  return out;
}
