/**
 * Hdf5SingleFile: one 3-D (z, y, x) dataset; target voxel (x, y, z) is dataset voxel
 * (x + offset_x, y + offset_y, z + offset_z). Whatever falls outside the dataset is zero, on
 * every axis and at both ends (the original lost the leading pad when a window overhung both
 * ends, and had no upper bound on z).
 */
import { copyVoxels, VolumeError, type VolumeBox, type VolumeData, type Xyz } from '../volume.js';
import { convertExact } from './convert.js';
import { intersect, WindowedHdf5Volume, type WindowedOptions } from './windowed.js';

export interface SingleFileOptions extends WindowedOptions {
  file: string;
  dataset: string;
  /** Added to target coordinates to get dataset coordinates; may be negative. */
  shift: Xyz;
}

export class Hdf5SingleFileVolume extends WindowedHdf5Volume {
  constructor(private readonly options: SingleFileOptions) {
    super(`${options.file}:${options.dataset}`, options);
  }

  protected async fill(out: VolumeData, box: VolumeBox): Promise<void> {
    const { file, dataset, shift } = this.options;
    const d = await this.files.dataset(file, dataset);
    if (!d) throw new VolumeError(this.files.where(file), 'does not exist');
    if (d.shape.length !== 3)
      throw new VolumeError(`${d.file}:${dataset}`, `has shape [${d.shape}], not (z, y, x)`);
    const [Z, Y, X] = d.shape;
    // The window in dataset coordinates, clipped to the dataset.
    const z = intersect([box.z[0] + shift.z, box.z[1] + shift.z], [0, Z]);
    const y = intersect([box.y[0] + shift.y, box.y[1] + shift.y], [0, Y]);
    const x = intersect([box.x[0] + shift.x, box.x[1] + shift.x], [0, X]);
    if (!z || !y || !x) return;
    const values = convertExact(d.read([z, y, x]), this.datatype, `${d.file}:${dataset}`);
    const back = (r: [number, number], s: number): [number, number] => [r[0] - s, r[1] - s];
    copyVoxels(values, { x: back(x, shift.x), y: back(y, shift.y), z: back(z, shift.z) }, out, box);
  }
}
