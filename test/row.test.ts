// A row of chunks assembled from a CATMAID stack's tiles (src/chunks/row.ts): grey PNG and JPEG tiles
// inside one chunk's part of the extent are decoded straight into the chunk's samples, the others
// decoded apart and copied in. Either way every voxel of the chunk inside the extent is the stack's
// and every other one 0, whatever the chunk's samples held before.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { assembleRow, ingestRow, type RowChunk } from '../src/chunks/row.js';
import type { Datatype, JobConfig } from '../src/config/types.js';
import { validateConfig } from '../src/config/validate.js';
import { BYTES_PER_VOXEL } from '../src/destinations/datatype.js';
import { openZarrVolume, readZarrChunk, type ZarrVolume } from '../src/destinations/zarr.js';
import { chunkBox, chunkCount, wholeChunk, type Grid } from '../src/extent/grid.js';
import type { JobSpec } from '../src/job/types.js';
import { decodeGreyImage } from '../src/tiles/decode.js';
import { stackConfig, tileFile, voxel, writeStack, type Filetype, type StackSpec } from './fixtures/stack.js';
import { tempDir } from './harness/env.js';

interface Case {
  name: string;
  filetype: Filetype;
  bits: 8 | 16;
  tile: { x: number; y: number };
  datatype: Datatype;
}

// Chunks of 64 x 64 x 4 over a 128 x 100 x 6 stack: the last row of chunks and the last z band
// are cut by the extent.
const CHUNK = { x: 64, y: 64, z: 4 };
const SIZE = { width: 128, height: 100, depth: 6 };

const CASES: Case[] = [
  {
    name: '8-bit PNG tiles as wide as a chunk (decoded in place)',
    filetype: 'png',
    bits: 8,
    tile: { x: 64, y: 32 },
    datatype: 'uint8',
  },
  {
    name: '16-bit PNG tiles half as wide as a chunk (decoded in place, rows a chunk apart)',
    filetype: 'png',
    bits: 16,
    tile: { x: 32, y: 32 },
    datatype: 'uint16',
  },
  {
    name: 'JPEG tiles half as wide as a chunk (decoded in place, rows a chunk apart)',
    filetype: 'jpg',
    bits: 8,
    tile: { x: 32, y: 32 },
    datatype: 'uint8',
  },
  {
    name: '8-bit PNG tiles into uint16 chunks (widened: copied)',
    filetype: 'png',
    bits: 8,
    tile: { x: 64, y: 32 },
    datatype: 'uint16',
  },
  {
    name: 'PNG tiles 48 wide, some across two chunks (those copied into both)',
    filetype: 'png',
    bits: 8,
    tile: { x: 48, y: 32 },
    datatype: 'uint8',
  },
];

/** Every voxel of the chunk inside its box is `expected`'s, every other one 0. */
async function assertChunk(
  chunk: RowChunk,
  datatype: Datatype,
  expected: (x: number, y: number, z: number) => Promise<number> | number,
): Promise<void> {
  const whole = wholeChunk(CHUNK, chunk.box.coord);
  const samples =
    BYTES_PER_VOXEL[datatype] === 2
      ? new Uint16Array(chunk.samples.buffer, chunk.samples.byteOffset, chunk.samples.length / 2)
      : chunk.samples;
  for (let z = whole.z[0]; z < whole.z[1]; z++)
    for (let y = whole.y[0]; y < whole.y[1]; y++)
      for (let x = whole.x[0]; x < whole.x[1]; x++) {
        const inside = y < chunk.box.y[1] && z < chunk.box.z[1];
        const want = inside ? await expected(x, y, z) : 0;
        const at = ((z - whole.z[0]) * CHUNK.y + (y - whole.y[0])) * CHUNK.x + (x - whole.x[0]);
        if (samples[at] !== want)
          assert.fail(`chunk ${chunk.index}: voxel (${x}, ${y}, ${z}) is ${samples[at]}, not ${want}`);
      }
}

describe('a row of chunks assembled from tiles', function () {
  this.timeout(60_000);
  let root: string;
  before(() => (root = tempDir('row')));
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const c of CASES) {
    it(`${c.name}: every voxel the stack's, 0 outside the extent`, async () => {
      const spec: StackSpec = {
        root: path.join(root, c.name.replace(/\W+/g, '-')),
        layout: 'catmaid5',
        ...SIZE,
        tile: c.tile,
        bits: c.bits,
        filetype: c.filetype,
      };
      await writeStack(spec);
      const config = validateConfig(stackConfig(spec)) as JobConfig;
      const e = config.ingest_job.extent;
      const grid: Grid = { extent: { x: e.x, y: e.y, z: e.z, t: e.t! }, chunk: CHUNK };
      const job: JobSpec = {
        config,
        grid,
        destination: { name: 'discard', datatype: c.datatype, chunk: CHUNK },
      };
      // JPEG is lossy: its voxels are the decoder's, read tile by tile.
      const decoded = new Map<string, Uint8Array>();
      const expected = async (x: number, y: number, z: number): Promise<number> => {
        if (c.filetype !== 'jpg') return voxel(spec, x, y, z);
        const xi = Math.floor(x / c.tile.x);
        const yi = Math.floor(y / c.tile.y);
        const file = tileFile(spec, xi, yi, z);
        let data = decoded.get(file);
        if (!data) decoded.set(file, (data = (await decodeGreyImage(file)).data as Uint8Array));
        const width = Math.min(c.tile.x, SIZE.width - xi * c.tile.x);
        return data[(y - yi * c.tile.y) * width + (x - xi * c.tile.x)]!;
      };
      const perRow = SIZE.width / CHUNK.x;
      for (let first = 0; first < chunkCount(grid); first += perRow) {
        const { chunks, failed } = await assembleRow(job, first, first + perRow);
        assert.deepEqual([...failed.values()], []);
        for (const chunk of chunks) await assertChunk(chunk, c.datatype, expected);
      }
    });
  }

  it('rows written one after another (a thread takes the chunk samples of the rows before): every chunk stored exactly', async () => {
    const spec: StackSpec = {
      root: path.join(root, 'written'),
      layout: 'catmaid5',
      ...SIZE,
      tile: { x: 64, y: 32 },
      bits: 8,
    };
    await writeStack(spec);
    const config = validateConfig(stackConfig(spec)) as JobConfig;
    const e = config.ingest_job.extent;
    const grid: Grid = { extent: { x: e.x, y: e.y, z: e.z, t: e.t! }, chunk: CHUNK };
    const volume: ZarrVolume = {
      name: 'zarr',
      path: path.join(root, 'written.ome.zarr'),
      datatype: 'uint8',
      compressor: 'blosc',
      chunk: CHUNK,
      timeAxis: false,
    };
    await openZarrVolume(volume, grid.extent);
    const job: JobSpec = { config, grid, destination: volume };
    const perRow = SIZE.width / CHUNK.x;
    // Interior chunks first, then the ones the extent cuts: their voxels outside it must be 0 again.
    for (let first = 0; first < chunkCount(grid); first += perRow) {
      const result = await ingestRow(job, first, first + perRow);
      assert.deepEqual(result.failures, []);
    }
    for (let index = 0; index < chunkCount(grid); index++) {
      const box = chunkBox(grid, index);
      const samples = await readZarrChunk(volume, box.coord);
      assert.ok(samples, `chunk ${index} stored`);
      await assertChunk({ index, box, samples }, 'uint8', (x, y, z) => voxel(spec, x, y, z));
    }
  });
});
