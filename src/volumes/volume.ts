/**
 * A volumetric source: a 3-D array read by boxes, as the original's chunk processors read them.
 * Voxel data is returned z, y, x with x fastest (C order of (z, y, x)), the layout of a Boss
 * cuboid and of a Zarr chunk.
 */
import type { Range } from '../config/types.js';

export type VolumeDatatype = 'uint8' | 'uint16' | 'uint32' | 'uint64';
export type VolumeData = Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface Xyz {
  x: number;
  y: number;
  z: number;
}

/** Half-open absolute voxel ranges. */
export interface Box {
  x: Range;
  y: Range;
  z: Range;
}

export interface Volume {
  /** Where the volume is, for messages (a path or URL, never a token). */
  readonly source: string;
  readonly datatype: VolumeDatatype;
  /** The volume's voxels are [offset, offset + size) on each axis. */
  readonly offset: Xyz;
  readonly size: Xyz;
  /** The source's own chunk shape: boxes aligned to it read each stored chunk once. */
  readonly chunk: Xyz;
  /** Reads a box inside the volume's bounds; throws VolumeError for missing or unreadable data. */
  /** Time point t (default 0) for the sources that have time. */
  readBox(box: Box, t?: number): Promise<VolumeData>;
  close(): Promise<void>;
}

/** A volume cannot be read as asked: the message names the source (and the file, when one). */
export class VolumeError extends Error {
  constructor(
    readonly source: string,
    detail: string,
    /** Worth retrying (a dropped connection), rather than a fact about the data. */
    readonly transient = false,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'VolumeError';
  }
}

export function boxSize(box: Box): Xyz {
  return { x: box.x[1] - box.x[0], y: box.y[1] - box.y[0], z: box.z[1] - box.z[0] };
}

export function boxVoxelCount(box: Box): number {
  const s = boxSize(box);
  return s.x * s.y * s.z;
}

export function formatBox(box: Box): string {
  const r = (v: Range) => `${v[0]}:${v[1]}`;
  return `x ${r(box.x)}, y ${r(box.y)}, z ${r(box.z)}`;
}

/** Throws unless the box is non-empty and inside the volume. */
export function checkInside(volume: Volume, box: Box): void {
  for (const axis of ['x', 'y', 'z'] as const) {
    const lo = volume.offset[axis];
    const hi = lo + volume.size[axis];
    const [a, b] = box[axis];
    if (!(a < b) || a < lo || b > hi) {
      throw new VolumeError(
        volume.source,
        `box ${formatBox(box)} is not inside the volume (${axis} ${lo}:${hi})`,
      );
    }
  }
}

const ARRAYS = { uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array };

export const BYTES_PER_VOXEL: Record<VolumeDatatype, number> = { uint8: 1, uint16: 2, uint32: 4, uint64: 8 };

export function allocate(datatype: VolumeDatatype, count: number): VolumeData {
  return new ARRAYS[datatype](count);
}

/** The voxels in little-endian bytes (copied, so the result is aligned). */
export function fromBytes(bytes: Uint8Array, datatype: VolumeDatatype): VolumeData {
  return new ARRAYS[datatype](Uint8Array.prototype.slice.call(bytes).buffer);
}

/**
 * Copies the part of `src` (a block at `srcBox`) that overlaps `dstBox` into `dst` (a block at
 * `dstBox`); both are z, y, x with x fastest. Sources assemble boxes from their stored chunks so.
 */
export function copyOverlap(src: VolumeData, srcBox: Box, dst: VolumeData, dstBox: Box): void {
  const lo = (a: 'x' | 'y' | 'z') => Math.max(srcBox[a][0], dstBox[a][0]);
  const hi = (a: 'x' | 'y' | 'z') => Math.min(srcBox[a][1], dstBox[a][1]);
  const x0 = lo('x');
  const x1 = hi('x');
  if (x1 <= x0 || hi('y') <= lo('y') || hi('z') <= lo('z')) return;
  const s = boxSize(srcBox);
  const d = boxSize(dstBox);
  const width = x1 - x0;
  for (let z = lo('z'); z < hi('z'); z++) {
    for (let y = lo('y'); y < hi('y'); y++) {
      const from = ((z - srcBox.z[0]) * s.y + (y - srcBox.y[0])) * s.x + (x0 - srcBox.x[0]);
      const to = ((z - dstBox.z[0]) * d.y + (y - dstBox.y[0])) * d.x + (x0 - dstBox.x[0]);
      (dst as Uint8Array).set((src as Uint8Array).subarray(from, from + width), to);
    }
  }
}
