// The uint8 mean of a level's interior runs in our native kernel (src/pyramid/mean-native.c), or in wasm
// SIMD (src/pyramid/mean.wat) where it could not be built, when the chunk's x is even (wasm: a multiple
// of 32); here against the pyramid's definition, computed voxel by voxel from the whole level-k
// volume, beside the row kernel it falls back to (other sizes, the extent's edges): whole chunks, parts alone,
// and parts written into a chunk.
import { strict as assert } from 'node:assert';
import type { Range } from '../src/config/types.js';
import type { ChunkShape } from '../src/extent/grid.js';
import { downsampleChunk, type DownsampleTask, type PartIndex } from '../src/pyramid/downsample.js';
import { halveRange } from '../src/pyramid/levels.js';
import { nativeMean, type MeanKernel } from '../src/pyramid/mean-kernel.js';

interface Level {
  chunk: ChunkShape;
  halveZ: boolean;
  below: { x: Range; y: Range; z: Range };
  /** Level k over the 2x2x2 chunks under output chunk (0, 0, 0), (z, y, x) C-order. */
  voxels: Uint8Array;
}

function level(chunk: ChunkShape, halveZ: boolean, below: Level['below'], seed: number): Level {
  const voxels = new Uint8Array(8 * chunk.x * chunk.y * chunk.z);
  let s = seed;
  for (let i = 0; i < voxels.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    // Runs of 255 as well as noise: a sum of 8 x 255 must not overflow.
    voxels[i] = i % 97 < 20 ? 255 : s & 255;
  }
  return { chunk, halveZ, below, voxels };
}

/** The input chunk (dx, dy, dz) of the level, as stored: (z, y, x) C-order. */
function input(l: Level, dx: number, dy: number, dz: number): Uint8Array {
  const { x: X, y: Y, z: Z } = l.chunk;
  const out = new Uint8Array(X * Y * Z);
  for (let z = 0; z < Z; z++)
    for (let y = 0; y < Y; y++)
      for (let x = 0; x < X; x++)
        out[(z * Y + y) * X + x] = l.voxels[((dz * Z + z) * 2 * Y + dy * Y + y) * 2 * X + dx * X + x]!;
  return out;
}

/** Voxel (x, y, z) of output chunk (0, 0, 0) by the definition: floor of the mean of its block inside the extent. */
function expected(l: Level, x: number, y: number, z: number): number {
  const { below, halveZ } = l;
  const inside = (v: number, r: Range) => v >= r[0] && v < r[1];
  const above = { x: halveRange(below.x), y: halveRange(below.y), z: halveZ ? halveRange(below.z) : below.z };
  if (!inside(x, above.x) || !inside(y, above.y) || !inside(z, above.z)) return 0;
  let sum = 0;
  let count = 0;
  for (const zz of halveZ ? [2 * z, 2 * z + 1] : [z])
    for (const yy of [2 * y, 2 * y + 1])
      for (const xx of [2 * x, 2 * x + 1]) {
        if (!inside(xx, below.x) || !inside(yy, below.y) || !inside(zz, below.z)) continue;
        sum += l.voxels[(zz * 2 * l.chunk.y + yy) * 2 * l.chunk.x + xx]!;
        count++;
      }
  return Math.floor(sum / count);
}

function task(l: Level, part?: PartIndex): DownsampleTask {
  const inputs: Uint8Array[] = [];
  for (let dz = 0; dz < (l.halveZ ? 2 : 1); dz++)
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) inputs.push(input(l, dx, dy, dz));
  const { chunk, below, halveZ } = l;
  return {
    datatype: 'uint8',
    method: 'mean',
    chunk,
    below,
    halveZ,
    coord: { x: 0, y: 0, z: 0 },
    inputs,
    part,
  };
}

/** Asserts every voxel of `out` inside box [x0, x0 + w) x ... equals the definition, laid out over that box. */
function assertBox(l: Level, out: Uint8Array, origin: PartIndex, size: ChunkShape, what: string): void {
  assert.equal(out.length, size.x * size.y * size.z, `${what}: size`);
  for (let z = 0; z < size.z; z++)
    for (let y = 0; y < size.y; y++)
      for (let x = 0; x < size.x; x++) {
        const want = expected(l, origin.x + x, origin.y + y, origin.z + z);
        const got = out[(z * size.y + y) * size.x + x];
        if (got !== want)
          assert.fail(
            `${what}: voxel (${origin.x + x}, ${origin.y + y}, ${origin.z + z}) is ${got}, not ${want}`,
          );
      }
}

const CASES: { name: string; chunk: ChunkShape; kernel: MeanKernel }[] = [
  {
    name: 'the native kernel (the default, built by npm run build)',
    chunk: { x: 64, y: 6, z: 4 },
    kernel: 'native',
  },
  {
    name: 'the native kernel, x of 42 (not whole SIMD steps)',
    chunk: { x: 42, y: 6, z: 4 },
    kernel: 'native',
  },
  {
    name: 'the wasm kernel (where the native one was not built)',
    chunk: { x: 64, y: 6, z: 4 },
    kernel: 'wasm',
  },
  {
    name: 'x of 40 (the wasm kernel declines: the row kernel)',
    chunk: { x: 40, y: 6, z: 4 },
    kernel: 'wasm',
  },
];

describe('the uint8 mean of a pyramid chunk', function () {
  for (const { name, chunk, kernel } of CASES)
    for (const halveZ of [false, true]) {
      const run = (t: DownsampleTask, into?: Uint8Array) => {
        if (kernel === 'native')
          assert.ok(nativeMean, 'src/pyramid/mean-native.c was not built: see npm run build');
        return downsampleChunk(t, into, kernel);
      };
      const mode = halveZ ? 'isotropic' : 'anisotropic';
      const whole = {
        x: [0, 2 * chunk.x] as Range,
        y: [0, 2 * chunk.y] as Range,
        z: [0, 2 * chunk.z] as Range,
      };

      it(`${name}, ${mode}: a whole interior chunk, and one at the extent's odd edges`, () => {
        const interior = level(chunk, halveZ, whole, 88172645);
        const size = { ...chunk };
        assertBox(interior, run(task(interior)), { x: 0, y: 0, z: 0 }, size, 'interior');
        const edges = {
          x: [3, 2 * chunk.x - 5] as Range,
          y: [1, 2 * chunk.y - 1] as Range,
          z: [0, 2 * chunk.z - 1] as Range,
        };
        const edge = level(chunk, halveZ, edges, 2463534242);
        assertBox(edge, run(task(edge)), { x: 0, y: 0, z: 0 }, size, 'edges');
      });

      it(`${name}, ${mode}: each part alone and written into a chunk, keeping the chunk's other voxels`, () => {
        const l = level(chunk, halveZ, whole, 521288629);
        const into = new Uint8Array(chunk.x * chunk.y * chunk.z).fill(7);
        const half = { x: chunk.x / 2, y: chunk.y / 2, z: halveZ ? chunk.z / 2 : chunk.z };
        for (let pz = 0; pz < (halveZ ? 2 : 1); pz++)
          for (let py = 0; py < 2; py++)
            for (let px = 0; px < 2; px++) {
              const part = { x: px, y: py, z: pz };
              const origin = { x: px * half.x, y: py * half.y, z: pz * (halveZ ? half.z : 0) };
              assertBox(l, run(task(l, part)), origin, half, `part ${px}${py}${pz}`);
              const before = into.slice();
              run(task(l, part), into);
              for (let i = 0; i < into.length; i++) {
                const x = i % chunk.x;
                const y = Math.floor(i / chunk.x) % chunk.y;
                const z = Math.floor(i / (chunk.x * chunk.y));
                const inPart =
                  Math.floor(x / half.x) === px &&
                  Math.floor(y / half.y) === py &&
                  Math.floor(z / half.z) === pz;
                const want = inPart ? expected(l, x, y, z) : before[i];
                if (into[i] !== want)
                  assert.fail(
                    `part ${px}${py}${pz} into the chunk: voxel (${x}, ${y}, ${z}) is ${into[i]}, not ${want}`,
                  );
              }
            }
      });
    }
});
