/**
 * The original's HDF5 tile plugins end to end on a real Temporal dev server, through the CLI: each
 * plugin's example config (reference/volumetric.md §7.5-7.9) pointed at HDF5 files written by
 * h5py, run with `--output`, read back with zarr-python and compared with numpy's reading of the
 * same conventions in every voxel; uint32 labels also into a Boss annotation channel (emulated).
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBossEmulator, type BossEmulator } from './boss-emulator/index.js';
import { cli, readWithZarrPython, startTestServer, tempDir, type TestServer } from './harness/env.js';
import { hdf5FixtureParams } from './fixtures/hdf5-params.js';
import { serveFixtures, type ServedFixtures } from './harness/sources.js';

type Written = Record<string, { shape: number[]; dtype: string }>;
type Range = [number, number];

const HDF5 = 'ingestclient.plugins.hdf5';
const BOSS_TOKEN = 'tok-hdf5-e2e-5d2c';

/** An example config of volumetric.md §7 with its path and tile processor, extent and tile size. */
function exampleConfig(
  pathProcessor: [string, object],
  tileProcessor: [string, object],
  extent: { x: Range; y: Range; z: Range; t?: Range },
  tile: number,
): Record<string, unknown> {
  return {
    schema: { name: 'boss-v0.2-schema', validator: 'BossValidatorV02' },
    client: {
      backend: { name: 'boss', class: 'BossBackend', host: 'api.bossdb.io', protocol: 'https' },
      path_processor: { class: `${HDF5}.${pathProcessor[0]}`, params: pathProcessor[1] },
      tile_processor: { class: `${HDF5}.${tileProcessor[0]}`, params: tileProcessor[1] },
    },
    database: { collection: 'my_collection', experiment: 'em_exp', channel: 'em' },
    ingest_job: {
      ingest_type: 'tile',
      resolution: 0,
      extent: { t: [0, 1], ...extent },
      tile_size: { x: tile, y: tile, z: 1, t: 1 },
    },
  };
}

describe('HDF5 tile plugins through the CLI (files written by h5py)', function () {
  this.timeout(300_000);
  let server: TestServer;
  let fixtures: ServedFixtures<Written>;
  let dir: string;
  let src: string;

  before(async () => {
    server = await startTestServer();
    fixtures = await serveFixtures<Written>('hdf5_sources.py', 'hdf5');
    src = fixtures.dir;
    dir = tempDir('hdf5-e2e');
  });
  after(async () => {
    await fixtures?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the config into DIR/NAME.ome.zarr; the S3 fixtures' environment reaches the workers. */
  async function run(name: string, config: object, args: string[] = []) {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config, null, 2));
    const out = path.join(dir, `${name}.ome.zarr`);
    const res = await cli(['run', file, ...args, '--address', server.address], server.home, {
      env: { ...process.env },
    });
    return { ...res, out, all: `${res.stdout}\n${res.stderr}` };
  }

  /** The output equals the whole expected dump (the extents cover it from 0), voxel for voxel. */
  async function assertOutputIs(out: string, raw: string, dtype: string): Promise<void> {
    const read = await readWithZarrPython(out);
    const want = fixtures.written[raw];
    assert.equal(read.dtype, dtype);
    assert.deepEqual(read.shape, want.shape);
    const expected = readFileSync(path.join(src, `${raw}.raw`));
    if (want.dtype === dtype) {
      assert.ok(read.data.equals(expected), `${raw}: voxels differ from the source`);
      return;
    }
    // uint32 labels, stored as uint64.
    assert.equal(want.dtype, 'uint32');
    const labels = new Uint32Array(expected.buffer, expected.byteOffset, expected.length / 4);
    assert.equal(read.data.length, labels.length * 8);
    for (let i = 0; i < labels.length; i++)
      if (read.data.readBigUInt64LE(8 * i) !== BigInt(labels[i]!))
        assert.fail(`${raw}: voxel ${i} is ${read.data.readBigUInt64LE(8 * i)}, expected ${labels[i]}`);
  }

  const series = (base: string, t: Range) => {
    const p = hdf5FixtureParams(src).series;
    return exampleConfig(
      ['Hdf5TimeSeriesPathProcessor', { ...p.path, base_filename: base }],
      ['Hdf5TimeSeriesTileProcessor', p.tile],
      { x: [0, 40], y: [0, 30], z: [0, 3], t },
      512,
    );
  };

  it('time series (7.5): every time point of (t, x, y, channel) files, scaled, lands as (t, z, y, x)', async () => {
    const res = await run('series', series('plane_<p:2>', [0, 4]), [
      '--output',
      path.join(dir, 'series.ome.zarr'),
    ]);
    assert.equal(res.code, 0, res.all);
    await assertOutputIs(res.out, 'series_all', 'uint16');
  });

  const labels = (tempDirectory: string) => {
    const p = hdf5FixtureParams(src).rois;
    return exampleConfig(
      ['Hdf5TimeSeriesPathProcessor', { ...p.path, root_dir: 'hdf5/rois' }],
      [
        'Hdf5TimeSeriesLabelTileProcessor',
        { ...p.tile, filesystem: 's3', bucket: 'lab-data', temp_dir: tempDirectory },
      ],
      { x: [0, 40], y: [0, 30], z: [0, 2] },
      16,
    );
  };

  it('time-series labels (7.6) from S3: all 32 bits as uint64, and no download left on disk', async () => {
    const downloads = path.join(dir, 'downloads');
    mkdirSync(downloads);
    const res = await run('rois', labels(downloads), ['--output', path.join(dir, 'rois.ome.zarr')]);
    assert.equal(res.code, 0, res.all);
    await assertOutputIs(res.out, 'rois', 'uint64');
    assert.deepEqual(readdirSync(downloads), []);
  });

  it('slices (7.7): each file placed at its offset plus the origin', async () => {
    const p = hdf5FixtureParams(src).slices;
    const config = exampleConfig(
      ['Hdf5SlicePathProcessor', p.path],
      ['Hdf5SliceTileProcessor', p.tile],
      { x: [0, 80], y: [0, 70], z: [0, 3] },
      32,
    );
    const res = await run('slices', config, ['--output', path.join(dir, 'slices.ome.zarr')]);
    assert.equal(res.code, 0, res.all);
    await assertOutputIs(res.out, 'slices', 'uint8');
  });

  const chunkFiles = (fillMissing: boolean) => {
    const p = hdf5FixtureParams(src).chunks;
    return exampleConfig(
      ['Hdf5ChunkPathProcessor', p.path],
      ['Hdf5ChunkTileProcessor', { ...p.tile, fill_missing: fillMissing }],
      { x: [0, 64], y: [0, 64], z: [0, 16] },
      32,
    );
  };

  it('chunk files (7.8): every block found by name, past the first z chunk; a missing one read as zeros with fill_missing', async () => {
    const res = await run('chunks', chunkFiles(true), ['--output', path.join(dir, 'chunks.ome.zarr')]);
    assert.equal(res.code, 0, res.all);
    await assertOutputIs(res.out, 'chunks', 'uint8');
  });

  it('single file (7.9): one (z, y, x) dataset, shifted by the offsets, zero beyond it', async () => {
    const p = hdf5FixtureParams(src).single;
    const config = exampleConfig(
      ['Hdf5SingleFilePathProcessor', p.path],
      ['Hdf5SingleFileTileProcessor', p.tile],
      { x: [0, 60], y: [0, 50], z: [0, 10] },
      512,
    );
    const res = await run('single', config, ['--output', path.join(dir, 'single.ome.zarr')]);
    assert.equal(res.code, 0, res.all);
    await assertOutputIs(res.out, 'single', 'uint16');
  });

  it('a wrong dataset name, a wrong file name and a missing chunk file fail the job, naming the file (and dataset)', async () => {
    const wrongDataset = series('plane_<p:2>', [0, 1]) as { client: { tile_processor: { params: object } } };
    wrongDataset.client.tile_processor.params = {
      ...wrongDataset.client.tile_processor.params,
      dataset: 'algned',
    };
    let res = await run('wrong-dataset', wrongDataset, [
      '--output',
      path.join(dir, 'wrong-dataset.ome.zarr'),
    ]);
    assert.notEqual(res.code, 0, res.all);
    assert.ok(
      res.all.includes(`${path.join(src, 'series', 'plane_00.h5')}: has no dataset "algned"`),
      res.all,
    );

    res = await run('wrong-file', series('planes_<p:2>', [0, 1]), [
      '--output',
      path.join(dir, 'wrong-file.ome.zarr'),
    ]);
    assert.notEqual(res.code, 0, res.all);
    assert.ok(res.all.includes(`${path.join(src, 'series', 'planes_00.h5')}: file not found`), res.all);

    res = await run('chunk-missing', chunkFiles(false), [
      '--output',
      path.join(dir, 'chunk-missing.ome.zarr'),
    ]);
    assert.notEqual(res.code, 0, res.all);
    assert.ok(
      res.all.includes(`${path.join(src, 'chunks', 'block_132-163_200-231_16-23.h5')}: file not found`),
      res.all,
    );
  });

  describe('into a Boss annotation channel (emulated)', () => {
    let boss: BossEmulator;
    before(async () => {
      boss = await startBossEmulator({ tokens: [{ token: BOSS_TOKEN, canWrite: true, canCreate: true }] });
      boss.createCoordFrame('rois_frame', {
        x_start: 0,
        x_stop: 64,
        y_start: 0,
        y_stop: 64,
        z_start: 0,
        z_stop: 16,
      });
      boss.createCollection('lab');
      boss.createExperiment('lab', 'calcium', { coord_frame: 'rois_frame' });
      boss.createChannel('lab', 'calcium', 'rois', { datatype: 'uint64', type: 'annotation' });
      boss.createChannel('lab', 'calcium', 'em', { datatype: 'uint16', type: 'image' });
    });
    after(() => boss?.stop());

    const toBoss = (config: Record<string, unknown>, channel: string) => ({
      ...config,
      client: {
        ...(config.client as object),
        backend: { name: 'boss', class: 'BossBackend', host: new URL(boss.url).host, protocol: 'http' },
      },
      database: { collection: 'lab', experiment: 'calcium', channel },
    });

    it('uint32 labels land as uint64 in an annotation channel; into a uint16 channel they are refused before any write', async () => {
      const downloads = path.join(dir, 'downloads-boss');
      mkdirSync(downloads);
      let res = await run('rois-boss', toBoss(labels(downloads), 'rois'), ['-a', BOSS_TOKEN]);
      assert.equal(res.code, 0, res.all);
      const stored = boss.readCutout('lab', 'calcium', 'rois', 0, [0, 40], [0, 30], [0, 2]);
      const raw = readFileSync(path.join(src, 'rois.raw'));
      const expected = new Uint32Array(raw.buffer, raw.byteOffset, raw.length / 4);
      assert.equal(stored.length, expected.length);
      for (let i = 0; i < expected.length; i++)
        if (BigInt(stored[i]!) !== BigInt(expected[i]!))
          assert.fail(`voxel ${i} is ${stored[i]}, expected ${expected[i]}`);

      boss.resetStats();
      res = await run('rois-boss-16', toBoss(labels(downloads), 'em'), ['-a', BOSS_TOKEN]);
      assert.notEqual(res.code, 0, res.all);
      assert.match(
        res.all,
        /the source is uint32 but channel lab\/calcium\/em is uint16: it would lose precision/,
      );
      assert.equal(boss.stats.posts, 0);
    });
  });
});
