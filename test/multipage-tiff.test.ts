// Unit tests of the multipage TIFF sources (src/plugins/multipage-tiff.ts, src/tiles/tiff-pages.ts)
// on series written by our own TIFF writer (test/fixtures/tiff.ts) and by libvips through sharp.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fromFile } from 'geotiff';
import sharp from 'sharp';
import { ingestRow } from '../src/chunks/row.js';
import type { JobConfig } from '../src/config/types.js';
import { validateConfig } from '../src/config/validate.js';
import type { Grid } from '../src/extent/grid.js';
import { createSource } from '../src/plugins/index.js';
import {
  hyperStackPage,
  SingleTimeTiffPathProcessor,
  TiffMultiFileHyperStackPathProcessor,
  type HyperStackLayout,
} from '../src/plugins/multipage-tiff.js';
import { PluginParamError, type PluginParams, type Source } from '../src/plugins/types.js';
import { tiffStats } from '../src/tiles/tiff-pages.js';
import { TileError, type Tile } from '../src/tiles/tile.js';
import { TileOutsideExtentError } from '../src/errors.js';
import { encodePng } from './fixtures/png.js';
import { seriesPage, seriesVoxel, writeMultipageTiff, type TiffSpec } from './fixtures/tiff.js';

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'boss-ingest-mptiff-'));
}

interface Job {
  x: [number, number];
  y: [number, number];
  z: [number, number];
  t: [number, number];
  tile: { x: number; y: number };
}

function jobConfig(
  job: Job,
  pathProcessor: { class: string; params: Record<string, unknown> },
  tileProcessor: { class: string; params: Record<string, unknown> },
): JobConfig {
  return validateConfig({
    schema: { name: 'boss-v0.1-schema', validator: 'BossValidatorV01' },
    client: {
      backend: { name: 'boss', class: 'BossBackend', host: 'api.bossdb.io', protocol: 'https' },
      path_processor: pathProcessor,
      tile_processor: tileProcessor,
    },
    database: { collection: 'c', experiment: 'e', channel: 'ch' },
    ingest_job: {
      resolution: 0,
      extent: { x: job.x, y: job.y, z: job.z, t: job.t },
      tile_size: { x: job.tile.x, y: job.tile.y, z: 1, t: 1 },
    },
  });
}

/** A time series config in the original format: one file per z slice. */
function seriesConfig(files: string[], job: Job, tileParams: Record<string, unknown> = {}): JobConfig {
  const params: Record<string, unknown> = {};
  files.forEach((f, z) => (params[`z_${z}`] = f));
  return jobConfig(
    job,
    { class: 'ingest.plugins.multipage_tiff.SingleTimeTiffPathProcessor', params },
    {
      class: 'ingest.plugins.multipage_tiff.SingleTimeTiffTileProcessor',
      params: { datatype: 'uint16', filetype: 'tif', ...tileParams },
    },
  );
}

function paramsOf(job: Job, params: Record<string, unknown>): PluginParams {
  return { ...params, ingest_job: { resolution: 0, extent: job, tile_size: { ...job.tile, z: 1, t: 1 } } };
}

/** Asserts that tile (xi, yi) equals `expected` over the part of the tile inside the extent. */
function assertTile(
  tile: Tile,
  job: Job,
  xi: number,
  yi: number,
  expected: (x: number, y: number) => number,
) {
  const x0 = xi * job.tile.x;
  const y0 = yi * job.tile.y;
  const w = Math.min(job.tile.x, job.x[1] - x0);
  const h = Math.min(job.tile.y, job.y[1] - y0);
  assert.ok(tile.width >= w && tile.height >= h, `tile (${xi}, ${yi}) is ${tile.width}x${tile.height}`);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const got = tile.data[y * tile.width + x];
      const want = expected(x0 + x, y0 + y);
      if (got !== want)
        assert.fail(`tile (${xi}, ${yi}) at (${x0 + x}, ${y0 + y}): got ${got}, expected ${want}`);
    }
  }
}

async function readTile(source: Source, xi: number, yi: number, z: number, t: number): Promise<Tile> {
  return source.tile.process(source.path.process(xi, yi, z, t), xi, yi, z, t);
}

describe('test fixture: multipage TIFF writer', () => {
  const root = tempRoot();
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  for (const spec of [
    { width: 37, height: 21, bits: 8, pages: 5 },
    { width: 37, height: 21, bits: 16, pages: 5, rowsPerStrip: 4 },
    { width: 20, height: 9, bits: 16, pages: 4, bigEndian: true, rowsPerStrip: 2 },
  ] as TiffSpec[]) {
    it(`sharp and geotiff read back every page as written (${spec.bits}-bit, ${spec.bigEndian ? 'big' : 'little'}-endian, ${spec.rowsPerStrip ?? spec.height} rows a strip)`, async () => {
      const file = path.join(root, `w${spec.bits}${spec.bigEndian ? 'be' : 'le'}.tif`);
      writeMultipageTiff(file, spec, (t) => seriesPage(spec.bits, spec.width, spec.height, 0, t));
      const tiff = await fromFile(file);
      try {
        const meta = await sharp(file).metadata();
        assert.equal(meta.pages, spec.pages);
        for (let t = 0; t < spec.pages; t++) {
          const expected = Array.from(seriesPage(spec.bits, spec.width, spec.height, 0, t));
          const img = sharp(file, { page: t });
          const { data } = await (
            spec.bits === 16
              ? img.toColourspace('grey16').raw({ depth: 'ushort' })
              : img.extractChannel(0).raw()
          ).toBuffer({ resolveWithObject: true });
          const fromSharp =
            spec.bits === 16
              ? Array.from({ length: data.length / 2 }, (_, i) => data.readUInt16LE(2 * i))
              : Array.from(data);
          assert.deepEqual(fromSharp, expected, `sharp, page ${t}`);
          const raster = await (await tiff.getImage(t)).readRasters({ interleave: true });
          assert.deepEqual(Array.from(raster as Uint16Array), expected, `geotiff, page ${t}`);
        }
      } finally {
        await tiff.close();
      }
    });
  }
});

describe('hyperStackPage: the page of (z, t, channel) in its file', () => {
  const layout: HyperStackLayout = { timeChunkSize: 10, numZSlices: 3, numChannels: 2, channelIndex: 0 };

  it('interleaves channel fastest, then z, then time, per file of time_chunk_size time points', () => {
    const cases: [number, number, number, number][] = [
      // z, t, channel, page
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [1, 0, 0, 2],
      [2, 0, 1, 5],
      [0, 1, 0, 6],
      [2, 9, 1, 59],
      [0, 10, 0, 0], // the second file starts again at page 0
      [1, 13, 0, 20],
      [1, 13, 1, 21],
      [2, 29, 1, 59],
    ];
    for (const [z, t, channelIndex, page] of cases) {
      assert.equal(
        hyperStackPage({ ...layout, channelIndex }, z, t),
        page,
        `z ${z}, t ${t}, channel ${channelIndex}`,
      );
    }
  });

  it('is not the original formula, which collides whenever a file holds several z slices or channels', () => {
    const original = (z: number, t: number, c: number) => (3 * 2 * t + z * 2 + c) % 10;
    assert.notEqual(original(0, 2, 0), hyperStackPage(layout, 0, 2));
    assert.equal(
      original(0, 0, 0),
      original(2, 1, 0),
      'the original maps (z 0, t 0) and (z 2, t 1) to one page',
    );
  });

  it('maps the (z, t, channel) of one file onto pages 0 .. time_chunk_size * z * channels - 1 one to one', () => {
    const seen = new Set<number>();
    for (let t = 20; t < 30; t++)
      for (let z = 0; z < 3; z++)
        for (let c = 0; c < 2; c++) seen.add(hyperStackPage({ ...layout, channelIndex: c }, z, t));
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: 60 }, (_, i) => i),
    );
  });

  it('is page t % time_chunk_size for a single z slice and channel', () => {
    const single = { timeChunkSize: 2000, numZSlices: 1, numChannels: 1, channelIndex: 0 };
    assert.equal(hyperStackPage(single, 0, 0), 0);
    assert.equal(hyperStackPage(single, 0, 1999), 1999);
    assert.equal(hyperStackPage(single, 0, 2001), 1);
  });
});

describe('multipage TIFF path processors', () => {
  const job: Job = { x: [0, 512], y: [0, 512], z: [2, 5], t: [0, 1000], tile: { x: 512, y: 512 } };

  it('SingleTimeTiffPathProcessor: the file of each z slice from z_<z>, whatever t', () => {
    const p = new SingleTimeTiffPathProcessor();
    p.setup(paramsOf(job, { z_2: '/d/a.tif', z_3: '/d/b.tif', z_4: '/d/c.tif' }));
    assert.equal(p.process(0, 0, 2, 0), '/d/a.tif');
    assert.equal(p.process(0, 0, 3, 999), '/d/b.tif');
    assert.equal(p.process(0, 0, 4, 17), '/d/c.tif');
    assert.throws(() => p.process(0, 0, 5, 0), TileOutsideExtentError);
  });

  it('SingleTimeTiffPathProcessor: a slice of the extent without its file is a param error naming it', () => {
    const p = new SingleTimeTiffPathProcessor();
    assert.throws(
      () => p.setup(paramsOf(job, { z_2: '/d/a.tif', z_4: '/d/c.tif' })),
      (err: unknown) =>
        err instanceof PluginParamError &&
        err.path === 'client.path_processor.params.z_3' &&
        /slice z=3/.test(err.rule),
    );
  });

  it('TiffMultiFileHyperStackPathProcessor: base_filename numbers the file floor(t / time_chunk_size)', () => {
    const p = new TiffMultiFileHyperStackPathProcessor();
    p.setup(
      paramsOf(job, {
        root_dir: '/data',
        extension: 'tif',
        base_filename: 'my_base_<o:200p:4>_<z>',
        time_chunk_size: 2000,
      }),
    );
    assert.equal(p.process(0, 0, 2, 0), '/data/my_base_0200_2.tif');
    assert.equal(p.process(0, 0, 2, 1999), '/data/my_base_0200_2.tif');
    assert.equal(p.process(0, 0, 3, 2000), '/data/my_base_0201_3.tif');
    assert.equal(p.process(0, 0, 4, 4001), '/data/my_base_0202_4.tif');
  });

  it('TiffMultiFileHyperStackPathProcessor: time_chunk_size must be a positive integer', () => {
    const p = new TiffMultiFileHyperStackPathProcessor();
    assert.throws(
      () =>
        p.setup(paramsOf(job, { root_dir: '/d', extension: 'tif', base_filename: 'b', time_chunk_size: 0 })),
      (err: unknown) =>
        err instanceof PluginParamError && err.path === 'client.path_processor.params.time_chunk_size',
    );
  });
});

describe('SingleTimeTiffTileProcessor on generated time series', function () {
  this.timeout(60_000);
  const root = tempRoot();
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  /** 50 x 30 pages in 20 x 16 tiles: 3 x 2 tiles per page, the right and bottom ones smaller. */
  const WIDTH = 50;
  const HEIGHT = 30;

  function series(
    name: string,
    bits: 8 | 16,
    zs: number,
    pages: number,
    options: Partial<TiffSpec> = {},
  ): string[] {
    return Array.from({ length: zs }, (_, z) => {
      const file = path.join(root, `${name}_z${z}.tif`);
      writeMultipageTiff(file, { width: WIDTH, height: HEIGHT, bits, pages, ...options }, (t) =>
        seriesPage(bits, WIDTH, HEIGHT, z, t),
      );
      return file;
    });
  }

  for (const bits of [16, 8] as const) {
    it(`uint${bits}: 3 z files of 300 pages, every tile of sampled time points equals the source, edge tiles included`, async () => {
      const files = series(`s${bits}`, bits, 3, 300, { rowsPerStrip: 7, bigEndian: bits === 16 });
      const job: Job = { x: [0, WIDTH], y: [0, HEIGHT], z: [0, 3], t: [0, 300], tile: { x: 20, y: 16 } };
      const source = await createSource(seriesConfig(files, job, { datatype: `uint${bits}` }));
      for (const t of [0, 1, 2, 149, 150, 298, 299]) {
        for (let z = 0; z < 3; z++) {
          for (let yi = 0; yi < 2; yi++) {
            for (let xi = 0; xi < 3; xi++) {
              const tile = await readTile(source, xi, yi, z, t);
              assert.equal(tile.datatype, `uint${bits}`);
              assertTile(tile, job, xi, yi, (x, y) => seriesVoxel(bits, x, y, z, t));
            }
          }
        }
      }
    });
  }

  it('an extent inside the pages (not from x 0, narrower than the page), both byte orders and datatypes', async () => {
    for (const [bits, bigEndian] of [
      [16, true],
      [16, false],
      [8, false],
    ] as const) {
      const files = series(`inner${bits}${bigEndian}`, bits, 2, 6, { rowsPerStrip: 4, bigEndian });
      const job: Job = { x: [20, 45], y: [5, 30], z: [0, 2], t: [1, 6], tile: { x: 16, y: 16 } };
      const source = await createSource(seriesConfig(files, job, { datatype: `uint${bits}` }));
      for (let t = 1; t < 6; t++)
        for (let z = 0; z < 2; z++)
          for (let yi = 0; yi < 2; yi++)
            for (let xi = 1; xi < 3; xi++) {
              const tile = await readTile(source, xi, yi, z, t);
              const x0 = xi * 16;
              const y0 = yi * 16;
              for (let y = Math.max(y0, 5); y < Math.min(y0 + 16, 30); y++)
                for (let x = Math.max(x0, 20); x < Math.min(x0 + 16, 45); x++)
                  assert.equal(
                    tile.data[(y - y0) * tile.width + (x - x0)],
                    seriesVoxel(bits, x, y, z, t),
                    `(${x}, ${y}, ${z}, ${t})`,
                  );
            }
    }
  });

  it('reads every one of 400 pages of a file in order, without reading the file more than once', async () => {
    const [file] = series('all', 16, 1, 400);
    const size = fs.statSync(file!).size;
    const job: Job = { x: [0, WIDTH], y: [0, HEIGHT], z: [0, 1], t: [0, 400], tile: { x: WIDTH, y: HEIGHT } };
    const source = await createSource(seriesConfig([file!], job));
    const before = tiffStats.bytesRead;
    for (let t = 0; t < 400; t++)
      assertTile(await readTile(source, 0, 0, 0, t), job, 0, 0, (x, y) => seriesVoxel(16, x, y, 0, t));
    const read = tiffStats.bytesRead - before;
    // Each page's samples once, plus one IFD read per page: well under twice the file.
    assert.ok(read < 2 * size, `read ${read} bytes of a ${size}-byte file`);
  });

  it('reads one late page of a large file without reading the pages before it', async () => {
    const [file] = series('late', 16, 1, 600);
    const size = fs.statSync(file!).size;
    const job: Job = { x: [0, WIDTH], y: [0, HEIGHT], z: [0, 1], t: [0, 600], tile: { x: WIDTH, y: HEIGHT } };
    const source = await createSource(seriesConfig([file!], job));
    const before = tiffStats.bytesRead;
    assertTile(await readTile(source, 0, 0, 0, 590), job, 0, 0, (x, y) => seriesVoxel(16, x, y, 0, 590));
    const read = tiffStats.bytesRead - before;
    assert.ok(read < size / 10, `read ${read} bytes of a ${size}-byte file for one page`);
  });

  it('more files than stay open: closed files are reopened without walking their pages again', async () => {
    const files = series('many', 8, 30, 120);
    const job: Job = {
      x: [0, WIDTH],
      y: [0, HEIGHT],
      z: [0, 30],
      t: [0, 120],
      tile: { x: WIDTH, y: HEIGHT },
    };
    const source = await createSource(seriesConfig(files, job, { datatype: 'uint8' }));
    const read = async (t: number) => {
      for (let z = 0; z < 30; z++)
        assertTile(await readTile(source, 0, 0, z, t), job, 0, 0, (x, y) => seriesVoxel(8, x, y, z, t));
    };
    const walked = tiffStats.ifdsWalked;
    const opened = tiffStats.opened;
    await read(100);
    assert.equal(tiffStats.ifdsWalked - walked, 30 * 101, 'the IFDs of pages 0 to 100 of each file, once');
    assert.equal(tiffStats.opened - opened, 30);
    await read(101);
    await read(7);
    assert.equal(tiffStats.opened - opened, 90, 'only 20 files stay open, so every pass reopens them');
    assert.equal(
      tiffStats.ifdsWalked - walked,
      30 * 102,
      'but the page offsets were kept: one more IFD each',
    );
  });

  it('reads multipage TIFFs written by libvips (deflate, tiled, horizontal predictor)', async () => {
    const pages = 12;
    const all = new Uint16Array(WIDTH * HEIGHT * pages);
    for (let t = 0; t < pages; t++) all.set(seriesPage(16, WIDTH, HEIGHT, 0, t), t * WIDTH * HEIGHT);
    const file = path.join(root, 'vips.tif');
    await sharp(all, { raw: { width: WIDTH, height: HEIGHT * pages, channels: 1, pageHeight: HEIGHT } })
      .toColourspace('grey16')
      .tiff({ compression: 'deflate', predictor: 'horizontal', tile: true, tileWidth: 16, tileHeight: 16 })
      .toFile(file);
    assert.equal((await sharp(file).metadata()).pages, pages, 'libvips wrote one page per time point');
    const job: Job = { x: [0, WIDTH], y: [0, HEIGHT], z: [0, 1], t: [0, pages], tile: { x: 20, y: 16 } };
    const source = await createSource(seriesConfig([file], job));
    for (let t = 0; t < pages; t++)
      for (let yi = 0; yi < 2; yi++)
        for (let xi = 0; xi < 3; xi++)
          assertTile(await readTile(source, xi, yi, 0, t), job, xi, yi, (x, y) =>
            seriesVoxel(16, x, y, 0, t),
          );
  });

  describe('refuses, with a TileError naming the file and the page', () => {
    const job: Job = { x: [0, WIDTH], y: [0, HEIGHT], z: [0, 1], t: [0, 10], tile: { x: 20, y: 16 } };

    async function rejects(file: string, pattern: RegExp, t = 0, tileParams: Record<string, unknown> = {}) {
      const source = await createSource(seriesConfig([file], job, tileParams));
      await assert.rejects(readTile(source, 0, 0, 0, t), (err: unknown) => {
        assert.ok(err instanceof TileError, String(err));
        assert.equal(err.file, file);
        assert.match(err.reason, pattern);
        return true;
      });
    }

    it('a colour page', async () => {
      const file = path.join(root, 'rgb.tif');
      writeMultipageTiff(
        file,
        { width: WIDTH, height: HEIGHT, bits: 8, pages: 2, samplesPerPixel: 3 },
        () => new Uint8Array(WIDTH * HEIGHT * 3),
      );
      await rejects(file, /page 1 \(t 1\) is a colour image \(3 samples per pixel\)/, 1, {
        datatype: 'uint8',
      });
    });

    it('pages of another datatype than the params say', async () => {
      const [file] = series('dt', 16, 1, 3);
      await rejects(file!, /page 2 \(t 2\) is uint16 but tile_processor params datatype is uint8/, 2, {
        datatype: 'uint8',
      });
    });

    it('a time point past the last page', async () => {
      const [file] = series('short', 16, 1, 7);
      await rejects(file!, /has 7 pages, so page 9 \(t 9\) does not exist/, 9);
    });

    it('pages smaller than the extent', async () => {
      const file = path.join(root, 'small.tif');
      writeMultipageTiff(
        file,
        { width: 40, height: HEIGHT, bits: 16, pages: 1 },
        () => new Uint16Array(40 * HEIGHT),
      );
      await rejects(file, /page 0 \(t 0\) is 40x30 but the extent needs at least 50x16/);
    });

    it('a missing file, a file that is not a TIFF, and a truncated one', async () => {
      await rejects(path.join(root, 'nope.tif'), /file not found/);
      const png = path.join(root, 'png.tif');
      fs.writeFileSync(png, encodePng(4, 4, new Uint8Array(16)));
      await rejects(png, /is not a TIFF file/);
      const [cut] = series('cut', 16, 1, 5);
      fs.truncateSync(cut!, fs.statSync(cut!).size - 100);
      await rejects(cut!, /is truncated: the IFD of page 4 runs past the end/, 4);
      // A strip that points past the end: page 0's single StripOffsets value, in its IFD entry.
      const [bad] = series('strip', 16, 1, 1);
      const bytes = fs.readFileSync(bad!);
      const ifd = bytes.readUInt32LE(4);
      for (let i = 0; i < bytes.readUInt16LE(ifd); i++)
        if (bytes.readUInt16LE(ifd + 2 + 12 * i) === 273)
          bytes.writeUInt32LE(bytes.length - 10, ifd + 2 + 12 * i + 8);
      fs.writeFileSync(bad!, bytes);
      await rejects(bad!, /is truncated: page 0 \(t 0\) runs past the end of the file/);
    });
  });
});

describe('TiffMultiFileHyperStackTileProcessor on a generated hyperstack', function () {
  this.timeout(60_000);
  const root = tempRoot();
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  // 2 channels, 3 z slices, 4 time points a file, 10 time points: files 0200, 0201, 0202 (the last holds 2).
  const WIDTH = 45;
  const HEIGHT = 33;
  const layout = { timeChunkSize: 4, numZSlices: 3, numChannels: 2 };
  const T = 10;
  const voxel = (x: number, y: number, z: number, t: number, c: number) => seriesVoxel(16, x, y, z, t, c + 2);

  before(() => {
    for (let file = 0; file * layout.timeChunkSize < T; file++) {
      const times = Math.min(layout.timeChunkSize, T - file * layout.timeChunkSize);
      const pages = times * layout.numZSlices * layout.numChannels;
      writeMultipageTiff(
        path.join(root, `stack_${String(200 + file).padStart(4, '0')}.tif`),
        { width: WIDTH, height: HEIGHT, bits: 16, pages },
        (page) => {
          // The documented order: channel fastest, then z, then time.
          const c = page % layout.numChannels;
          const z = Math.floor(page / layout.numChannels) % layout.numZSlices;
          const t = file * layout.timeChunkSize + Math.floor(page / (layout.numChannels * layout.numZSlices));
          const out = new Uint16Array(WIDTH * HEIGHT);
          for (let y = 0; y < HEIGHT; y++)
            for (let x = 0; x < WIDTH; x++) out[y * WIDTH + x] = voxel(x, y, z, t, c);
          return out;
        },
      );
    }
  });

  function hyperConfig(job: Job, tileParams: Record<string, unknown>): JobConfig {
    return jobConfig(
      job,
      {
        class: 'ingestclient.plugins.multipage_tiff.TiffMultiFileHyperStackPathProcessor',
        params: { root_dir: root, extension: 'tif', base_filename: 'stack_<o:200p:4>', time_chunk_size: 4 },
      },
      {
        class: 'ingestclient.plugins.multipage_tiff.TiffMultiFileHyperStackTileProcessor',
        params: {
          time_chunk_size: 4,
          num_z_slices: 3,
          num_channels: 2,
          filesystem: 'local',
          bucket: '',
          ...tileParams,
        },
      },
    );
  }

  for (const channel of [0, 1]) {
    it(`channel ${channel}: every tile of every (z, t) across the three files equals the source`, async () => {
      const job: Job = { x: [0, WIDTH], y: [0, HEIGHT], z: [0, 3], t: [0, T], tile: { x: 32, y: 32 } };
      const source = await createSource(hyperConfig(job, { channel_index: channel }));
      for (let t = 0; t < T; t++)
        for (let z = 0; z < 3; z++)
          for (let yi = 0; yi < 2; yi++)
            for (let xi = 0; xi < 2; xi++)
              assertTile(await readTile(source, xi, yi, z, t), job, xi, yi, (x, y) =>
                voxel(x, y, z, t, channel),
              );
    });
  }

  it('a time point past the end of the last file names the file and the page', async () => {
    const job: Job = { x: [0, WIDTH], y: [0, HEIGHT], z: [0, 3], t: [0, 12], tile: { x: 64, y: 64 } };
    const source = await createSource(hyperConfig(job, { channel_index: 1 }));
    await assert.rejects(readTile(source, 0, 0, 2, 10), (err: unknown) => {
      assert.ok(err instanceof TileError);
      assert.equal(err.file, path.join(root, 'stack_0202.tif'));
      assert.match(err.reason, /has 12 pages, so page 17 \(z 2, t 10, channel 1\) does not exist/);
      return true;
    });
  });

  it('params that cannot describe the extent are param errors', async () => {
    const job: Job = { x: [0, WIDTH], y: [0, HEIGHT], z: [0, 4], t: [0, T], tile: { x: 64, y: 64 } };
    await assert.rejects(
      createSource(hyperConfig(job, {})),
      (err: unknown) => err instanceof PluginParamError && err.path === 'ingest_job.extent.z',
    );
    const ok: Job = { ...job, z: [0, 3] };
    await assert.rejects(
      createSource(hyperConfig(ok, { channel_index: 2 })),
      (err: unknown) =>
        err instanceof PluginParamError && err.path === 'client.tile_processor.params.channel_index',
    );
    await assert.rejects(
      createSource(hyperConfig(ok, { filesystem: 's3' })),
      (err: unknown) =>
        err instanceof PluginParamError && err.path === 'client.tile_processor.params.filesystem',
    );
  });
});

describe('a row of chunks reads each page it needs once', function () {
  this.timeout(60_000);
  const root = tempRoot();
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('pages wider than a chunk, tiles narrower than a page: one read per page and tile row, one open per file', async () => {
    // 1100 x 40 pages in 256 x 16 tiles (5 tiles a tile row, 3 tile rows), 2 z slices, 3 time points.
    const width = 1100;
    const height = 40;
    const files = [0, 1].map((z) => {
      const file = path.join(root, `wide_z${z}.tif`);
      writeMultipageTiff(file, { width, height, bits: 16, pages: 3, rowsPerStrip: 5 }, (t) =>
        seriesPage(16, width, height, z, t),
      );
      return file;
    });
    const job: Job = { x: [0, width], y: [0, height], z: [0, 2], t: [0, 3], tile: { x: 256, y: 16 } };
    const config = seriesConfig(files, job);
    const chunk = { x: 512, y: 512, z: 16 };
    const grid: Grid = { extent: { x: job.x, y: job.y, z: job.z, t: job.t }, chunk };
    const destination = { name: 'discard' as const, datatype: 'uint16' as const, chunk };
    const opened = tiffStats.opened;
    const windows = tiffStats.windowsRead;
    // Chunks are numbered x fastest: each time point is one row of 3 chunks.
    for (let t = 0; t < 3; t++) {
      const result = await ingestRow({ config, grid, destination }, 3 * t, 3 * t + 3);
      assert.deepEqual(result.failures, []);
      assert.equal(result.written, 3);
    }
    assert.equal(tiffStats.windowsRead - windows, 3 * 2 * 3, 'one read per (t, z, tile row)');
    assert.equal(tiffStats.opened - opened, 2, 'each file opened once');
  });
});
