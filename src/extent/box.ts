/**
 * Boxes of voxels and the one strided copy between them. Every path that moves samples from one
 * layout to another (tiles into chunks, chunks into Boss bodies, crops, TIFF strips) goes through
 * `copyBox`, so edges and partial boxes are handled in one place. Pure (no I/O).
 */
import type { Range } from '../config/types.js';

/** Voxels x, y, z (half-open, absolute) at time point t. */
export interface Box {
  x: Range;
  y: Range;
  z: Range;
  t: number;
}

/** Pixels x, y of a 2-D image in its own coordinates, as a box. */
export function imageBox(x: Range, y: Range): Box {
  return { x, y, z: [0, 1], t: 0 };
}

/** Where voxel (x, y, z) lies, in voxels, in a buffer holding `box` in C order (z, then y, then x). */
export function voxelIndex(box: Box, x: number, y: number, z: number): number {
  const s = boxSize(box);
  return ((z - box.z[0]) * s.y + (y - box.y[0])) * s.x + (x - box.x[0]);
}

/** [a, b) ∩ [c, d), or undefined when empty. */
export function overlap(a: Range, b: Range): Range | undefined {
  const lo = Math.max(a[0], b[0]);
  const hi = Math.min(a[1], b[1]);
  return lo < hi ? [lo, hi] : undefined;
}

/** The voxels two boxes share, or undefined when they share none (or lie at different times). */
export function intersect(a: Box, b: Box): Box | undefined {
  if (a.t !== b.t) return undefined;
  const x: Range = [Math.max(a.x[0], b.x[0]), Math.min(a.x[1], b.x[1])];
  const y: Range = [Math.max(a.y[0], b.y[0]), Math.min(a.y[1], b.y[1])];
  const z: Range = [Math.max(a.z[0], b.z[0]), Math.min(a.z[1], b.z[1])];
  if (x[0] >= x[1] || y[0] >= y[1] || z[0] >= z[1]) return undefined;
  return { x, y, z, t: a.t };
}

export function boxSize(box: Box): { x: number; y: number; z: number } {
  return { x: box.x[1] - box.x[0], y: box.y[1] - box.y[0], z: box.z[1] - box.z[0] };
}

export function boxVoxels(box: Box): number {
  const s = boxSize(box);
  return s.x * s.y * s.z;
}

/**
 * Copies `rows` rows of `rowBytes` bytes from byte `from` of src, `srcStride` bytes apart, to byte
 * `at` of dst, `dstStride` bytes apart (destinations/copy-rows.ts: native, so not imported here,
 * where the workflow's modules are).
 */
export type RowsCopy = (
  src: Uint8Array,
  from: number,
  srcStride: number,
  dst: Uint8Array,
  at: number,
  dstStride: number,
  rowBytes: number,
  rows: number,
) => void;

export interface CopyOptions {
  /** Copies a plane's rows in one call when samples keep their width (see RowsCopy). */
  copyRows?: RowsCopy;
  /** Copy only the voxels inside this box too (default: all the two boxes share). */
  within?: Box;
  /**
   * Bytes per voxel of `src` when it is narrower than `dst`'s: uint8 into uint16, or uint8 and
   * uint16 or uint32 into uint64 (the low word; the high word stays as it was, zero in a fresh buffer).
   */
  srcBytesPerVoxel?: number;
}

type RowCopy = (from: number, at: number, length: number) => void;

/** Copies `length` voxels from voxel `from` of src to voxel `at` of dst, widening when asked. */
function rowCopier(src: Uint8Array, dst: Uint8Array, bytes: number, srcBytes: number): RowCopy {
  if (srcBytes === bytes)
    return (from, at, n) => dst.set(src.subarray(from * bytes, (from + n) * bytes), at * bytes);
  const narrow =
    srcBytes === 1
      ? src
      : srcBytes === 2
        ? new Uint16Array(src.buffer, src.byteOffset, src.byteLength / 2)
        : new Uint32Array(src.buffer, src.byteOffset, src.byteLength / 4);
  if (srcBytes === 1 && bytes === 2) {
    const wide = new Uint16Array(dst.buffer, dst.byteOffset, dst.byteLength / 2);
    return (from, at, n) => wide.set(narrow.subarray(from, from + n), at);
  }
  if (bytes === 8 && srcBytes < 8) {
    // Little-endian uint64: the sample is the low 32-bit word, as the hosts we run on store it.
    const words = new Uint32Array(dst.buffer, dst.byteOffset, dst.byteLength / 4);
    return (from, at, n) => {
      for (let i = 0; i < n; i++) words[2 * (at + i)] = narrow[from + i]!;
    };
  }
  throw new RangeError(`cannot copy ${srcBytes}-byte samples into ${bytes}-byte samples`);
}

/**
 * Copies the voxels `srcBox`, `dstBox` (and `options.within`) share from `src`, laid out C-order (z, y, x) over `srcBox`, into `dst`, laid out over
 * `dstBox`. Both are byte buffers of `bytesPerVoxel`-byte samples (`dst`'s; see `srcBytesPerVoxel`).
 * Rows are copied whole with TypedArray.set; only widening to uint64 goes voxel by voxel.
 */
export function copyBox(
  src: Uint8Array,
  srcBox: Box,
  dst: Uint8Array,
  dstBox: Box,
  bytesPerVoxel: number,
  options: CopyOptions = {},
): void {
  const srcBytes = options.srcBytesPerVoxel ?? bytesPerVoxel;
  const s = boxSize(srcBox);
  const d = boxSize(dstBox);
  if (src.length !== s.x * s.y * s.z * srcBytes || dst.length !== d.x * d.y * d.z * bytesPerVoxel)
    throw new RangeError('copyBox: a buffer does not match its box');
  const shared = intersect(srcBox, dstBox);
  const box = options.within && shared ? intersect(shared, options.within) : shared;
  if (!box) return;
  const width = box.x[1] - box.x[0];
  if (options.copyRows && srcBytes === bytesPerVoxel) {
    const b = bytesPerVoxel;
    for (let z = box.z[0]; z < box.z[1]; z++) {
      const from = voxelIndex(srcBox, box.x[0], box.y[0], z) * b;
      const at = voxelIndex(dstBox, box.x[0], box.y[0], z) * b;
      options.copyRows(src, from, s.x * b, dst, at, d.x * b, width * b, box.y[1] - box.y[0]);
    }
    return;
  }
  const copy = rowCopier(src, dst, bytesPerVoxel, srcBytes);
  // Rows as wide as both boxes lie end to end in both: one copy per plane (a tile as wide as its
  // chunk is one copy instead of one per row: 512 subarrays and calls less a tile).
  const rows = width === s.x && width === d.x ? box.y[1] - box.y[0] : 1;
  for (let z = box.z[0]; z < box.z[1]; z++) {
    for (let y = box.y[0]; y < box.y[1]; y += rows) {
      const from = voxelIndex(srcBox, box.x[0], y, z);
      const at = voxelIndex(dstBox, box.x[0], y, z);
      copy(from, at, width * rows);
    }
  }
}
