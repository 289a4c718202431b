/**
 * Hdf5ChunkFiles: the volume cut into blocks of `chunk` voxels, one HDF5 file each, named
 * `{prefix}_{xs}-{xe}_{ys}-{ye}_{zs}-{ze}.{extension}`. The block of target voxels
 * [i * size, (i + 1) * size) is named by its start plus the axis offset, on every axis (the
 * original computed z names from a chunk index and read planes ignoring z_offset), and stops are
 * inclusive (stop - 1) unless use_python_convention.
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

export interface ChunkFileNaming {
  prefix: string;
  extension: string;
  /** Block size in voxels. */
  chunk: Xyz;
  /** Added to block starts and stops in file names. */
  nameOffset: Xyz;
  pythonConvention: boolean;
}

const AXES = ['x', 'y', 'z'] as const;

/** The block holding target voxel (x, y, z). */
export function blockOf(chunk: Xyz, at: Xyz): Xyz {
  return { x: Math.floor(at.x / chunk.x), y: Math.floor(at.y / chunk.y), z: Math.floor(at.z / chunk.z) };
}

/** The file name (without directory) of a block. */
export function chunkFileName(n: ChunkFileNaming, block: Xyz): string {
  const part = (a: 'x' | 'y' | 'z') => {
    const start = block[a] * n.chunk[a] + n.nameOffset[a];
    const stop = start + n.chunk[a] - (n.pythonConvention ? 0 : 1);
    return `${start}-${stop}`;
  };
  return `${n.prefix}_${part('x')}_${part('y')}_${part('z')}.${n.extension}`;
}

export interface ChunkFileOptions {
  dataset: string;
  chunk: Xyz;
  datatype: VolumeDatatype;
}

/** Reads a box lying inside one block from that block's file, shape (z, y, x) up to `chunk`. */
export function readChunkFile(h5: Hdf5File, box: VolumeBox, o: ChunkFileOptions): VolumeData {
  const out = zeroBox(o.datatype, box);
  const block = blockOf(o.chunk, { x: box.x[0], y: box.y[0], z: box.z[0] });
  const origin = { x: block.x * o.chunk.x, y: block.y * o.chunk.y, z: block.z * o.chunk.z };
  for (const a of AXES) {
    if (box[a][1] > origin[a] + o.chunk[a])
      throw new TileError(h5.where, `a read across chunk files (${a} ${box[a][0]}:${box[a][1]})`);
  }
  const d = h5.dataset(o.dataset);
  if (d.shape.length !== 3) throw new TileError(d.where, `has shape [${d.shape}], not (z, y, x)`);
  const [Z, Y, X] = d.shape;
  if (Z > o.chunk.z || Y > o.chunk.y || X > o.chunk.x) {
    throw new TileError(
      d.where,
      `has shape [${d.shape}], larger than a chunk file's ${o.chunk.z} x ${o.chunk.y} x ${o.chunk.x}`,
    );
  }
  // The part of the box inside this block, in the file's own coordinates.
  const local = (a: 'x' | 'y' | 'z', n: number) =>
    overlap([box[a][0] - origin[a], box[a][1] - origin[a]], [0, n]);
  const z = local('z', Z);
  const y = local('y', Y);
  const x = local('x', X);
  if (!z || !y || !x) return out;
  const values = convertExact(d.read([z, y, x]), o.datatype, d.where);
  const at = (r: [number, number], a: 'x' | 'y' | 'z'): [number, number] => [
    r[0] + origin[a],
    r[1] + origin[a],
  ];
  copyVoxels(values, { x: at(x, 'x'), y: at(y, 'y'), z: at(z, 'z') }, out, box);
  return out;
}
