/**
 * Hdf5ChunkFiles: the volume cut into blocks of `chunk` voxels, one HDF5 file each, named
 * `{prefix}_{xs}-{xe}_{ys}-{ye}_{zs}-{ze}.{extension}`. The block of target voxels
 * [i * size, (i + 1) * size) is named by its start plus the axis offset, on every axis (the
 * original computed z names from a chunk index and read planes ignoring z_offset), and stops are
 * inclusive (stop - 1) unless use_python_convention. A missing file fails the read, naming it,
 * unless fill_missing reads it as zeros.
 */
import path from 'node:path';
import { copyVoxels, VolumeError, type VolumeBox, type VolumeData, type Xyz } from '../volume.js';
import { convertExact } from './convert.js';
import { intersect, WindowedHdf5Volume, type WindowedOptions } from './windowed.js';

export interface ChunkFilesOptions extends WindowedOptions {
  rootDir: string;
  prefix: string;
  extension: string;
  dataset: string;
  /** Added to block starts and stops in file names. */
  nameOffset: Xyz;
  pythonConvention: boolean;
  fillMissing: boolean;
}

const AXES = ['x', 'y', 'z'] as const;

export class Hdf5ChunkFilesVolume extends WindowedHdf5Volume {
  constructor(private readonly options: ChunkFilesOptions) {
    super(path.join(options.rootDir, `${options.prefix}_*.${options.extension}`), options);
  }

  fileName(block: Xyz): string {
    const o = this.options;
    const part = (a: 'x' | 'y' | 'z') => {
      const start = block[a] * this.chunk[a] + o.nameOffset[a];
      const stop = start + this.chunk[a] - (o.pythonConvention ? 0 : 1);
      return `${start}-${stop}`;
    };
    return path.join(o.rootDir, `${o.prefix}_${part('x')}_${part('y')}_${part('z')}.${o.extension}`);
  }

  protected async fill(out: VolumeData, box: VolumeBox): Promise<void> {
    const first = {} as Xyz;
    const last = {} as Xyz;
    for (const a of AXES) {
      first[a] = Math.floor(box[a][0] / this.chunk[a]);
      last[a] = Math.floor((box[a][1] - 1) / this.chunk[a]);
    }
    for (let k = first.z; k <= last.z; k++)
      for (let j = first.y; j <= last.y; j++)
        for (let i = first.x; i <= last.x; i++) await this.fillBlock(out, box, { x: i, y: j, z: k });
  }

  private async fillBlock(out: VolumeData, box: VolumeBox, block: Xyz): Promise<void> {
    const file = this.fileName(block);
    const d = await this.files.dataset(file, this.options.dataset);
    if (!d) {
      if (this.options.fillMissing) return;
      throw new VolumeError(
        this.files.where(file),
        'does not exist (fill_missing: true reads missing chunk files as zeros)',
      );
    }
    const where = `${d.file}:${this.options.dataset}`;
    if (d.shape.length !== 3) throw new VolumeError(where, `has shape [${d.shape}], not (z, y, x)`);
    const origin = { x: block.x * this.chunk.x, y: block.y * this.chunk.y, z: block.z * this.chunk.z };
    const [Z, Y, X] = d.shape;
    if (Z > this.chunk.z || Y > this.chunk.y || X > this.chunk.x) {
      throw new VolumeError(
        where,
        `has shape [${d.shape}], larger than a chunk file's ${this.chunk.z} x ${this.chunk.y} x ${this.chunk.x}`,
      );
    }
    // The part of the box inside this block, in the file's own coordinates.
    const local = (a: 'x' | 'y' | 'z', n: number) =>
      intersect([box[a][0] - origin[a], box[a][1] - origin[a]], [0, n]);
    const z = local('z', Z);
    const y = local('y', Y);
    const x = local('x', X);
    if (!z || !y || !x) return;
    const values = convertExact(d.read([z, y, x]), this.datatype, where);
    const at = (r: [number, number], a: 'x' | 'y' | 'z'): [number, number] => [
      r[0] + origin[a],
      r[1] + origin[a],
    ];
    copyVoxels(values, { x: at(x, 'x'), y: at(y, 'y'), z: at(z, 'z') }, out, box);
  }
}
