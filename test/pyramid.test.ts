// The pyramid built in a zarr volume (src/pyramid/build.ts), read back with zarr-python level by
// level and compared with the independent Python reference of the definition
// (test/harness/pyramid_reference.py).
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Datatype } from '../src/config/types.js';
import { openZarrVolume, writeZarrChunk, type ZarrVolume } from '../src/destinations/zarr.js';
import { chunkBox, chunkCount, wholeChunk, type ChunkShape, type Extent } from '../src/extent/grid.js';
import { copyBox, type Box } from '../src/extent/box.js';
import { buildPyramid } from '../src/pyramid/build.js';
import { planPyramid, topOf } from '../src/pyramid/job.js';
import type { DownsampleAxes, DownsampleMethod } from '../src/pyramid/levels.js';
import { readWithZarrPython, runPython, tempDir } from './harness/env.js';

const CHUNK: ChunkShape = { x: 8, y: 5, z: 3 };
/** Odd bounds, not starting at 0; the array holds other values outside it that must not count. */
const EXTENT: Extent = { x: [3, 45], y: [1, 30], z: [2, 9], t: [0, 1] };
const SHAPE = [9, 30, 45] as const; // (z, y, x): the extent's stops
const BYTES: Record<Datatype, number> = { uint8: 1, uint16: 2, uint64: 8 };

/** Level 0 over the whole array: few values for mode so that ties happen, many for mean. */
function level0(datatype: Datatype, method: DownsampleMethod): Uint8Array {
  const n = SHAPE[0] * SHAPE[1] * SHAPE[2];
  const bytes = new Uint8Array(n * BYTES[datatype]);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const v = method === 'mode' ? 1 + (((i * 2654435761) >>> 0) % 3) : ((i * 2654435761) >>> 0) % 60000;
    if (datatype === 'uint8') bytes[i] = v % 256;
    else view.setUint16(2 * i, v, true);
  }
  return bytes;
}

describe('a pyramid built in a zarr volume', function () {
  let dir: string;
  before(() => (dir = tempDir('pyramid')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: [Datatype, DownsampleMethod, DownsampleAxes][] = [
    ['uint16', 'mean', 'anisotropic'],
    ['uint16', 'mean', 'isotropic'],
    ['uint16', 'mode', 'anisotropic'],
    ['uint8', 'mode', 'isotropic'],
  ];
  for (const [datatype, method, downsample] of cases) {
    it(`${datatype}, ${method}, ${downsample}: every level read by zarr-python equals the reference`, async () => {
      const volume: ZarrVolume = {
        name: 'zarr',
        path: path.join(dir, `${datatype}-${method}-${downsample}.ome.zarr`),
        datatype,
        compressor: 'zstd',
        chunk: CHUNK,
        timeAxis: false,
      };
      await openZarrVolume(volume, EXTENT);
      const data = level0(datatype, method);
      const all: Box = { x: [0, SHAPE[2]], y: [0, SHAPE[1]], z: [0, SHAPE[0]], t: 0 };
      const grid = { extent: EXTENT, chunk: CHUNK };
      for (let i = 0; i < chunkCount(grid); i++) {
        const { coord } = chunkBox(grid, i);
        const samples = new Uint8Array(CHUNK.x * CHUNK.y * CHUNK.z * BYTES[datatype]);
        // The whole chunk, outside the extent too: the pyramid must ignore what lies outside.
        copyBox(data, all, samples, wholeChunk(CHUNK, coord), BYTES[datatype]);
        await writeZarrChunk(volume, { ...wholeChunk(CHUNK, coord), coord }, samples);
      }
      const job = planPyramid(volume, EXTENT, { levels: 'auto', method, downsample });
      assert.equal(topOf(job), 3);
      await buildPyramid(job);

      const work = tempDir('pyramid-ref');
      writeFileSync(path.join(work, 'level0.bin'), data);
      const params = {
        dtype: datatype,
        shape: SHAPE,
        extent: { x: EXTENT.x, y: EXTENT.y, z: EXTENT.z },
        method,
        isotropic: downsample === 'isotropic',
        levels: 3,
      };
      writeFileSync(path.join(work, 'params.json'), JSON.stringify(params));
      await runPython('pyramid_reference.py', [
        path.join(work, 'params.json'),
        path.join(work, 'level0.bin'),
        work,
      ]);
      for (let k = 1; k <= 3; k++) {
        const read = await readWithZarrPython(volume.path, String(k));
        const want = readFileSync(path.join(work, `level${k}.bin`));
        assert.equal(read.dtype, datatype);
        assert.equal(read.data.length, want.length, `level ${k}: shape ${JSON.stringify(read.shape)}`);
        assert.ok(read.data.equals(want), `level ${k} differs from the reference`);
        assert.ok(want.some((v) => v !== 0));
        const datasets = read.ome.multiscales[0] as unknown as { datasets: { path: string }[] };
        assert.deepEqual(
          datasets.datasets.map((d) => d.path),
          ['0', '1', '2', '3'],
        );
      }
      rmSync(work, { recursive: true, force: true });
    });
  }
});
