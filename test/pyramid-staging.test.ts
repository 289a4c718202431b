// Staged parts (src/pyramid/staging.ts): the level-0 writes of a job with a pyramid stage level 1's
// parts, level 1 is built from them, and a part whose chunk was rewritten since is not used.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeZarrChunk, zarrDestination, type ZarrVolume } from '../src/destinations/zarr.js';
import { chunkBox, chunkCount, type ChunkShape, type Extent } from '../src/extent/grid.js';
import { buildPyramidChunk, computePyramidChunk } from '../src/pyramid/build.js';
import { levelGrid, planPyramid } from '../src/pyramid/job.js';
import { dropStaging } from '../src/pyramid/staging.js';
import { tempDir } from './harness/env.js';

const CHUNK: ChunkShape = { x: 8, y: 4, z: 2 };
/** Odd bounds, not starting at 0: level 1's edge chunks take parts of edge chunks. */
const EXTENT: Extent = { x: [3, 29], y: [1, 15], z: [0, 4], t: [0, 1] };

function samplesOf(index: number, salt: number): Uint8Array {
  const bytes = new Uint8Array(CHUNK.x * CHUNK.y * CHUNK.z);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = ((i + 1) * 2654435761 + index * 97 + salt * 77777777) >>> 24;
  return bytes;
}

describe('a pyramid built from the parts its level-0 writes staged', function () {
  let dir: string;
  before(() => (dir = tempDir('staging')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('level 1 from the parts equals level 1 from level 0 as stored, also after a chunk was rewritten', async () => {
    const spec: ZarrVolume = {
      name: 'zarr',
      path: path.join(dir, 'v.ome.zarr'),
      datatype: 'uint8',
      compressor: 'blosc',
      chunk: CHUNK,
      timeAxis: false,
      multiscale: { levels: 'auto', method: 'mean', downsample: 'anisotropic' },
    };
    const volume = await zarrDestination.prepare(spec, EXTENT);
    assert.ok(volume.staging, 'a job with a pyramid stages parts');
    const grid = { extent: EXTENT, chunk: CHUNK };
    for (let i = 0; i < chunkCount(grid); i++)
      await zarrDestination.write(volume, chunkBox(grid, i), samplesOf(i, 0));
    assert.equal(readdirSync(volume.staging.dir).length, chunkCount(grid), 'one part per level-0 chunk');

    const job = planPyramid(volume, EXTENT, volume.multiscale!);
    assert.deepEqual(job.staging, { dir: volume.staging.dir, level0: true });
    const level1 = levelGrid(job, 1);
    const count = chunkCount(level1);
    const before = [];
    for (let i = 0; i < count; i++) before.push((await computePyramidChunk(job, 1, i)).samples);

    // Another writer (no pyramid of its own) rewrites level-0 chunk 5 after its part was staged.
    await writeZarrChunk({ ...volume, staging: undefined }, chunkBox(grid, 5), samplesOf(5, 1));
    const changed: number[] = [];
    for (let i = 0; i < count; i++) {
      const fromStored = await computePyramidChunk(job, 1, i);
      const fromParts = await computePyramidChunk(job, 1, i, true);
      assert.deepEqual(fromParts.samples, fromStored.samples, `level-1 chunk ${i}`);
      if (!Buffer.from(fromParts.samples).equals(Buffer.from(before[i]!))) changed.push(i);
      await buildPyramidChunk(job, 1, i);
    }
    assert.equal(changed.length, 1, 'the rewrite changed the one level-1 chunk above it');
    // Level 1's parts used are dropped, the stale one stays until the stage ends; level 1's
    // chunks staged theirs for level 2.
    const staged = readdirSync(volume.staging.dir);
    assert.equal(staged.filter((f) => f.startsWith('1.')).length, 1);
    assert.equal(staged.filter((f) => f.startsWith('2.')).length, count);
    await dropStaging(volume.staging.dir);
    assert.ok(!existsSync(volume.staging.dir));
  });
});
