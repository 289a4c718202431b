// Unit tests of one pyramid level (src/pyramid/downsample.ts) against an independent Python
// implementation of issue 12's definition (test/harness/pyramid_reference.py): odd chunk sizes,
// extents that do not start at 0, voxels outside the extent that must be ignored, both methods,
// both downsample modes and all three datatypes, over three levels.
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Datatype, Range } from '../src/config/types.js';
import type { ChunkShape } from '../src/extent/grid.js';
import { downsampleChunk } from '../src/pyramid/downsample.js';
import { partBox } from '../src/pyramid/staging.js';
import { copyBox, type Box } from '../src/extent/box.js';
import { halveRange, type DownsampleMethod } from '../src/pyramid/levels.js';
import { runPython, tempDir } from './harness/env.js';

const BYTES: Record<Datatype, number> = { uint8: 1, uint16: 2, uint64: 8 };

/** A deterministic generator (mulberry32), so a failure can be reproduced. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Level {
  /** Array shape (z, y, x). */
  shape: [number, number, number];
  extent: { x: Range; y: Range; z: Range };
  /** (z, y, x) C-order little-endian samples. */
  bytes: Uint8Array;
}

/**
 * Level-0 samples everywhere in the array, inside and outside the extent: the outside ones must not
 * count. Mode draws from few values so that ties are common; uint64 values exceed 2^53 and differ
 * in either word.
 */
function level0(
  datatype: Datatype,
  method: DownsampleMethod,
  shape: Level['shape'],
  seed: number,
): Uint8Array {
  const next = random(seed);
  const n = shape[0] * shape[1] * shape[2];
  const bytes = new Uint8Array(n * BYTES[datatype]);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const r = next();
    if (datatype === 'uint8') bytes[i] = method === 'mode' ? Math.floor(r * 3) : Math.floor(r * 256);
    else if (datatype === 'uint16')
      view.setUint16(2 * i, method === 'mode' ? 1000 * Math.floor(r * 3) : Math.floor(r * 65536), true);
    else if (method === 'mode') {
      const pick = Math.floor(r * 4);
      view.setBigUint64(8 * i, (1n << 60n) + BigInt(pick & 1) + (BigInt(pick >> 1) << 33n), true);
    } else
      view.setBigUint64(
        8 * i,
        (BigInt(Math.floor(r * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32)),
        true,
      );
  }
  return bytes;
}

const GRID = (shape: Level['shape'], chunk: ChunkShape) => ({
  z: Math.ceil(shape[0] / chunk.z),
  y: Math.ceil(shape[1] / chunk.y),
  x: Math.ceil(shape[2] / chunk.x),
});

/** Chunk (cx, cy, cz) of a level, zero-padded past the array's edge; undefined past its last chunk. */
function chunkOf(level: Level, chunk: ChunkShape, bytes: number, cx: number, cy: number, cz: number) {
  const grid = GRID(level.shape, chunk);
  if (cx >= grid.x || cy >= grid.y || cz >= grid.z) return undefined;
  const out = new Uint8Array(chunk.x * chunk.y * chunk.z * bytes);
  const [Z, Y, X] = level.shape;
  for (let z = 0; z < chunk.z; z++)
    for (let y = 0; y < chunk.y; y++) {
      const az = cz * chunk.z + z;
      const ay = cy * chunk.y + y;
      if (az >= Z || ay >= Y) continue;
      const ax = cx * chunk.x;
      const width = Math.min(chunk.x, X - ax);
      const from = ((az * Y + ay) * X + ax) * bytes;
      out.set(level.bytes.subarray(from, from + width * bytes), (z * chunk.y + y) * chunk.x * bytes);
    }
  return out;
}

/** The next level, chunk by chunk through downsampleChunk, cropped to the array's shape. */
function nextLevel(
  level: Level,
  chunk: ChunkShape,
  datatype: Datatype,
  method: DownsampleMethod,
  isotropic: boolean,
): Level {
  const b = BYTES[datatype];
  const shape: Level['shape'] = [
    isotropic ? Math.ceil(level.shape[0] / 2) : level.shape[0],
    Math.ceil(level.shape[1] / 2),
    Math.ceil(level.shape[2] / 2),
  ];
  const out = new Uint8Array(shape[0] * shape[1] * shape[2] * b);
  const grid = GRID(shape, chunk);
  const dzs = isotropic ? 2 : 1;
  for (let cz = 0; cz < grid.z; cz++)
    for (let cy = 0; cy < grid.y; cy++)
      for (let cx = 0; cx < grid.x; cx++) {
        const inputs: (Uint8Array | undefined)[] = [];
        for (let dz = 0; dz < dzs; dz++)
          for (let dy = 0; dy < 2; dy++)
            for (let dx = 0; dx < 2; dx++)
              inputs.push(chunkOf(level, chunk, b, 2 * cx + dx, 2 * cy + dy, dzs * cz + dz));
        const task = {
          datatype,
          method,
          chunk,
          below: level.extent,
          halveZ: isotropic,
          coord: { x: cx, y: cy, z: cz },
        };
        const samples = downsampleChunk({ ...task, inputs });
        if (chunk.x % 2 === 0 && chunk.y % 2 === 0 && (!isotropic || chunk.z % 2 === 0)) {
          // Staged parts (src/pyramid/staging.ts): each input's part computed alone, into one chunk.
          const byParts = new Uint8Array(samples.length);
          inputs.forEach((input, at) => {
            const only = inputs.map(() => undefined as Uint8Array | undefined);
            only[at] = input;
            const part = { x: at & 1, y: (at >> 1) & 1, z: at >> 2 };
            downsampleChunk({ ...task, inputs: only, part }, byParts);
            // Alone, the part comes out as its own box's voxels.
            const alone = downsampleChunk({ ...task, inputs: only, part });
            const box = partBox(part, chunk, isotropic);
            const local = { x: [0, chunk.x], y: [0, chunk.y], z: [0, chunk.z], t: 0 } as Box;
            const expected = new Uint8Array(alone.length);
            copyBox(byParts, local, expected, box, b);
            assert.deepEqual(alone, expected, `part ${JSON.stringify(part)} alone`);
          });
          const where = `chunk (${cx}, ${cy}, ${cz})`;
          assert.equal(
            firstDifference(byParts, samples, [chunk.z, chunk.y, chunk.x], b),
            '',
            `${where} by parts`,
          );
        }
        for (let z = 0; z < chunk.z; z++)
          for (let y = 0; y < chunk.y; y++) {
            const az = cz * chunk.z + z;
            const ay = cy * chunk.y + y;
            const ax = cx * chunk.x;
            const from = (z * chunk.y + y) * chunk.x * b;
            const inside = az < shape[0] && ay < shape[1];
            const width = inside ? Math.max(0, Math.min(chunk.x, shape[2] - ax)) : 0;
            if (width > 0)
              out.set(samples.subarray(from, from + width * b), ((az * shape[1] + ay) * shape[2] + ax) * b);
            // Past the array's edge the chunk is outside the extent: it must be 0 there.
            assert.ok(samples.subarray(from + width * b, from + chunk.x * b).every((v) => v === 0));
          }
      }
  const extent = {
    x: halveRange(level.extent.x),
    y: halveRange(level.extent.y),
    z: isotropic ? halveRange(level.extent.z) : level.extent.z,
  };
  return { shape, extent, bytes: out };
}

/** The first voxel where two levels differ, as a readable message. */
function firstDifference(got: Uint8Array, want: Uint8Array, shape: Level['shape'], bytes: number): string {
  for (let i = 0; i < want.length; i += bytes) {
    const a = Buffer.from(got.subarray(i, i + bytes));
    const e = Buffer.from(want.subarray(i, i + bytes));
    if (!a.equals(e)) {
      const v = i / bytes;
      const x = v % shape[2];
      const y = Math.floor(v / shape[2]) % shape[1];
      const z = Math.floor(v / (shape[2] * shape[1]));
      return `(x ${x}, y ${y}, z ${z}): got ${a.toString('hex')}, expected ${e.toString('hex')}`;
    }
  }
  return '';
}

const LEVELS = 3;

describe('downsampleChunk against the Python reference of the definition', function () {
  let dir: string;
  before(() => (dir = tempDir('downsample')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // Odd chunk sizes (an output voxel's x inputs can straddle two chunks), an extent starting past
  // 0 with odd bounds, and array voxels outside it holding values that must not count.
  const chunk: ChunkShape = { x: 5, y: 3, z: 3 };
  const shape: Level['shape'] = [13, 23, 39];
  const extent = { x: [3, 37] as Range, y: [1, 22] as Range, z: [2, 11] as Range };

  // Even chunks, x a multiple of 8: the uint8 mean's interior runs on the row kernel here (the wasm
  // kernel takes x a multiple of 32, test/mean-kernel.test.ts), as its edges do.
  const wordChunk: ChunkShape = { x: 8, y: 4, z: 2 };
  const cases: [Datatype, DownsampleMethod, boolean, ChunkShape][] = [];
  for (const datatype of ['uint8', 'uint16', 'uint64'] as Datatype[])
    for (const method of ['mean', 'mode'] as DownsampleMethod[])
      for (const isotropic of [false, true]) cases.push([datatype, method, isotropic, chunk]);
  for (const isotropic of [false, true]) cases.push(['uint8', 'mean', isotropic, wordChunk]);
  // Even chunks: each chunk is also computed part by part (as staged), which must give the same.
  const evenChunk: ChunkShape = { x: 6, y: 4, z: 2 };
  for (const datatype of ['uint8', 'uint16', 'uint64'] as Datatype[])
    for (const method of ['mean', 'mode'] as DownsampleMethod[])
      for (const isotropic of [false, true]) cases.push([datatype, method, isotropic, evenChunk]);

  for (const [seed, [datatype, method, isotropic, chunk]] of cases.map((c, i) => [i + 1, c] as const)) {
    const mode = isotropic ? 'isotropic' : 'anisotropic';
    const shapeName = `chunks ${chunk.x}x${chunk.y}x${chunk.z}`;
    it(`${datatype}, ${method}, ${mode}, ${shapeName}: ${LEVELS} levels equal the reference voxel for voxel`, async () => {
      const caseDir = path.join(dir, `${datatype}-${method}-${mode}-${chunk.x}`);
      mkdirSync(caseDir);
      let level: Level = { shape, extent, bytes: level0(datatype, method, shape, seed) };
      writeFileSync(path.join(caseDir, 'level0.bin'), level.bytes);
      const params = { dtype: datatype, shape, extent, method, isotropic, levels: LEVELS };
      writeFileSync(path.join(caseDir, 'params.json'), JSON.stringify(params));
      await runPython('pyramid_reference.py', [
        path.join(caseDir, 'params.json'),
        path.join(caseDir, 'level0.bin'),
        caseDir,
      ]);
      let nonZero = 0;
      for (let k = 1; k <= LEVELS; k++) {
        level = nextLevel(level, chunk, datatype, method, isotropic);
        const want = readFileSync(path.join(caseDir, `level${k}.bin`));
        assert.equal(level.bytes.length, want.length, `level ${k}: size`);
        const diff = firstDifference(level.bytes, want, level.shape, BYTES[datatype]);
        assert.equal(diff, '', `level ${k} differs from the reference at ${diff}`);
        nonZero += want.filter((v) => v !== 0).length;
      }
      assert.ok(nonZero > 0, 'the reference pyramid is not all zeros');
    });
  }

  it('an absent input chunk reads as zeros, like the fill value', () => {
    const datatype: Datatype = 'uint16';
    const level: Level = { shape, extent, bytes: level0(datatype, 'mean', shape, 99) };
    const inputs = [0, 1, 2, 3].map((i) => chunkOf(level, chunk, 2, 2 + (i & 1), 2 + (i >> 1), 1));
    const task = {
      datatype,
      method: 'mean' as const,
      chunk,
      below: extent,
      halveZ: false,
      coord: { x: 1, y: 1, z: 1 },
    };
    const withZeros = downsampleChunk({
      ...task,
      inputs: [inputs[0], new Uint8Array(inputs[1]!.length), inputs[2], inputs[3]],
    });
    const withAbsent = downsampleChunk({ ...task, inputs: [inputs[0], undefined, inputs[2], inputs[3]] });
    const full = downsampleChunk({ ...task, inputs });
    assert.deepEqual(withAbsent, withZeros);
    assert.notDeepEqual(full, withZeros, 'the chunk left out mattered');
  });
});
