/**
 * The original client's test plugins through the CLI, on a real Temporal dev server: its example
 * config (volumetric.md 7.10) writes the packaged test tile at every tile position, as Pillow
 * decodes it; the random scale-test tiles are the same at every read, so `verify` passes.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BossApi } from '../src/boss/api.js';
import { decodeChunk } from '../src/destinations/codec.js';
import { randomTileVoxel } from '../src/plugins/random-tile.js';
import { TEST_TILE_FILE } from '../src/plugins/test-tile.js';
import { startBossEmulator, type BossEmulator } from './boss-emulator/index.js';
import { writeConfig } from './harness/config.js';
import {
  assertVolume,
  cli,
  readWithZarrPython,
  runPython,
  tempDir,
  useDevServer,
  type ZarrRead,
  type TestServer,
} from './harness/env.js';

/** The original's example, byte for byte (its Boss backend is replaced by --output). */
const EXAMPLE = `{
  "schema": { "name": "boss-v0.2-schema", "validator": "BossValidatorV02" },
  "client": {
    "backend": { "name": "boss", "class": "BossBackend", "host": "api.theboss.io", "protocol": "https" },
    "path_processor": { "class": "ingestclient.plugins.path.TestPathProcessor", "params": {} },
    "tile_processor": { "class": "ingestclient.plugins.tile.TestTileProcessor", "params": {} }
  },
  "database": { "collection": "my_collection", "experiment": "my_experiment", "channel": "my_channel" },
  "ingest_job": {
    "ingest_type": "tile",
    "resolution": 0,
    "extent": { "x": [0, 512], "y": [0, 512], "z": [0, 1], "t": [0, 1] },
    "tile_size": { "x": 512, "y": 512, "z": 1, "t": 1 }
  }
}
`;

type Extent = { x: [number, number]; y: [number, number]; z: [number, number] };
type Example = {
  client: Record<string, { class: string; params: object }>;
  ingest_job: { extent: object; tile_size: { x: number; y: number; z: number; t: number } };
};

/** The example with its extent (and anything else) changed. */
function example(extent: Extent, change: (config: Example) => void = () => {}): Example {
  const config = JSON.parse(EXAMPLE) as Example;
  config.ingest_job.extent = { ...extent, t: [0, 1] };
  change(config);
  return config;
}

/** The example with the original's random tiles swapped in, as volumetric.md 7.10 says. */
function randomExample(extent: Extent): Example {
  return example(extent, (config) => {
    config.client.path_processor!.class = 'ingestclient.plugins.path.TestPassThroughPathProcessor';
    config.client.tile_processor!.class = 'ingestclient.plugins.tile.TestRandomTileProcessor';
  });
}

/** The packaged test tile's samples as Pillow decodes them. */
async function packagedTile(): Promise<{ width: number; height: number; samples: Buffer }> {
  const dir = tempDir('test-tile');
  try {
    const out = path.join(dir, 'samples.bin');
    const size = JSON.parse(await runPython('pillow_decode.py', [TEST_TILE_FILE, out])) as {
      width: number;
      height: number;
    };
    return { ...size, samples: readFileSync(out) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the original's test plugins (TestTileProcessor, TestRandomTileProcessor) through the CLI", function () {
  this.timeout(240_000);
  let server: TestServer;
  let dir: string;
  useDevServer('test-plugins', (s, d) => {
    server = s;
    dir = d;
  });
  const conn = () => ['--address', server.address];

  it("the original's example config: validate accepts it, run writes the packaged tile as Pillow decodes it", async () => {
    const config = path.join(dir, 'example.json');
    writeFileSync(config, EXAMPLE);
    const out = path.join(dir, 'example.ome.zarr');
    const checked = await cli(['validate', config, '--output', out], server.home);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /^1 tiles checked, datatype uint8, 0 problem\(s\)$/m);

    const res = await cli(['run', config, '--output', out, '-f', ...conn()], server.home);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /^job \S+ completed: 1\/1 chunks/m);
    const tile = await packagedTile();
    assert.deepEqual([tile.width, tile.height], [512, 512]);
    const read = await readWithZarrPython(out);
    assert.deepEqual([read.shape, read.dtype], [[1, 512, 512], 'uint8']);
    assertVolume(read, { x: [0, 512], y: [0, 512], z: [0, 1] }, (x, y) => tile.samples[y * 512 + x]!);
  });

  describe('into a Boss (the emulator)', () => {
    const TOKEN = 'tok-5c2e91d0-test-plugins';
    let boss: BossEmulator;
    before(async () => {
      boss = await startBossEmulator({ tokens: [{ token: TOKEN, canWrite: true, canCreate: true }] });
    });
    after(() => boss?.stop());

    it("the original's example config, its host the emulator's, lands the packaged tile", async () => {
      const host = boss.url.replace(/^http:\/\//, '');
      const resources = path.join(dir, 'example-resources.json');
      writeFileSync(
        resources,
        JSON.stringify({
          host,
          protocol: 'http',
          collection: { name: 'my_collection' },
          coord_frame: { name: 'test_frame', x_stop: 512, y_stop: 512, z_stop: 1 },
          experiment: { name: 'my_experiment' },
          channel: { name: 'my_channel', datatype: 'uint8' },
        }),
      );
      const prepped = await cli(['prep', resources, '-a', TOKEN], server.home);
      assert.equal(prepped.code, 0, prepped.stdout + prepped.stderr);
      const config = path.join(dir, 'example-boss.json');
      const original = '"host": "api.theboss.io", "protocol": "https"';
      assert.ok(EXAMPLE.includes(original));
      writeFileSync(config, EXAMPLE.replace(original, `"host": "${host}", "protocol": "http"`));

      const res = await cli(['run', config, '-a', TOKEN, '-f', ...conn()], server.home);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      const blosc = await new BossApi(boss.url, TOKEN).getCutout({
        collection: 'my_collection',
        experiment: 'my_experiment',
        channel: 'my_channel',
        resolution: 0,
        x: [0, 512],
        y: [0, 512],
        z: [0, 1],
      });
      const stored = await decodeChunk('blosc', blosc);
      const tile = await packagedTile();
      assert.equal(Buffer.compare(Buffer.from(stored), tile.samples), 0, 'the cutout is the packaged tile');
    });
  });

  it('over many tiles, each position holds the packaged tile (cut at the extent), and verify passes', async () => {
    const extent: Extent = { x: [0, 1100], y: [0, 700], z: [0, 3] };
    const config = writeConfig(dir, 'tiled', example(extent));
    const out = path.join(dir, 'tiled.ome.zarr');
    const res = await cli(['run', config, '--output', out, '-f', '--verify', ...conn()], server.home);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /verified: all 6 chunks as stored equal the source/);
    const tile = await packagedTile();
    assertVolume(await readWithZarrPython(out), extent, (x, y) => tile.samples[(y % 512) * 512 + (x % 512)]!);
  });

  it("a tile_size other than the packaged tile's is refused, naming ingest_job.tile_size", async () => {
    const config = writeConfig(
      dir,
      'small-tiles',
      example({ x: [0, 512], y: [0, 512], z: [0, 1] }, (c) => {
        c.ingest_job.tile_size = { x: 256, y: 256, z: 1, t: 1 };
      }),
    );
    const res = await cli(['validate', config, '--output', path.join(dir, 'none.ome.zarr')], server.home);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(
      res.stdout + res.stderr,
      /ingest_job\.tile_size: must be 512 x 512, the size of the packaged test tile .* not 256 x 256/,
    );
  });

  describe('random tiles (TestPassThroughPathProcessor + TestRandomTileProcessor)', () => {
    // 3 x 2 x 2 chunks of 512 x 512 x 16, the right, bottom and deep ones partial.
    const extent: Extent = { x: [0, 1100], y: [0, 700], z: [0, 18] };
    let config: string;
    let out: string;
    let read: ZarrRead;
    before(() => {
      config = writeConfig(dir, 'random', randomExample(extent));
      out = path.join(dir, 'random.ome.zarr');
    });
    const verify = () => cli(['verify', config, '--output', out, ...conn()], server.home);

    it('validate accepts the config; run --verify passes: a re-read gives the same tiles', async () => {
      const checked = await cli(['validate', config, '--output', out], server.home);
      assert.equal(checked.code, 0, checked.stdout + checked.stderr);
      assert.match(checked.stdout, /^108 tiles checked, datatype uint8, 0 problem\(s\)$/m);
      const res = await cli(['run', config, '--output', out, '-f', '--verify', ...conn()], server.home);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /^job \S+ completed: 12\/12 chunks/m);
      assert.match(res.stdout, /verified: all 12 chunks as stored equal the source/);
      read = await readWithZarrPython(out);
      assert.deepEqual([read.shape, read.dtype], [[18, 700, 1100], 'uint8']);
      assertVolume(read, extent, (x, y, z) => randomTileVoxel(x, y, z, 0));
    });

    it('the values are noise: 1 to 253, evenly spread, no tile repeating its neighbour', () => {
      const counts = new Array<number>(256).fill(0);
      for (const v of read.data) counts[v]!++;
      const mean = read.data.length / 253;
      assert.deepEqual([counts[0], counts[254], counts[255]], [0, 0, 0], 'no 0, 254 or 255');
      for (let v = 1; v <= 253; v++)
        assert.ok(
          Math.abs(counts[v]! - mean) < mean * 0.05,
          `${counts[v]} voxels of ${v}, ~${mean} expected`,
        );
      // A voxel equals the one a tile to the right, or a slice deeper, about once in 253.
      const at = (x: number, y: number, z: number) => read.data[(z * 700 + y) * 1100 + x]!;
      let sameRight = 0;
      let sameDeeper = 0;
      for (let y = 0; y < 512; y++)
        for (let x = 0; x < 512; x++) {
          if (at(x, y, 0) === at(x + 512, y, 0)) sameRight++;
          if (at(x, y, 0) === at(x, y, 1)) sameDeeper++;
        }
      const expected = (512 * 512) / 253;
      for (const same of [sameRight, sameDeeper]) assert.ok(same < expected * 1.5, `${same} equal voxels`);
    });

    it('verify finds a voxel changed by zarr-python (exit 1), and passes once it is set back', async () => {
      const at = { x: 900, y: 650, z: 17 };
      const source = randomTileVoxel(at.x, at.y, at.z, 0);
      const changed = source === 1 ? 2 : 1;
      const set = JSON.parse(
        await runPython('set_voxel.py', [out, String(at.z), String(at.y), String(at.x), String(changed)]),
      ) as { before: number };
      assert.equal(set.before, source);
      const res = await verify();
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.match(
        res.stdout,
        new RegExp(
          `first difference at \\(x ${at.x}, y ${at.y}, z ${at.z}, t 0\\): source ${source}, stored ${changed}`,
        ),
      );
      await runPython('set_voxel.py', [out, String(at.z), String(at.y), String(at.x), String(source)]);
      const again = await verify();
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.match(again.stdout, /verified: all 12 chunks as stored equal the source/);
    });
  });
});
