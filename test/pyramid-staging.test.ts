// Staged parts (src/pyramid/staging.ts): the level-0 writes of a job with a pyramid stage level 1's
// parts, level 1 is built from them, and a part whose chunk was rewritten since is not used.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chunkBytes } from '../src/chunks/row-memory.js';
import {
  chunkFile,
  readZarrChunk,
  writeZarrChunk,
  zarrDestination,
  type ZarrVolume,
} from '../src/destinations/zarr.js';
import { chunkBox, chunkCount, chunkIndex, type ChunkShape, type Extent } from '../src/extent/grid.js';
import { buildEarly, buildPyramidChunk, computePyramidChunk } from '../src/pyramid/build.js';
import { coordAbove, inputsOf, levelGrid, levelOneWithin, planPyramid, topOf } from '../src/pyramid/job.js';
import { dropStaging, type HeldPart } from '../src/pyramid/staging.js';
import { TileParts } from '../src/pyramid/tile-parts.js';
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

function volumeSpec(dir: string, name: string): ZarrVolume {
  return {
    name: 'zarr',
    path: path.join(dir, name),
    datatype: 'uint8',
    compressor: 'blosc',
    chunk: CHUNK,
    timeAxis: false,
    multiscale: { levels: 'auto', method: 'mean', downsample: 'anisotropic' },
  };
}

describe('a pyramid built from the parts its level-0 writes staged', function () {
  let dir: string;
  before(() => (dir = tempDir('staging')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a batch builds the level-1 chunks only its own chunks feed', () => {
    const job = planPyramid(volumeSpec(dir, 'plan.ome.zarr'), EXTENT, volumeSpec(dir, '').multiscale!);
    const grid = { extent: EXTENT, chunk: CHUNK };
    // 4 chunks a row, 4 rows a slab: chunks 0-7 are rows 0 and 1 of slab 0, under level-1 row 0.
    assert.deepEqual(levelOneWithin(job, grid, 0, 8), [0, 1]);
    assert.deepEqual(levelOneWithin(job, grid, 0, 4), [], 'one row feeds half of each chunk above');
    assert.deepEqual(levelOneWithin(job, grid, 4, 12), [], 'rows 1 and 2 lie under two level-1 rows');
    assert.deepEqual(levelOneWithin(job, grid, 8, 32), [2, 3, 4, 5, 6, 7]);
    // A job over the first row of chunks only: the chunks beside it that it does not write are not waited for.
    const row = { extent: { ...EXTENT, y: [1, 4] as [number, number] }, chunk: CHUNK };
    assert.deepEqual(levelOneWithin(job, row, 0, 4), [0, 1]);
    assert.deepEqual(levelOneWithin(job, row, 0, 3), [0]);
  });

  it('chunks built early are skipped by their level until a chunk under them is rewritten, and lift the levels above', async () => {
    const volume = await zarrDestination.prepare(volumeSpec(dir, 'early.ome.zarr'), EXTENT);
    const grid = { extent: EXTENT, chunk: CHUNK };
    for (let i = 0; i < chunkCount(grid); i++)
      await zarrDestination.write(volume, chunkBox(grid, i), samplesOf(i, 0));
    const job = planPyramid(volume, EXTENT, volume.multiscale!);
    assert.ok(topOf(job) >= 2, 'a pyramid of at least two levels');
    // Two batches, each building the level-1 chunks under it; the second lifts the levels above.
    for (const [first, end] of [
      [0, 16],
      [16, 32],
    ] as const)
      for (const index of levelOneWithin(job, grid, first, end)) await buildEarly(job, 1, index);
    for (let level = 1; level <= topOf(job); level++)
      for (let i = 0; i < chunkCount(levelGrid(job, level)); i++) {
        const { coord } = chunkBox(levelGrid(job, level), i);
        const expected = (await computePyramidChunk(job, level, i)).samples;
        assert.deepEqual(await readZarrChunk(volume, coord, level), expected, `level ${level} chunk ${i}`);
        assert.equal(
          await buildPyramidChunk(job, level, i),
          false,
          `level ${level} chunk ${i} is not built twice`,
        );
      }
    // A rewrite under level-1 chunk `above` makes it (and only it at level 1) built again.
    await writeZarrChunk({ ...volume, staging: undefined }, chunkBox(grid, 5), samplesOf(5, 1));
    const above = chunkIndex(levelGrid(job, 1), coordAbove(chunkBox(grid, 5).coord, false));
    for (let i = 0; i < chunkCount(levelGrid(job, 1)); i++)
      assert.equal(await buildPyramidChunk(job, 1, i), i === above, `level-1 chunk ${i}`);
    const { coord } = chunkBox(levelGrid(job, 1), above!);
    assert.deepEqual(
      await readZarrChunk(volume, coord, 1),
      (await computePyramidChunk(job, 1, above!)).samples,
    );
    await dropStaging(volume.staging!.dir);
  });

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

  it('parts written into the held samples of the level-1 chunks a batch builds: no files, used while their chunks are as stored, recomputed after a rewrite', async () => {
    const base = await zarrDestination.prepare(volumeSpec(dir, 'held.ome.zarr'), EXTENT);
    const grid = { extent: EXTENT, chunk: CHUNK };
    const job = planPyramid(base, EXTENT, base.multiscale!);
    const above = chunkIndex(levelGrid(job, 1), coordAbove(chunkBox(grid, 5).coord, false))!;
    const coord = chunkBox(levelGrid(job, 1), above).coord;
    const samples = new Uint8Array(new SharedArrayBuffer(chunkBytes(CHUNK, 'uint8')));
    const volume = { ...base, staging: { ...base.staging!, hold: [{ coord, samples }] } };
    const parts: HeldPart[] = [];
    for (let i = 0; i < chunkCount(grid); i++) {
      const outcome = await zarrDestination.write(volume, chunkBox(grid, i), samplesOf(i, 0));
      if ('written' in outcome && outcome.part) parts.push(outcome.part);
    }
    const under = inputsOf(job, 1, coord).filter((c) => c !== undefined);
    assert.equal(parts.length, under.length, 'a part for each chunk under the held level-1 chunk');
    assert.equal(
      readdirSync(volume.staging.dir).length,
      chunkCount(grid) - parts.length,
      'the others staged',
    );
    const asWritten = samples.slice();

    const definition = (await computePyramidChunk(job, 1, above)).samples;
    await buildEarly(job, 1, above, { samples, parts });
    assert.deepEqual(await readZarrChunk(volume, coord, 1), definition);
    // A chunk under it rewritten since: its part is computed again from the chunk as stored.
    const index = chunkIndex(grid, parts[0]!.coord)!;
    await writeZarrChunk({ ...volume, staging: undefined }, chunkBox(grid, index), samplesOf(index, 1));
    const rewritten = (await computePyramidChunk(job, 1, above)).samples;
    assert.notDeepEqual(rewritten, definition);
    samples.set(asWritten);
    await buildPyramidChunk(job, 1, above, true, { samples, parts });
    assert.deepEqual(await readZarrChunk(volume, coord, 1), rewritten);
    // The parts still current are taken as the samples hold them, not computed again.
    samples.fill(77);
    await buildPyramidChunk(job, 1, above, true, { samples, parts });
    const built = (await readZarrChunk(volume, coord, 1))!;
    assert.ok(
      built.some((v, i) => v === 77 && rewritten[i] !== 77),
      'the held samples are used',
    );
    // A chunk under it that is not stored (any more) gives zeros, whatever its part of the samples
    // holds (here its part as first written).
    const gone = parts[1]!.coord;
    rmSync(chunkFile(volume, gone), { force: true });
    samples.set(asWritten);
    await buildPyramidChunk(job, 1, above, true, { samples, parts });
    const zeros = (await computePyramidChunk(job, 1, above)).samples;
    assert.deepEqual(await readZarrChunk(volume, coord, 1), zeros);
    await dropStaging(volume.staging.dir);
  });
});

describe('level-1 parts computed tile by tile as a row is assembled', () => {
  const dir = tempDir('tile-parts');
  /** Level-1 chunks x 0 and 1 of y 0 have every block inside; x 2 and y 1 do not. */
  const extent: Extent = { x: [0, 37], y: [0, 13], z: [0, 4], t: [0, 1] };

  it('uint8 means: the held samples the writes would give, before any write; a tile off the even grid leaves its chunk to the write', async () => {
    const grid = { extent, chunk: CHUNK };
    const row = [0, 1, 2, 3, 4].map((index) => ({
      index,
      box: chunkBox(grid, index),
      samples: samplesOf(index, 3),
    }));
    const held = (spec: ZarrVolume) => {
      const hold = [0, 1, 2].map((x) => ({
        coord: { t: 0, z: 0, y: 0, x },
        samples: new Uint8Array(new SharedArrayBuffer(chunkBytes(CHUNK, 'uint8'))),
      }));
      return { ...spec, staging: { ...spec.staging!, hold } };
    };
    // The parts as the writes compute them from the written chunks.
    const byWrite = held(await zarrDestination.prepare(volumeSpec(dir, 'by-write.ome.zarr'), extent));
    for (const c of row) await zarrDestination.write(byWrite, c.box, c.samples);

    const byTile = held(await zarrDestination.prepare(volumeSpec(dir, 'by-tile.ome.zarr'), extent));
    const parts = TileParts.of(byTile, grid, 0, row.length)!;
    assert.ok(parts, 'the row has chunks whose parts tiles give');
    // Tiles 4x2 (on the even grid), except in chunk 1: 3 wide there.
    for (const c of row) {
      const width = c.index === 1 ? 3 : 4;
      for (let z = c.box.z[0]; z < c.box.z[1]; z++)
        for (let y = c.box.y[0]; y < c.box.y[1]; y += 2)
          for (let x = c.box.x[0]; x < c.box.x[1]; x += width)
            parts.tile(c, { x: [x, Math.min(x + width, c.box.x[1])], y: [y, y + 2], z: [z, z + 1], t: 0 });
    }
    const spec = parts.writeSpec(new Map());
    assert.equal(spec.name, 'zarr');
    const ready = (spec as ZarrVolume).staging!.hold!.map((h) => (h.ready ?? []).map((c) => c.x));
    assert.deepEqual(
      ready,
      [[0], [2, 3], []],
      'chunk 1 (tiles off the grid) and chunk 4 (level-1 blocks outside the extent) left to the write',
    );
    const quarter = (samples: Uint8Array, x: number) => {
      const rows: number[] = [];
      for (let i = 0; i < samples.length; i++)
        if (
          Math.floor((i % CHUNK.x) / (CHUNK.x / 2)) === x % 2 &&
          Math.floor(i / CHUNK.x) % CHUNK.y < CHUNK.y / 2
        )
          rows.push(samples[i]!);
      return rows;
    };
    for (const x of [0, 2, 3])
      assert.deepEqual(
        quarter(byTile.staging.hold[x >> 1]!.samples, x),
        quarter(byWrite.staging.hold[x >> 1]!.samples, x),
        `chunk ${x}'s part, before any write`,
      );
    // A failed chunk's part is not taken: its write never comes.
    const failed = parts.writeSpec(new Map([[2, {}]])) as ZarrVolume;
    assert.deepEqual(
      failed.staging!.hold!.map((h) => (h.ready ?? []).map((c) => c.x)),
      [[0], [3], []],
    );

    for (const c of row) await zarrDestination.write(spec, c.box, c.samples);
    for (const [i, h] of byTile.staging.hold.entries())
      assert.deepEqual(
        h.samples,
        byWrite.staging.hold[i]!.samples,
        `level-1 chunk ${i} once the row is written`,
      );
  });
});
