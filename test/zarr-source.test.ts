// Zarr sources written by zarr-python 3 (v2 and v3 arrays, an OME-Zarr 0.5 group with sharding),
// read back by our volume reader voxel for voxel from a path, file://, HTTP and a local S3 server.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openZarr, type ZarrParams } from '../src/volumes/zarr.js';
import type { VolumeBox, VolumeDatatype } from '../src/volumes/volume.js';
import { assertSameVoxels, expectedBox } from './harness/voxels.js';
import { serveFixtures, type ServedFixtures } from './harness/sources.js';

type Written = Record<string, { shape: number[]; dtype: VolumeDatatype }>;

/** Every file under DIR with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(path.join(dir, name));
    files[name] = `${s.size} ${s.mtimeMs}`;
  }
  return files;
}

const CASES: { label: string; params: (root: string) => ZarrParams; raw: string; box: VolumeBox }[] = [
  {
    label: 'a Zarr v2 uint16 array',
    params: (r) => ({ location: `${r}/v2.zarr` }),
    raw: 'v2',
    box: { x: [3, 47], y: [5, 38], z: [2, 19] },
  },
  {
    label: 'a Zarr v2 array in Fortran order',
    params: (r) => ({ location: `${r}/v2f.zarr` }),
    raw: 'v2f',
    box: { x: [1, 20], y: [0, 29], z: [3, 12] },
  },
  {
    label: 'an array named in a v2 group (cloud_path + volume_name)',
    params: (r) => ({ location: `${r}/group.zarr`, name: 'raw' }),
    raw: 'group_raw',
    box: { x: [0, 35], y: [0, 33], z: [0, 10] },
  },
  {
    label: 'an OME-Zarr 0.5 group, scale 0 (sharded, t and c of length 1)',
    params: (r) => ({ location: `${r}/ome.zarr` }),
    raw: 'ome0',
    box: { x: [5, 33], y: [7, 40], z: [3, 21] },
  },
  {
    label: 'an OME-Zarr 0.5 group, scale 1',
    params: (r) => ({ location: `${r}/ome.zarr`, scale: 1 }),
    raw: 'ome1',
    box: { x: [0, 18], y: [1, 20], z: [0, 12] },
  },
  {
    label: 'uint64 labels above 2^32 (Zarr v3)',
    params: (r) => ({ location: `${r}/labels.zarr` }),
    raw: 'labels',
    box: { x: [2, 23], y: [3, 17], z: [1, 8] },
  },
  {
    label: 'uint32 labels',
    params: (r) => ({ location: `${r}/labels32.zarr` }),
    raw: 'labels32',
    box: { x: [0, 10], y: [2, 9], z: [0, 4] },
  },
];

describe('Zarr sources (written by zarr-python)', function () {
  this.timeout(300_000);
  let fixtures: ServedFixtures<Written>;
  let dir: string;
  let written: Written;

  before(async () => {
    fixtures = await serveFixtures<Written>('zarr_sources.py', 'volumes');
    ({ dir, written } = fixtures);
  });

  after(() => fixtures?.stop());

  const roots: Record<string, () => string> = {
    'a local path': () => dir,
    'a file:// URL': () => pathToFileURL(dir).href,
    HTTP: () => fixtures.http.url,
    S3: () => fixtures.s3Root,
  };

  for (const [where, root] of Object.entries(roots)) {
    for (const c of CASES) {
      it(`reads ${c.label} from ${where}`, async () => {
        const volume = await openZarr(c.params(root()));
        const { shape, dtype } = written[c.raw];
        assert.equal(volume.datatype, dtype);
        assert.deepEqual([volume.size.z, volume.size.y, volume.size.x], shape);
        assertSameVoxels(
          await volume.readBox(c.box),
          expectedBox({ file: path.join(dir, `${c.raw}.raw`), dtype, shape }, c.box),
          c.label,
        );
        await volume.close();
      });
    }
  }

  it('reports a chunk shape that boxes can be aligned to', async () => {
    const volume = await openZarr({ location: `${dir}/v2.zarr` });
    assert.deepEqual(volume.chunk, { z: 8, y: 16, x: 16 });
  });

  it('refuses a signed array, naming it, because ingesting it would lose values', async () => {
    await assert.rejects(openZarr({ location: `${dir}/int16.zarr` }), (err: Error) => {
      assert.match(err.message, /int16\.zarr.*int16 cannot be ingested without loss/);
      return true;
    });
  });

  it('refuses a box outside the array and a scale that does not exist', async () => {
    const volume = await openZarr({ location: `${dir}/v2.zarr` });
    await assert.rejects(
      volume.readBox({ x: [0, 51], y: [0, 10], z: [0, 1] }),
      /v2\.zarr: box x 0:51.*not inside the volume \(x 0:50\)/,
    );
    await assert.rejects(
      openZarr({ location: `${dir}/ome.zarr`, scale: 2 }),
      /ome\.zarr: has scales 0\.\.1, not 2/,
    );
  });

  it('names the location when there is no Zarr there, locally and over S3', async () => {
    await assert.rejects(
      openZarr({ location: `${dir}/nothing.zarr` }),
      /nothing\.zarr: no Zarr array or group here/,
    );
    await assert.rejects(
      openZarr({ location: `${fixtures.s3Root}/nothing.zarr` }),
      /s3:\/\/lab-data\/volumes\/nothing\.zarr: no Zarr/,
    );
  });

  it('leaves the source as it was: no file added or changed', async () => {
    const before = snapshot(dir);
    const volume = await openZarr({ location: `${dir}/group.zarr`, name: 'raw' });
    await volume.readBox({ x: [0, 35], y: [0, 33], z: [0, 10] });
    await openZarr({ location: `${dir}/ome.zarr` });
    assert.deepEqual(snapshot(dir), before);
  });
});
