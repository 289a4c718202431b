/**
 * Verify's unit of work: one chunk as the source gives it against the chunk as stored. Only the
 * voxels of the job's box count; a chunk never stored reads as zeros, like Zarr's fill value.
 */
import type { Datatype } from '../config/types.js';
import { BYTES_PER_VOXEL } from '../destinations/datatype.js';
import type { ChunkBox, ChunkShape } from '../extent/grid.js';

/**
 * The first voxel (in z, y, x order) where the stored chunk differs from the source, absolute (in
 * the voxels of the chunk's level). At a pyramid level, `source` is the value the pyramid's
 * definition computes from the level below.
 */
export interface VoxelDifference {
  x: number;
  y: number;
  z: number;
  t: number;
  /** Decimal, so that uint64 values survive JSON. */
  source: string;
  stored: string;
}

function sampleAt(bytes: Uint8Array, index: number, width: number): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 1) return String(bytes[index]);
  if (width === 2) return String(view.getUint16(2 * index, true));
  return view.getBigUint64(8 * index, true).toString();
}

/**
 * Compares the box's voxels of two whole chunks ((z, y, x) C-order samples in `datatype`) row by
 * row, as bytes; only a row that differs is searched voxel by voxel.
 */
export function firstDifference(
  box: ChunkBox,
  chunk: ChunkShape,
  datatype: Datatype,
  source: Uint8Array,
  stored: Uint8Array | undefined,
): VoxelDifference | undefined {
  const width = BYTES_PER_VOXEL[datatype];
  const expected = chunk.x * chunk.y * chunk.z * width;
  if (source.length !== expected || (stored && stored.length !== expected))
    throw new RangeError(`a chunk of ${chunk.x}x${chunk.y}x${chunk.z} ${datatype} holds ${expected} bytes`);
  const origin = { x: box.coord.x * chunk.x, y: box.coord.y * chunk.y, z: box.coord.z * chunk.z };
  // A box that is the whole chunk (most are) found equal in one comparison, not one a row: the
  // row-by-row comparisons of 16x512x512 chunks took about 3% of a chunk thread's CPU in a profile
  // of verify jobs on the bench's stack.
  const whole =
    box.x[0] === origin.x &&
    box.x[1] === origin.x + chunk.x &&
    box.y[0] === origin.y &&
    box.y[1] === origin.y + chunk.y &&
    box.z[0] === origin.z &&
    box.z[1] === origin.z + chunk.z;
  if (whole && stored && Buffer.compare(source, stored) === 0) return undefined;
  const zeros = stored ? undefined : new Uint8Array((box.x[1] - box.x[0]) * width);
  for (let z = box.z[0]; z < box.z[1]; z++) {
    for (let y = box.y[0]; y < box.y[1]; y++) {
      const first = ((z - origin.z) * chunk.y + (y - origin.y)) * chunk.x + (box.x[0] - origin.x);
      const length = box.x[1] - box.x[0];
      const a = source.subarray(first * width, (first + length) * width);
      const b = stored ? stored.subarray(first * width, (first + length) * width) : zeros!;
      if (Buffer.compare(a, b) === 0) continue;
      for (let i = 0; i < length; i++) {
        const s = sampleAt(a, i, width);
        const d = sampleAt(b, i, width);
        if (s !== d) return { x: box.x[0] + i, y, z, t: box.t, source: s, stored: d };
      }
    }
  }
  return undefined;
}

/**
 * `expected` names where the expected value comes from: the source at level 0, the level below
 * (as the pyramid's definition computes it) at a pyramid level.
 */
export function formatDifference(d: VoxelDifference, expected = 'source'): string {
  return `first difference at (x ${d.x}, y ${d.y}, z ${d.z}, t ${d.t}): ${expected} ${d.source}, stored ${d.stored}`;
}

/** "chunk t/z/y/x (x 0:512, y 0:512, z 0:16)": the grid key and the voxels compared. */
export function describeChunk(box: ChunkBox): string {
  const { coord } = box;
  const r = (v: [number, number]) => `${v[0]}:${v[1]}`;
  return `chunk ${coord.t}/${coord.z}/${coord.y}/${coord.x} (x ${r(box.x)}, y ${r(box.y)}, z ${r(box.z)}, t ${box.t})`;
}
