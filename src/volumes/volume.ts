/**
 * A volumetric source: a 3-D array read by boxes, as the original's chunk processors read them.
 * Voxel data is returned z, y, x with x fastest (C order of (z, y, x)), the layout of a Boss
 * cuboid and of a Zarr chunk.
 */
import type { Range } from '../config/types.js';
import { boxSize as extentBoxSize, copyBox, type Box } from '../extent/box.js';
import { IngestError, type ErrorKind } from '../errors.js';

export type VolumeDatatype = 'uint8' | 'uint16' | 'uint32' | 'uint64';
export type VolumeData = Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

export interface Xyz {
  x: number;
  y: number;
  z: number;
}

/**
 * A box of voxels as sources take it: absolute half-open ranges, and t, the time point, for the
 * few sources that have time (0 when omitted).
 */
export type VolumeBox = Omit<Box, 't'> & { t?: number };

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
  readBox(box: VolumeBox): Promise<VolumeData>;
  close(): Promise<void>;
}

/**
 * A volume cannot be read as asked: the message names the source (and the file, when one). It
 * fails the chunks that need the read; before any chunk (prepareJob) it ends the job.
 */
export class VolumeError extends IngestError {
  static override readonly tag = 'SourceVolumeError';
  constructor(
    readonly source: string,
    detail: string,
    /** Worth retrying (a dropped connection), rather than a fact about the data. */
    readonly transient = false,
  ) {
    super(`${source}: ${detail}`);
  }

  get kind(): ErrorKind {
    return this.transient ? 'transient' : 'chunk';
  }
}

export function formatBox(box: VolumeBox): string {
  const r = (v: Range) => `${v[0]}:${v[1]}`;
  return `x ${r(box.x)}, y ${r(box.y)}, z ${r(box.z)}`;
}

/** Throws unless the box is non-empty and inside the volume. */
export function checkInside(volume: Volume, box: VolumeBox): void {
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

function bytesOf(data: VolumeData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Copies the voxels `src` (a block at `srcBox`) and `dst` (a block at `dstBox`) share, both
 * z, y, x with x fastest and of one datatype: sources assemble boxes from their stored chunks so.
 */
export function copyVoxels(src: VolumeData, srcBox: VolumeBox, dst: VolumeData, dstBox: VolumeBox): void {
  const at0 = (b: VolumeBox): Box => ({ x: b.x, y: b.y, z: b.z, t: 0 });
  copyBox(bytesOf(src), at0(srcBox), bytesOf(dst), at0(dstBox), src.BYTES_PER_ELEMENT);
}

export function boxSize(box: VolumeBox): Xyz {
  return extentBoxSize({ ...box, t: 0 });
}

/** The datatype a destination stores the source's voxels as: uint32 labels widen to uint64. */
export function storedDatatype(datatype: VolumeDatatype): 'uint8' | 'uint16' | 'uint64' {
  return datatype === 'uint32' ? 'uint64' : datatype;
}

/** Throws unless the job's extent lies inside the volume: nothing is cropped or padded silently. */
export function checkVolumeCovers(volume: Volume, extent: Omit<VolumeBox, 't'>): void {
  for (const axis of ['x', 'y', 'z'] as const) {
    const lo = volume.offset[axis];
    const hi = lo + volume.size[axis];
    if (extent[axis][0] < lo || extent[axis][1] > hi) {
      throw new VolumeError(
        volume.source,
        `ingest_job.extent.${axis} ${extent[axis][0]}:${extent[axis][1]} is not inside the source's ${axis} ${lo}:${hi}`,
      );
    }
  }
}
