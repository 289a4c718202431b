/**
 * The shape the HDF5 plugins share: a volume over the job's extent, assembled plane by plane
 * (or block by block) from windows of HDF5 datasets; what no dataset covers is zero.
 */
import {
  allocate,
  boxSize,
  checkInside,
  type VolumeBox,
  type Volume,
  type VolumeData,
  type VolumeDatatype,
  type Xyz,
} from '../volume.js';
import { Hdf5Files, type Hdf5Location } from './file.js';

export interface WindowedOptions {
  /** The job's extent: the volume's bounds. */
  bounds: VolumeBox;
  /** Voxels a read naturally covers (the tile size, or a chunk file's size). */
  chunk: Xyz;
  datatype: VolumeDatatype;
  location?: Hdf5Location;
}

export abstract class WindowedHdf5Volume implements Volume {
  readonly offset: Xyz;
  readonly size: Xyz;
  readonly chunk: Xyz;
  readonly datatype: VolumeDatatype;
  protected readonly files: Hdf5Files;

  constructor(
    readonly source: string,
    options: WindowedOptions,
  ) {
    const b = options.bounds;
    this.offset = { x: b.x[0], y: b.y[0], z: b.z[0] };
    this.size = { x: b.x[1] - b.x[0], y: b.y[1] - b.y[0], z: b.z[1] - b.z[0] };
    this.chunk = options.chunk;
    this.datatype = options.datatype;
    this.files = new Hdf5Files(options.location);
  }

  /** Writes the voxels of `box` (at time point t) that the source has into `out`, a zeroed block at `box`. */
  protected abstract fill(out: VolumeData, box: VolumeBox, t: number): Promise<void>;

  async readBox(box: VolumeBox): Promise<VolumeData> {
    checkInside(this, box);
    const s = boxSize(box);
    const out = allocate(this.datatype, s.x * s.y * s.z);
    await this.fill(out, box, box.t ?? 0);
    return out;
  }

  async close(): Promise<void> {
    this.files.close();
  }
}

/** [a, b) ∩ [c, d), or undefined when empty. */
export function intersect(a: [number, number], b: [number, number]): [number, number] | undefined {
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo < hi ? [lo, hi] : undefined;
}
