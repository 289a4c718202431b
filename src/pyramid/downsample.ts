/**
 * One chunk of pyramid level k+1 from the (up to 8) level-k chunks under it. The definition is
 * exact so that any reader can check it: each level-(k+1) voxel inside its level's extent comes
 * from the level-k voxels of its 2x2 (2x2x2) block that lie inside level k's extent; `mean` is
 * floor(sum / count), `mode` the most frequent value, the smallest on a tie. Voxels outside the
 * extent are 0. Plain loops over typed arrays and no allocation per voxel: this runs once per
 * level-0 voxel of every ingest with a pyramid.
 */
import type { Datatype, Range } from '../config/types.js';
import type { ChunkShape } from '../extent/grid.js';
import { halveRange, type DownsampleMethod } from './levels.js';
import { DEFAULT_MEAN, MEAN_STEP, meanKernels, nativeMean, type MeanKernel } from './mean-kernel.js';

export interface DownsampleTask {
  datatype: Datatype;
  method: DownsampleMethod;
  /** The chunk shape, the same at every level. */
  chunk: ChunkShape;
  /** Level k's extent, in level-k voxels. */
  below: { x: Range; y: Range; z: Range };
  /** Whether z is halved too (isotropic). */
  halveZ: boolean;
  /** The output chunk's indices at level k+1. */
  coord: { x: number; y: number; z: number };
  /**
   * Level-k chunk (2x + dx, 2y + dy, 2z + dz) (z + dz when z is not halved, dz = 0) at index
   * (dz * 2 + dy) * 2 + dx: (z, y, x) C-order little-endian samples; undefined reads as the
   * fill value 0, as it does in Zarr.
   */
  inputs: readonly (Uint8Array | undefined)[];
  /**
   * Only the part of the output chunk that input (part.x, part.y, part.z) feeds, the other inputs
   * unused: with even chunk sizes each output voxel's block lies in one input chunk, so the parts
   * of a chunk can be computed apart (see staging.ts). The whole chunk when absent.
   */
  part?: PartIndex;
}

/** Which input chunk along each axis (0 or 1; z is 0 when z is not halved). */
export interface PartIndex {
  x: number;
  y: number;
  z: number;
}

type Samples = Uint8Array | Uint16Array | Uint32Array;

/** A typed view of a chunk's bytes; uint64 as (low, high) uint32 pairs, which needs no BigInt. */
function view(bytes: Uint8Array, datatype: Datatype): Samples {
  if (datatype === 'uint8') return bytes;
  const width = datatype === 'uint16' ? 2 : 4;
  const aligned = bytes.byteOffset % width === 0 ? bytes : bytes.slice();
  const length = aligned.byteLength / width;
  return width === 2
    ? new Uint16Array(aligned.buffer, aligned.byteOffset, length)
    : new Uint32Array(aligned.buffer, aligned.byteOffset, length);
}

function allocate(datatype: Datatype, voxels: number): Samples {
  if (datatype === 'uint8') return new Uint8Array(voxels);
  if (datatype === 'uint16') return new Uint16Array(voxels);
  return new Uint32Array(2 * voxels);
}

function asBytes(samples: Samples): Uint8Array {
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}

/**
 * Along one axis, for each output voxel of the chunk: its inputs that lie inside level k's extent,
 * as (input chunk 0 or 1 along the axis, index inside that chunk). Output voxels [lo, hi) are the
 * ones inside the output level's extent.
 */
interface Taps {
  lo: number;
  hi: number;
  count: Uint8Array;
  chunk: Uint8Array;
  local: Int32Array;
}

function taps(below: Range, chunkIndex: number, size: number, halved: boolean): Taps {
  const factor = halved ? 2 : 1;
  const above = halved ? halveRange(below) : below;
  const origin = chunkIndex * size;
  const lo = Math.max(0, above[0] - origin);
  const hi = Math.max(lo, Math.min(size, above[1] - origin));
  const t: Taps = {
    lo,
    hi,
    count: new Uint8Array(size),
    chunk: new Uint8Array(2 * size),
    local: new Int32Array(2 * size),
  };
  for (let o = lo; o < hi; o++) {
    for (let d = 0; d < factor; d++) {
      const input = (origin + o) * factor + d;
      if (input < below[0] || input >= below[1]) continue;
      const rel = o * factor + d;
      const slot = 2 * o + t.count[o]!;
      t.chunk[slot] = Math.floor(rel / size);
      t.local[slot] = rel % size;
      t.count[o]!++;
    }
  }
  return t;
}

/**
 * Runs of output x voxels whose two inputs are neighbours in input chunk 0 or 1 (`kind` 0 or 1:
 * the fast path), or anything else (`kind` 2: the extent's edges, a pair split between chunks).
 */
interface Run {
  from: number;
  to: number;
  kind: number;
}

function runs(tx: Taps): Run[] {
  const list: Run[] = [];
  for (let o = tx.lo; o < tx.hi; o++) {
    const pair = tx.count[o] === 2 && tx.chunk[2 * o] === tx.chunk[2 * o + 1];
    const kind = pair ? tx.chunk[2 * o]! : 2;
    const last = list[list.length - 1];
    if (last && last.kind === kind && last.to === o) last.to++;
    else list.push({ from: o, to: o + 1, kind });
  }
  return list;
}

/** The input rows under one output row: up to 4 (2 in y by 2 in z), each from a pair of chunks along x. */
class RowSources {
  count = 0;
  readonly first: (Samples | undefined)[] = [undefined, undefined, undefined, undefined];
  readonly second: (Samples | undefined)[] = [undefined, undefined, undefined, undefined];
  readonly offset = new Int32Array(4);

  constructor(
    private readonly inputs: (Samples | undefined)[],
    private readonly chunk: ChunkShape,
  ) {}

  select(tz: Taps, z: number, ty: Taps, y: number): void {
    this.count = 0;
    for (let a = 0; a < tz.count[z]!; a++) {
      for (let b = 0; b < ty.count[y]!; b++) {
        const base = (tz.chunk[2 * z + a]! * 2 + ty.chunk[2 * y + b]!) * 2;
        this.first[this.count] = this.inputs[base];
        this.second[this.count] = this.inputs[base + 1];
        this.offset[this.count] = (tz.local[2 * z + a]! * this.chunk.y + ty.local[2 * y + b]!) * this.chunk.x;
        this.count++;
      }
    }
  }
}

/** Where output row (z, y) starts in the output buffer, less its first voxel's x. */
type RowStart = (z: number, y: number) => number;

/**
 * The output chunk's samples; with `into`, written into those zeroed (or, with a part, into that
 * part's voxels of it: the rest is left as it is) and returned. A part without `into` returns the
 * part's voxels only, (z, y, x) C-order over the part's box (see staging.ts's partBox). `meanKernel`:
 * which kernel computes a uint8 mean (see meanWhole8).
 */
export function downsampleChunk(
  task: DownsampleTask,
  into?: Uint8Array,
  meanKernel: MeanKernel = DEFAULT_MEAN,
): Uint8Array {
  const { chunk, datatype, part } = task;
  const tx = taps(task.below.x, task.coord.x, chunk.x, true);
  const ty = taps(task.below.y, task.coord.y, chunk.y, true);
  const tz = taps(task.below.z, task.coord.z, chunk.z, task.halveZ);
  const interior = whole(tx, 2) && whole(ty, 2) && whole(tz, task.halveZ ? 2 : 1);
  let rowStart: RowStart = (z, y) => (z * chunk.y + y) * chunk.x;
  let voxels = chunk.x * chunk.y * chunk.z;
  if (part) {
    clip(tx, part.x);
    clip(ty, part.y);
    if (task.halveZ) clip(tz, part.z);
    if (!into) {
      const size = { x: chunk.x / 2, y: chunk.y / 2, z: task.halveZ ? chunk.z / 2 : chunk.z };
      const origin = { x: part.x * size.x, y: part.y * size.y, z: task.halveZ ? part.z * size.z : 0 };
      rowStart = (z, y) => ((z - origin.z) * size.y + (y - origin.y)) * size.x - origin.x;
      voxels = size.x * size.y * size.z;
    }
  }
  const out = into ? view(into, datatype) : allocate(datatype, voxels);
  if (tx.lo === tx.hi || ty.lo === ty.hi || tz.lo === tz.hi) return asBytes(out);
  if (
    out instanceof Uint8Array &&
    task.method === 'mean' &&
    interior &&
    meanWhole8(task, out, rowStart, meanKernel)
  )
    return out;
  const rows = new RowSources(
    task.inputs.map((bytes) => (bytes ? view(bytes, datatype) : undefined)),
    chunk,
  );
  const kernel = task.method === 'mode' ? mode : datatype === 'uint64' ? meanWide : mean;
  const xRuns = runs(tx);
  for (let z = tz.lo; z < tz.hi; z++) {
    for (let y = ty.lo; y < ty.hi; y++) {
      rows.select(tz, z, ty, y);
      kernel(rows, tx, xRuns, out, rowStart(z, y), datatype === 'uint64');
    }
  }
  return asBytes(out);
}

/** Narrows an axis's output voxels to the half fed by input chunk `half` (0 or 1) along it. */
function clip(t: Taps, half: number): void {
  const size = t.count.length;
  if (size % 2 !== 0) throw new RangeError(`a part of a chunk needs even chunk sizes, not ${size}`);
  t.lo = Math.max(t.lo, (half * size) / 2);
  t.hi = Math.max(t.lo, Math.min(t.hi, ((half + 1) * size) / 2));
}

/** Whether every output voxel along the axis has its whole block inside level k's extent. */
function whole(t: Taps, factor: number): boolean {
  if (t.lo !== 0 || t.hi !== t.count.length) return false;
  return t.count.every((n) => n === factor);
}

/**
 * The uint8 mean of a chunk whose every block lies inside level k's extent, with every input
 * chunk it uses present: the chunks of a level's interior, nearly all of a pyramid's voxels.
 * `native` (mean-native.c, the default where `npm run build` built it) reads each input and writes
 * `out` where they lie, one call per input. `wasm` (mean.wat) works in its own memory: the input
 * planes of one output plane at a time at 0 (they stay in the core's cache for the kernel), the
 * output chunk (or part) after them, laid out as `out`, copied back. The row kernel (mean) took
 * about 20 ms for a 16x512x512 chunk; wasm about 1 ms, copies included; native about 0.3 ms. Only
 * the voxels the inputs used give are written to `out` (the rest may be another thread's to
 * write, see staging.ts's HeldChunk). Declines (false) what it does not cover, which the row
 * kernel then does with the same result.
 */
function meanWhole8(task: DownsampleTask, out: Uint8Array, rowStart: RowStart, kernel: MeanKernel): boolean {
  const { chunk, halveZ, part } = task;
  const X = chunk.x;
  const Y = chunk.y;
  const Z = chunk.z;
  const step = kernel === 'native' ? 1 : MEAN_STEP;
  if ((X / 2) % step !== 0 || Y % 2 !== 0 || (halveZ && Z % 2 !== 0)) return false;
  const native = kernel === 'native' ? nativeMean : undefined;
  if (kernel === 'native' && !native)
    throw new Error('src/pyramid/mean-native.c was not built: see npm run build');
  const used: [number, Uint8Array][] = [];
  for (const [index, bytes] of task.inputs.slice(0, halveZ ? 8 : 4).entries()) {
    if (part && index !== (part.z * 2 + part.y) * 2 + part.x) continue;
    if (!bytes || bytes.byteLength !== X * Y * Z) return false;
    used.push([index, bytes]);
  }
  const depth = halveZ ? 2 : 1;
  const input = depth * X * Y;
  const half = X / 2;
  const rowsOut = Y / 2;
  const planesOut = Z / depth;
  // Where input `index`'s output rows go: its first voxel at output plane `plane`, the step between rows.
  const placed = (index: number, plane: number) => {
    const y = ((index >> 1) & 1) * rowsOut;
    const z = halveZ ? (index >> 2) * planesOut + plane : plane;
    return { first: rowStart(z, y) + (index & 1) * half, rowStride: rowStart(z, y + 1) - rowStart(z, y) };
  };
  if (native) {
    for (const [index, bytes] of used) {
      const { first, rowStride } = placed(index, 0);
      const planeStep = planesOut > 1 ? placed(index, 1).first - first : 0;
      native.mean(bytes, input, X, Y, depth, out, first, rowStride, planeStep, half, rowsOut, planesOut);
    }
    return true;
  }
  const kernels = meanKernels(input + out.byteLength);
  const heap = new Uint8Array(kernels.memory.buffer);
  const target = heap.subarray(input, input + out.byteLength);
  for (const [index, bytes] of used) {
    for (let plane = 0; plane < planesOut; plane++) {
      heap.set(bytes.subarray(plane * input, (plane + 1) * input), 0);
      const { first, rowStride } = placed(index, plane);
      if (halveZ) kernels.mean2x2x2(0, X, X * Y, input + first, rowStride, half, rowsOut);
      else kernels.mean2x2(0, X, input + first, rowStride, half, rowsOut);
      for (let row = 0, at = first; row < rowsOut; row++, at += rowStride)
        out.set(target.subarray(at, at + half), at);
    }
  }
  return true;
}

// The kernels below fill one output row. An absent input chunk adds nothing to a sum and reads as
// 0 for mode; it still counts as inside the extent, as the fill value does in Zarr.

/**
 * Mean of uint8/uint16: sums of at most 8 samples fit an int32. Inside the extent, with every
 * input chunk present, a block is two (four) pairs of neighbours and its mean a shift: that path
 * carries nearly every voxel, so it is written out for 2 and 4 input rows.
 */
function mean(rows: RowSources, tx: Taps, xRuns: Run[], out: Samples, row: number): void {
  const off = rows.offset;
  for (const run of xRuns) {
    if (run.kind < 2) {
      const pick = run.kind === 0 ? rows.first : rows.second;
      const l = tx.local[2 * run.from]!;
      const [a, b, c, d] = pick;
      if (rows.count === 2 && a && b) {
        for (let o = run.from, i = off[0]! + l, j = off[1]! + l; o < run.to; o++, i += 2, j += 2)
          out[row + o] = (a[i]! + a[i + 1]! + b[j]! + b[j + 1]!) >> 2;
        continue;
      }
      if (rows.count === 4 && a && b && c && d) {
        for (let o = run.from, i = 2 * (o - run.from); o < run.to; o++, i += 2) {
          const s =
            a[off[0]! + l + i]! + a[off[0]! + l + i + 1]! + b[off[1]! + l + i]! + b[off[1]! + l + i + 1]!;
          out[row + o] =
            (s +
              c[off[2]! + l + i]! +
              c[off[2]! + l + i + 1]! +
              d[off[3]! + l + i]! +
              d[off[3]! + l + i + 1]!) >>
            3;
        }
        continue;
      }
    }
    for (let o = run.from; o < run.to; o++) {
      let sum = 0;
      for (let r = 0; r < rows.count; r++) {
        for (let k = 0; k < tx.count[o]!; k++) {
          const src = tx.chunk[2 * o + k] === 0 ? rows.first[r] : rows.second[r];
          if (src) sum += src[off[r]! + tx.local[2 * o + k]!]!;
        }
      }
      out[row + o] = Math.floor(sum / (rows.count * tx.count[o]!));
    }
  }
}

const rowSums = new WeakMap<Samples, Float64Array[]>();

/** Zeroed per-row sums, reused for every row of one output chunk. */
function rowSum(out: Samples, tx: Taps, word = 0): Float64Array {
  let sums = rowSums.get(out);
  if (!sums)
    rowSums.set(out, (sums = [new Float64Array(tx.count.length), new Float64Array(tx.count.length)]));
  return sums[word]!.fill(0);
}

const TWO32 = 4294967296;

/**
 * Mean of uint64, as (low, high) uint32 words: each word sum stays below 2^35, and
 * floor((high * 2^32 + low) / n) is then computed exactly in doubles, without BigInt.
 */
function meanWide(rows: RowSources, tx: Taps, xRuns: Run[], out: Samples, row: number): void {
  const lo = rowSum(out, tx, 0);
  const hi = rowSum(out, tx, 1);
  for (let r = 0; r < rows.count; r++) {
    const off = rows.offset[r]!;
    for (const run of xRuns) {
      for (let o = run.from; o < run.to; o++) {
        for (let c = 0; c < tx.count[o]!; c++) {
          const src = tx.chunk[2 * o + c] === 0 ? rows.first[r] : rows.second[r];
          if (!src) continue;
          const i = 2 * (off + tx.local[2 * o + c]!);
          lo[o] += src[i]!;
          hi[o] += src[i + 1]!;
        }
      }
    }
  }
  for (let o = tx.lo; o < tx.hi; o++) {
    const n = rows.count * tx.count[o]!;
    const qHi = Math.floor(hi[o]! / n);
    const qLo = Math.floor(((hi[o]! - qHi * n) * TWO32 + lo[o]!) / n);
    const carry = Math.floor(qLo / TWO32);
    out[2 * (row + o)] = qLo - carry * TWO32;
    out[2 * (row + o) + 1] = qHi + carry;
  }
}

// Scratch for mode: at most 8 values, uint64 as (low, high) words, which a double cannot hold whole.
const modeLo = new Float64Array(8);
const modeHi = new Float64Array(8);

/**
 * Mode. Most blocks of a label volume hold one value: inside the extent, with both input chunks
 * present, that is checked on the four samples directly. Otherwise the block is gathered and sorted
 * and its first longest run taken, which is the smallest value on a tie.
 */
function mode(rows: RowSources, tx: Taps, xRuns: Run[], out: Samples, row: number, wide: boolean): void {
  const w = wide ? 2 : 1;
  for (const run of xRuns) {
    const pick = run.kind === 0 ? rows.first : rows.second;
    const [a, b] = pick;
    const fast = run.kind < 2 && rows.count === 2 && a && b;
    const l = tx.local[2 * run.from]!;
    for (let o = run.from; o < run.to; o++) {
      const at = w * (row + o);
      if (fast) {
        const i = w * (rows.offset[0]! + l + 2 * (o - run.from));
        const j = w * (rows.offset[1]! + l + 2 * (o - run.from));
        const v = a[i]!;
        if (a[i + w] === v && b[j] === v && b[j + w] === v) {
          const h = a[i + 1]!;
          if (!wide || (a[i + w + 1] === h && b[j + 1] === h && b[j + w + 1] === h)) {
            out[at] = v;
            if (wide) out[at + 1] = h;
            continue;
          }
        }
      }
      const best = gatheredMode(rows, tx, o, wide);
      out[at] = modeLo[best]!;
      if (wide) out[at + 1] = modeHi[best]!;
    }
  }
}

/** The mode of output voxel o's block, as an index into the scratch words. */
function gatheredMode(rows: RowSources, tx: Taps, o: number, wide: boolean): number {
  const lo = modeLo;
  const hi = modeHi;
  let n = 0;
  for (let r = 0; r < rows.count; r++) {
    for (let c = 0; c < tx.count[o]!; c++) {
      const src = tx.chunk[2 * o + c] === 0 ? rows.first[r] : rows.second[r];
      const i = rows.offset[r]! + tx.local[2 * o + c]!;
      lo[n] = src ? (wide ? src[2 * i]! : src[i]!) : 0;
      hi[n] = src && wide ? src[2 * i + 1]! : 0;
      n++;
    }
  }
  sortPairs(lo, hi, n);
  let best = 0;
  let bestRun = 0;
  for (let s = 0; s < n;) {
    let e = s + 1;
    while (e < n && lo[e] === lo[s] && hi[e] === hi[s]) e++;
    if (e - s > bestRun) {
      bestRun = e - s;
      best = s;
    }
    s = e;
  }
  return best;
}

/** Insertion sort of the first n (hi, lo) pairs: n is at most 8. */
function sortPairs(lo: Float64Array, hi: Float64Array, n: number): void {
  for (let k = 1; k < n; k++) {
    const vLo = lo[k]!;
    const vHi = hi[k]!;
    let j = k;
    while (j > 0 && (hi[j - 1]! > vHi || (hi[j - 1] === vHi && lo[j - 1]! > vLo))) {
      lo[j] = lo[j - 1]!;
      hi[j] = hi[j - 1]!;
      j--;
    }
    lo[j] = vLo;
    hi[j] = vHi;
  }
}
