// Neuroglancer precomputed layers written by CloudVolume (raw with and without gzip, jpeg,
// compressed_segmentation, sharded with murmurhash and identity hashes), read back by our volume
// reader voxel for voxel, and jpeg against CloudVolume's own decoding; from disk, HTTP and S3.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openPrecomputed } from '../src/volumes/precomputed/index.js';
import { murmurHash64Low } from '../src/volumes/precomputed/murmurhash.js';
import type { VolumeBox, VolumeDatatype } from '../src/volumes/volume.js';
import { venvPython } from './harness/env.js';
import { serveFixtures, type ServedFixtures } from './harness/sources.js';
import { assertSameVoxels, expectedBox } from './harness/voxels.js';

type Written = Record<string, { offset: number[]; size: number[]; dtype: VolumeDatatype }>;

const CASES: { layer: string; label: string; box?: VolumeBox }[] = [
  {
    layer: 'raw_gzip',
    label: 'raw uint16, gzip, voxel_offset (3, 5, 2)',
    box: { x: [10, 50], y: [6, 44], z: [3, 21] },
  },
  { layer: 'raw_plain', label: 'raw uint8, uncompressed' },
  { layer: 'jpeg', label: 'jpeg, as CloudVolume decodes it', box: { x: [20, 60], y: [10, 40], z: [5, 16] } },
  { layer: 'cseg64', label: 'compressed_segmentation uint64 labels above 2^32' },
  {
    layer: 'cseg32',
    label: 'compressed_segmentation uint32, block 4 x 8 x 2',
    box: { x: [3, 29], y: [1, 19], z: [1, 9] },
  },
  {
    layer: 'sharded',
    label: 'sharded (murmurhash3, gzip indexes and data)',
    box: { x: [5, 60], y: [9, 64], z: [0, 30] },
  },
  { layer: 'sharded_identity', label: 'sharded over four shard files (identity hash)' },
];

describe('Precomputed sources (written by CloudVolume)', function () {
  this.timeout(300_000);
  let fixtures: ServedFixtures<Written>;
  let dir: string;
  let written: Written;

  before(async () => {
    fixtures = await serveFixtures<Written>('precomputed_sources.py', 'layers');
    ({ dir, written } = fixtures);
  });

  after(() => fixtures?.stop());

  const whole = (layer: string): VolumeBox => {
    const { offset: o, size: s } = written[layer];
    return { x: [o[0], o[0] + s[0]], y: [o[1], o[1] + s[1]], z: [o[2], o[2] + s[2]] };
  };
  const dump = (layer: string) => {
    const { offset: o, size: s, dtype } = written[layer];
    return {
      file: path.join(dir, `${layer}.raw`),
      dtype,
      shape: [s[2], s[1], s[0]],
      offset: { x: o[0], y: o[1], z: o[2] },
    };
  };

  const roots: Record<string, () => string> = {
    'a file:// URL': () => pathToFileURL(dir).href,
    HTTP: () => fixtures.http.url,
    S3: () => fixtures.s3Root,
  };

  for (const [where, root] of Object.entries(roots)) {
    for (const c of CASES) {
      it(`reads ${c.label} from ${where}`, async () => {
        const volume = await openPrecomputed({ location: `${root()}/${c.layer}` });
        const { offset, size, dtype } = written[c.layer];
        assert.equal(volume.datatype, dtype);
        assert.deepEqual([volume.offset.x, volume.offset.y, volume.offset.z], offset);
        assert.deepEqual([volume.size.x, volume.size.y, volume.size.z], size);
        for (const box of c.box ? [whole(c.layer), c.box] : [whole(c.layer)]) {
          assertSameVoxels(
            await volume.readBox(box),
            expectedBox(dump(c.layer), box),
            `${c.layer} ${JSON.stringify(box)}`,
          );
        }
      });
    }
  }

  it('reads a layer from a plain local path', async () => {
    const volume = await openPrecomputed({ location: path.join(dir, 'raw_gzip') });
    const box = { x: [3, 53], y: [5, 45], z: [2, 22] } as VolumeBox;
    assertSameVoxels(await volume.readBox(box), expectedBox(dump('raw_gzip'), box), 'raw_gzip');
  });

  it('hashes chunk ids as CloudVolume does (murmurhash3_x86_128, low 64 bits)', () => {
    const ids = [0n, 1n, 5n, 123456789n, (1n << 40n) + 3n, (1n << 63n) + 11n];
    const script =
      'import sys, numpy as np\n' +
      'from cloudvolume.datasource.precomputed.sharding import ShardingSpecification as S\n' +
      "s = S('neuroglancer_uint64_sharded_v1', 0, 'murmurhash3_x86_128', 0, 0)\n" +
      'print(" ".join(str(int(s.hashfn(np.uint64(int(k))))) for k in sys.argv[1:]))';
    const theirs = execFileSync(venvPython(), ['-c', script, ...ids.map(String)], { encoding: 'utf8' })
      .trim()
      .split(' ');
    assert.deepEqual(
      ids.map((id) => murmurHash64Low(id).toString()),
      theirs,
    );
  });

  it('fails a box that needs a missing chunk, naming the chunk file', async () => {
    const volume = await openPrecomputed({ location: pathToFileURL(path.join(dir, 'missing')).href });
    await assert.rejects(
      volume.readBox(whole('missing')),
      (err: Error) =>
        err.message.includes(path.join(dir, 'missing', '4_4_40', '16-32_0-16_8-16')) &&
        /is missing/.test(err.message),
    );
    // A box that does not touch the missing chunk reads.
    const box: VolumeBox = { x: [0, 16], y: [0, 32], z: [0, 16] };
    assertSameVoxels(await volume.readBox(box), expectedBox(dump('missing'), box), 'missing, present part');
  });

  it('reads a missing chunk as zeros with fill_missing, over HTTP too', async () => {
    for (const location of [path.join(dir, 'missing'), `${fixtures.http.url}/missing`]) {
      const volume = await openPrecomputed({ location, fillMissing: true });
      const data = await volume.readBox(whole('missing'));
      const expected = expectedBox(dump('missing'), whole('missing'));
      let zeros = 0;
      for (let z = 0; z < 16; z++)
        for (let y = 0; y < 32; y++)
          for (let x = 0; x < 32; x++) {
            const i = (z * 32 + y) * 32 + x;
            const inMissing = x >= 16 && y < 16 && z >= 8;
            if (inMissing) {
              assert.equal(data[i], 0, `${location}: voxel ${x},${y},${z} of the missing chunk`);
              zeros++;
            } else assert.equal(data[i], expected[i], `${location}: voxel ${x},${y},${z}`);
          }
      assert.equal(zeros, 16 * 16 * 8);
    }
  });

  it('refuses a mip the layer does not have, and a location without an info file', async () => {
    await assert.rejects(
      openPrecomputed({ location: path.join(dir, 'raw_plain'), mip: 1 }),
      /raw_plain: has mips 0\.\.0, not 1/,
    );
    await assert.rejects(
      openPrecomputed({ location: `${fixtures.http.url}/nothing` }),
      /nothing\/info does not exist/,
    );
  });
});
