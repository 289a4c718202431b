/**
 * Volumetric jobs (v0.2 configs with a chunk processor) end to end on a real Temporal dev server,
 * through the CLI: Zarr and precomputed sources written by zarr-python and CloudVolume, from disk,
 * HTTP and S3, into our OME-Zarr, read back with zarr-python voxel for voxel.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  assertVolume,
  cli,
  readWithZarrPython,
  startTestServer,
  tempDir,
  type TestServer,
  type ZarrRead,
} from './harness/env.js';
import { serveFixtures, type ServedFixtures } from './harness/sources.js';
import { startBossEmulator, type BossEmulator } from './boss-emulator/index.js';
import { expectedBox } from './harness/voxels.js';
import { volumetricConfig } from './harness/config.js';
import type { VolumeBox, VolumeDatatype } from '../src/volumes/volume.js';

type Written = Record<string, { shape: number[]; dtype: VolumeDatatype; offset?: number[]; size?: number[] }>;
type Extent = { x: [number, number]; y: [number, number]; z: [number, number] };

/** Every voxel of the output: inside the extent equal to the source's (a box cut from its dump), outside it zero. */
function assertOutput(
  read: ZarrRead,
  extent: Extent,
  expected: ArrayLike<number | bigint>,
  dtype: VolumeDatatype,
): void {
  assert.equal(read.dtype, dtype);
  const ex = extent.x[1] - extent.x[0];
  const ey = extent.y[1] - extent.y[0];
  assertVolume(read, extent, (x, y, z) =>
    Number(expected[((z - extent.z[0]) * ey + (y - extent.y[0])) * ex + (x - extent.x[0])]),
  );
}

/** A Boss (emulated) holding one uint16 channel of 600 x 100 x 20 voxels, value(x, y, z), readable with `token`. */
async function seededSourceBoss(
  token: string,
  [collection, experiment, channel]: [string, string, string],
  value: (x: number, y: number, z: number) => number,
): Promise<BossEmulator> {
  const boss = await startBossEmulator({ tokens: [{ token, canRead: true }] });
  boss.createCoordFrame('cf', { x_start: 0, x_stop: 600, y_start: 0, y_stop: 100, z_start: 0, z_stop: 20 });
  boss.createCollection(collection);
  boss.createExperiment(collection, experiment, { coord_frame: 'cf' });
  boss.createChannel(collection, experiment, channel, { datatype: 'uint16' });
  const seeded = new Uint16Array(600 * 100 * 20);
  let i = 0;
  for (let z = 0; z < 20; z++)
    for (let y = 0; y < 100; y++) for (let x = 0; x < 600; x++) seeded[i++] = value(x, y, z);
  boss.writeCutout(collection, experiment, channel, 0, [0, 600], [0, 100], [0, 20], seeded);
  return boss;
}

describe('volumetric jobs through the CLI', function () {
  this.timeout(300_000);
  let server: TestServer;
  let dir: string;
  let zarrs: ServedFixtures<Written>;
  let layers: ServedFixtures<Written>;

  before(async () => {
    server = await startTestServer();
    dir = tempDir('volumetric-e2e');
    zarrs = await serveFixtures<Written>('zarr_sources.py', 'volumes');
    layers = await serveFixtures<Written>('precomputed_sources.py', 'layers', zarrs.s3);
  });
  after(async () => {
    await layers?.stop();
    await zarrs?.stop();
    await server?.stop();
  });

  async function runJob(
    name: string,
    config: object,
  ): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    // The S3 fixtures' environment (endpoint, test keys) reaches the CLI's workers too.
    return cli(['run', file, '--address', server.address], server.home, { env: { ...process.env } });
  }

  const zarrCase = (written: Written, raw: string, extent: Extent) =>
    expectedBox(
      { file: path.join(zarrs.dir, `${raw}.raw`), dtype: written[raw].dtype, shape: written[raw].shape },
      extent as VolumeBox,
    );

  it('a Zarr v2 array written by zarr-python, named in its group, lands voxel for voxel', async () => {
    const extent: Extent = { x: [3, 35], y: [2, 33], z: [1, 10] };
    const out = path.join(dir, 'group.ome.zarr');
    const res = await runJob(
      'zarr-v2',
      volumetricConfig(
        {
          class: 'ingestclient.plugins.zarr.ZarrChunkProcessor',
          params: { cloud_path: path.join(zarrs.dir, 'group.zarr'), volume_name: 'raw' },
        },
        extent,
        out,
        'ingestclient.plugins.zarr.ZarrPathProcessor',
      ),
    );
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /completed: 18\/18 chunks/);
    const read = await readWithZarrPython(out);
    assert.deepEqual(read.shape, [10, 33, 35]);
    assert.equal(read.dtype, 'uint8');
    assertOutput(read, extent, zarrCase(zarrs.written, 'group_raw', extent), 'uint8');
  });

  it('an OME-Zarr v3 group (sharded) over HTTP and uint64 labels from S3 land voxel for voxel', async () => {
    const extent: Extent = { x: [0, 36], y: [5, 40], z: [0, 24] };
    const out = path.join(dir, 'ome.ome.zarr');
    const res = await runJob(
      'ome-http',
      volumetricConfig(
        {
          class: 'ingestclient.plugins.zarr.ZarrChunkProcessor',
          params: { cloud_path: `${zarrs.http.url}/ome.zarr` },
        },
        extent,
        out,
        'ingestclient.plugins.zarr.ZarrPathProcessor',
      ),
    );
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assertOutput(await readWithZarrPython(out), extent, zarrCase(zarrs.written, 'ome0', extent), 'uint8');

    const labelsExtent: Extent = { x: [0, 24], y: [0, 20], z: [0, 8] };
    const labelsOut = path.join(dir, 'labels.ome.zarr');
    const labels = await runJob(
      'labels-s3',
      volumetricConfig(
        {
          class: 'ingestclient.plugins.zarr.ZarrChunkProcessor',
          params: { cloud_path: `${zarrs.s3Root}/labels.zarr` },
        },
        labelsExtent,
        labelsOut,
        'ingestclient.plugins.zarr.ZarrPathProcessor',
      ),
    );
    assert.equal(labels.code, 0, `${labels.stdout}\n${labels.stderr}`);
    const read = await readWithZarrPython(labelsOut);
    assert.equal(read.dtype, 'uint64');
    assertOutput(read, labelsExtent, zarrCase(zarrs.written, 'labels', labelsExtent), 'uint64');
  });

  const layerCase = (layer: string, extent: Extent) => {
    const { offset, size, dtype } = layers.written[layer] as {
      offset: number[];
      size: number[];
      dtype: VolumeDatatype;
    };
    return expectedBox(
      {
        file: path.join(layers.dir, `${layer}.raw`),
        dtype,
        shape: [size[2], size[1], size[0]],
        offset: { x: offset[0], y: offset[1], z: offset[2] },
      },
      extent as VolumeBox,
    );
  };
  const cloudvolume = (cloudpath: string, extra: object = {}) => ({
    class: 'ingestclient.plugins.cloudvolume.CloudVolumeChunkProcessor',
    params: { cloudpath, mip: 0, ...extra },
  });
  const CV_PATH = 'ingestclient.plugins.cloudvolume.CloudVolumePathProcessor';

  it('precomputed layers written by CloudVolume, from disk (raw gzip) and over HTTP (jpeg, compressed_segmentation)', async () => {
    const cases: { layer: string; location: string; extent: Extent; dtype: VolumeDatatype }[] = [
      {
        layer: 'raw_gzip',
        location: `file://${layers.dir}/raw_gzip`,
        extent: { x: [3, 53], y: [5, 45], z: [2, 22] },
        dtype: 'uint16',
      },
      {
        layer: 'jpeg',
        location: `${layers.http.url}/jpeg`,
        extent: { x: [0, 64], y: [0, 48], z: [0, 16] },
        dtype: 'uint8',
      },
      {
        layer: 'cseg64',
        location: `${layers.http.url}/cseg64`,
        extent: { x: [0, 40], y: [0, 36], z: [0, 20] },
        dtype: 'uint64',
      },
    ];
    for (const c of cases) {
      const out = path.join(dir, `${c.layer}.ome.zarr`);
      const res = await runJob(c.layer, volumetricConfig(cloudvolume(c.location), c.extent, out, CV_PATH));
      assert.equal(res.code, 0, `${c.layer}: ${res.stdout}\n${res.stderr}`);
      const read = await readWithZarrPython(out);
      assert.equal(read.dtype, c.dtype);
      assertOutput(read, c.extent, layerCase(c.layer, c.extent), c.dtype);
    }
  });

  it('a missing precomputed chunk fails only the chunks that need it, naming the file; fill_missing reads zeros', async () => {
    const extent: Extent = { x: [0, 32], y: [0, 32], z: [0, 16] };
    const out = path.join(dir, 'missing.ome.zarr');
    const res = await runJob(
      'missing',
      volumetricConfig(cloudvolume(path.join(layers.dir, 'missing')), extent, out, CV_PATH),
    );
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout + res.stderr, /16-32_0-16_8-16 is missing/);
    const filled = await runJob(
      'filled',
      volumetricConfig(
        cloudvolume(path.join(layers.dir, 'missing'), { fill_missing: true }),
        extent,
        path.join(dir, 'filled.ome.zarr'),
        CV_PATH,
      ),
    );
    assert.equal(filled.code, 0, `${filled.stdout}\n${filled.stderr}`);
  });

  it('refuses, before any job, a chunk_size off the cuboid grid, a missing chunk processor and a token in the config', async () => {
    const base = volumetricConfig(
      cloudvolume('/nowhere'),
      { x: [0, 1], y: [0, 1], z: [0, 1] },
      path.join(dir, 'x.ome.zarr'),
      CV_PATH,
    ) as {
      client: Record<string, unknown>;
      ingest_job: Record<string, unknown>;
    };
    const bad1 = { ...base, ingest_job: { ...base.ingest_job, chunk_size: { x: 500, y: 512, z: 10 } } };
    let res = await runJob('bad1', bad1);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /ingest_job\.chunk_size\.x: must be a multiple of 512, not 500/);
    assert.match(res.stderr, /ingest_job\.chunk_size\.z: must be a multiple of 16, not 10/);
    const { chunk_processor: _omit, ...client } = base.client;
    res = await runJob('bad2', { ...base, client });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /client\.chunk_processor: is required/);
    const intern = {
      class: 'ingestclient.plugins.intern.InternChunkProcessor',
      params: { uri: 'bossdb://a/b/c', token: 'secret-abc' },
    };
    res = await runJob('bad3', { ...base, client: { ...base.client, chunk_processor: intern } });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /client\.chunk_processor\.params\.token: is refused/);
    assert.ok(!res.stderr.includes('secret-abc'));
  });

  it('validate opens the source, checks the extent against it and reads its corners, writing nothing', async () => {
    const location = path.join(layers.dir, 'raw_plain');
    const good = path.join(dir, 'validate-good.json');
    writeFileSync(
      good,
      JSON.stringify(
        volumetricConfig(
          cloudvolume(location),
          { x: [0, 40], y: [0, 30], z: [0, 12] },
          path.join(dir, 'v.ome.zarr'),
          CV_PATH,
        ),
      ),
    );
    let res = await cli(['validate', good], server.home);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /datatype uint8, 0 problem\(s\)/);
    const bad = path.join(dir, 'validate-bad.json');
    writeFileSync(
      bad,
      JSON.stringify(
        volumetricConfig(
          cloudvolume(location),
          { x: [0, 100], y: [0, 30], z: [0, 12] },
          path.join(dir, 'v.ome.zarr'),
          CV_PATH,
        ),
      ),
    );
    res = await cli(['validate', bad], server.home);
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /raw_plain: ingest_job\.extent\.x 0:100 is not inside the source's x 0:40/);
    assert.equal(existsSync(path.join(dir, 'v.ome.zarr')), false);
  });

  it('a volume read from another Boss (the emulator) lands voxel for voxel; its token stays in the environment', async () => {
    const token = 'source-token-7c1d';
    const value = (x: number, y: number, z: number) => (x * 31 + y * 17 + z * 1009) % 65536;
    const boss = await seededSourceBoss(token, ['src', 'exp', 'em'], value);
    try {
      const extent: Extent = { x: [500, 600], y: [10, 90], z: [3, 19] };
      const out = path.join(dir, 'boss.ome.zarr');
      const file = path.join(dir, 'boss.json');
      const intern = {
        class: 'ingestclient.plugins.intern.InternChunkProcessor',
        params: { uri: 'bossdb://src/exp/em', host: new URL(boss.url).host, protocol: 'http' },
      };
      writeFileSync(
        file,
        JSON.stringify(
          volumetricConfig(intern, extent, out, 'ingestclient.plugins.intern.InternPathProcessor'),
        ),
      );
      const res = await cli(['run', file, '--address', server.address], server.home, {
        env: { ...process.env, BOSS_SOURCE_TOKEN: token },
      });
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      assert.ok(!(res.stdout + res.stderr).includes(token));
      const read = await readWithZarrPython(out);
      assert.equal(read.dtype, 'uint16');
      assertVolume(read, extent, value);
      assert.ok(boss.stats.gets > 0);
    } finally {
      await boss.stop();
    }
  });
  it('tiles copied from another Boss (the intern tile processor, 7.4) land shifted by the offsets, zero beyond the source', async () => {
    const token = 'source-token-41aa';
    const value = (x: number, y: number, z: number) => (x * 7 + y * 131 + z * 2003 + 1) % 65536;
    const boss = await seededSourceBoss(
      token,
      ['source_collection', 'source_experiment', 'source_channel'],
      value,
    );
    try {
      const offset = { x: 100, y: -5, z: -2 };
      const extent: Extent = { x: [0, 520], y: [0, 100], z: [0, 20] };
      const out = path.join(dir, 'intern-tile.ome.zarr');
      const file = path.join(dir, 'intern-tile.json');
      writeFileSync(
        file,
        JSON.stringify({
          schema: { name: 'boss-v0.2-schema', validator: 'BossValidatorV02' },
          client: {
            backend: { name: 'boss', class: 'BossBackend', host: 'api.bossdb.io', protocol: 'https' },
            path_processor: { class: 'ingestclient.plugins.intern.InternPathProcessor', params: {} },
            tile_processor: {
              class: 'ingestclient.plugins.intern.InternTileProcessor',
              params: {
                collection: 'source_collection',
                experiment: 'source_experiment',
                channel: 'source_channel',
                resolution: 0,
                x_offset: offset.x,
                y_offset: offset.y,
                z_offset: offset.z,
                x_tile: 256,
                y_tile: 256,
                host: new URL(boss.url).host,
                protocol: 'http',
              },
            },
          },
          database: { collection: 'dest_collection', experiment: 'dest_experiment', channel: 'dest_channel' },
          ingest_job: {
            ingest_type: 'tile',
            resolution: 0,
            extent: { ...extent, t: [0, 1] },
            tile_size: { x: 256, y: 256, z: 1, t: 1 },
          },
        }),
      );
      const res = await cli(['run', file, '--output', out, '--address', server.address], server.home, {
        env: { ...process.env, BOSS_SOURCE_TOKEN: token },
      });
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      assert.ok(!(res.stdout + res.stderr).includes(token));
      const read = await readWithZarrPython(out);
      assert.equal(read.dtype, 'uint16');
      assertVolume(read, extent, (x, y, z) => {
        const [sx, sy, sz] = [x + offset.x, y + offset.y, z + offset.z];
        return sx < 600 && sy >= 0 && sz >= 0 ? value(sx, sy, sz) : 0;
      });

      // A token in the tile processor's params (where the original's chunk processor took one) is refused.
      const config = JSON.parse(readFileSync(file, 'utf8')) as {
        client: { tile_processor: { params: object } };
      };
      config.client.tile_processor.params = {
        ...config.client.tile_processor.params,
        token: 'secret-in-config',
      };
      writeFileSync(file, JSON.stringify(config));
      const refused = await cli(['run', file, '--output', out, '--address', server.address], server.home);
      assert.equal(refused.code, 2, `${refused.stdout}\n${refused.stderr}`);
      assert.match(refused.stderr, /client\.tile_processor\.params\.token: is refused/);
      assert.ok(!(refused.stdout + refused.stderr).includes('secret-in-config'));
    } finally {
      await boss.stop();
    }
  });

  it('Zarr sources into a Boss (emulated): an OME-Zarr v3 group by zarr-python, our own OME-Zarr output, uint32 labels into an annotation channel', async () => {
    const token = 'dest-token-90be';
    const boss = await startBossEmulator({ tokens: [{ token, canWrite: true, canCreate: true }] });
    try {
      boss.createCoordFrame('frame', {
        x_start: 0,
        x_stop: 64,
        y_start: 0,
        y_stop: 64,
        z_start: 0,
        z_stop: 32,
      });
      boss.createCollection('lab');
      boss.createExperiment('lab', 'exp', { coord_frame: 'frame' });
      boss.createChannel('lab', 'exp', 'ome', { datatype: 'uint8' });
      boss.createChannel('lab', 'exp', 'own', { datatype: 'uint8' });
      boss.createChannel('lab', 'exp', 'labels', { datatype: 'uint64', type: 'annotation' });
      const intoBoss = (cloudPath: string, extent: Extent, channel: string) => {
        const config = volumetricConfig(
          { class: 'ingestclient.plugins.zarr.ZarrChunkProcessor', params: { cloud_path: cloudPath } },
          extent,
          '',
          'ingestclient.plugins.zarr.ZarrPathProcessor',
        ) as { client: Record<string, unknown>; database: object };
        config.client.backend = {
          name: 'boss',
          class: 'BossBackend',
          host: new URL(boss.url).host,
          protocol: 'http',
        };
        config.database = { collection: 'lab', experiment: 'exp', channel };
        return config;
      };
      const run = async (name: string, config: object) => {
        const file = path.join(dir, `${name}.json`);
        writeFileSync(file, JSON.stringify(config));
        const res = await cli(['run', file, '-a', token, '--address', server.address], server.home);
        assert.equal(res.code, 0, `${name}: ${res.stdout}\n${res.stderr}`);
      };
      const assertStored = (channel: string, extent: Extent, expected: ArrayLike<number | bigint>) => {
        const stored = boss.readCutout('lab', 'exp', channel, 0, extent.x, extent.y, extent.z);
        assert.equal(stored.length, expected.length, channel);
        for (let v = 0; v < expected.length; v++)
          if (BigInt(stored[v]!) !== BigInt(expected[v]!))
            assert.fail(`${channel}: voxel ${v} is ${stored[v]}, expected ${expected[v]}`);
      };

      const omeExtent: Extent = { x: [0, 36], y: [0, 40], z: [0, 24] };
      await run('ome-boss', intoBoss(path.join(zarrs.dir, 'ome.zarr'), omeExtent, 'ome'));
      assertStored('ome', omeExtent, zarrCase(zarrs.written, 'ome0', omeExtent));

      // Our own OME-Zarr, written by a job from zarr-python's v2 array, then read into the Boss.
      const ownExtent: Extent = { x: [3, 35], y: [2, 33], z: [1, 10] };
      const own = path.join(dir, 'own.ome.zarr');
      const written = await runJob(
        'own',
        volumetricConfig(
          {
            class: 'ingestclient.plugins.zarr.ZarrChunkProcessor',
            params: { cloud_path: path.join(zarrs.dir, 'group.zarr'), volume_name: 'raw' },
          },
          ownExtent,
          own,
          'ingestclient.plugins.zarr.ZarrPathProcessor',
        ),
      );
      assert.equal(written.code, 0, `${written.stdout}\n${written.stderr}`);
      await run('own-boss', intoBoss(own, ownExtent, 'own'));
      assertStored('own', ownExtent, zarrCase(zarrs.written, 'group_raw', ownExtent));

      const labelsExtent: Extent = { x: [0, 10], y: [0, 10], z: [0, 4] };
      await run('labels-boss', intoBoss(path.join(zarrs.dir, 'labels32.zarr'), labelsExtent, 'labels'));
      assertStored('labels', labelsExtent, zarrCase(zarrs.written, 'labels32', labelsExtent));
    } finally {
      await boss.stop();
    }
  });
});
