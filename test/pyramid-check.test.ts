// Verify's check of a pyramid level (src/pyramid/check.ts), on a pyramid the workers' code built:
// an intact level passes; a voxel changed by zarr-python is found at its level's coordinates with
// both values; a chunk file that cannot be decoded is named, at its level and the one above.
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chunkFile, openZarrVolume, writeZarrChunk, type ZarrVolume } from '../src/destinations/zarr.js';
import { chunkBox, chunkCount, type ChunkShape, type Extent } from '../src/extent/grid.js';
import { buildPyramid } from '../src/pyramid/build.js';
import { levelGrid, planPyramid, type PyramidJob } from '../src/pyramid/job.js';
import { checkPyramidChunk } from '../src/pyramid/check.js';
import { runPython, tempDir } from './harness/env.js';

const CHUNK: ChunkShape = { x: 8, y: 8, z: 2 };
const EXTENT: Extent = { x: [3, 37], y: [5, 30], z: [1, 4], t: [0, 1] };

describe('verify checks a pyramid level against the level below', function () {
  let dir: string;
  let job: PyramidJob;
  before(async () => {
    dir = tempDir('pyramid-check');
    const volume: ZarrVolume = {
      name: 'zarr',
      path: path.join(dir, 'v.ome.zarr'),
      datatype: 'uint8',
      compressor: 'zstd',
      chunk: CHUNK,
      timeAxis: false,
    };
    await openZarrVolume(volume, EXTENT);
    const grid = { extent: EXTENT, chunk: CHUNK };
    for (let i = 0; i < chunkCount(grid); i++) {
      const box = chunkBox(grid, i);
      const samples = new Uint8Array(CHUNK.x * CHUNK.y * CHUNK.z).map((_, j) => (j * 37 + i * 11) % 251);
      await writeZarrChunk(volume, box, samples);
    }
    job = planPyramid(volume, EXTENT, { levels: 2, method: 'mean', downsample: 'anisotropic' });
    await buildPyramid(job);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The findings of every chunk of the level, by chunk index. */
  async function check(level: number) {
    const found = [];
    for (let i = 0; i < chunkCount(levelGrid(job, level)); i++) {
      const failure = await checkPyramidChunk(job, level, i);
      if (failure) found.push(failure);
    }
    return found;
  }

  it('an intact pyramid: every chunk of levels 1 and 2 passes', async () => {
    assert.deepEqual(await check(1), []);
    assert.deepEqual(await check(2), []);
  });

  it('a level-2 voxel changed by zarr-python: that chunk, at that voxel, with both values', async () => {
    // Level 2 spans x [0, 10), y [1, 8), z [1, 4): chunk (z 1, y 0, x 1) holds x 8:10, y 1:8, z 2:4.
    const at = { x: 9, y: 4, z: 3 };
    const args = (v: number) => [job.volume.path, String(at.z), String(at.y), String(at.x), String(v), '2'];
    const { before } = JSON.parse(await runPython('set_voxel.py', args(0))) as { before: number };
    const changed = (before + 100) % 256;
    await runPython('set_voxel.py', args(changed));
    try {
      const found = await check(2);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0]!.level, 2);
      assert.deepEqual(found[0]!.difference, {
        ...at,
        t: 0,
        source: String(before),
        stored: String(changed),
      });
      assert.equal(
        found[0]!.reason,
        `chunk 0/1/0/1 (x 8:10, y 1:8, z 2:4, t 0) against the mean of level 1: ` +
          `first difference at (x 9, y 4, z 3, t 0): expected ${before}, stored ${changed}`,
      );
      assert.deepEqual(await check(1), [], 'level 1 is unchanged');
    } finally {
      await runPython('set_voxel.py', args(before));
    }
  });

  it('a level-1 chunk file that cannot be decoded: named at level 1 and at the level-2 chunk above it', async () => {
    const coord = { x: 1, y: 1, z: 0, t: 0 };
    const file = chunkFile(job.volume, coord, 1);
    writeFileSync(file, 'not zstd');
    const found1 = await check(1);
    assert.equal(found1.length, 1, JSON.stringify(found1));
    assert.match(found1[0]!.reason, /^chunk 0\/0\/1\/1 \(x 8:16, y 8:15, z 1:2, t 0\): cannot be read: /);
    const found2 = await check(2);
    assert.deepEqual(
      found2.map((f) => [f.level, f.reason.replace(/: cannot be read: .*/, '')]),
      [[2, 'chunk 0/0/0/0 (x 0:8, y 1:8, z 1:2, t 0)']],
    );
  });
});
