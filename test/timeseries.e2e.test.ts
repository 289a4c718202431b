/**
 * Time series end to end on a real Temporal dev server: multipage TIFF sources in the original
 * config format, run with `boss-ingest run CONFIG --output PATH`, read back with zarr-python as a
 * (t, z, y, x) OME-Zarr volume and compared with the source in every voxel.
 */
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { seriesPage, seriesVoxel, writeMultipageTiff } from './fixtures/tiff.js';
import { cli, readWithZarrPython, type TestServer, type ZarrRead, useDevServer } from './harness/env.js';
import { writeConfig as writeConfigIn } from './harness/config.js';

type Range = [number, number];

/** Every voxel of a (t, z, y, x) volume: inside the extent it must equal `expected`, outside it 0. */
function assertTimeVolume(
  read: ZarrRead,
  extent: { x: Range; y: Range; z: Range; t: Range },
  expected: (x: number, y: number, z: number, t: number) => number,
): void {
  const [T, Z, Y, X] = read.shape as [number, number, number, number];
  const bytes = read.dtype === 'uint16' ? 2 : 1;
  const inside = (v: number, r: Range) => v >= r[0] && v < r[1];
  let mismatches = 0;
  let first = '';
  for (let t = 0; t < T; t++) {
    for (let z = 0; z < Z; z++) {
      for (let y = 0; y < Y; y++) {
        for (let x = 0; x < X; x++) {
          const i = ((t * Z + z) * Y + y) * X + x;
          const got = bytes === 2 ? read.data.readUInt16LE(2 * i) : read.data[i]!;
          const inExtent =
            inside(x, extent.x) && inside(y, extent.y) && inside(z, extent.z) && inside(t, extent.t);
          const want = inExtent ? expected(x, y, z, t) : 0;
          if (got !== want) {
            if (mismatches === 0)
              first = `first at (x ${x}, y ${y}, z ${z}, t ${t}): got ${got}, expected ${want}`;
            mismatches++;
          }
        }
      }
    }
  }
  if (mismatches > 0) throw new Error(`${mismatches} voxel(s) differ from the source; ${first}`);
}

function v01(pathProcessor: object, tileProcessor: object, ingestJob: object): object {
  return {
    schema: { name: 'boss-v0.1-schema', validator: 'BossValidatorV01' },
    client: {
      backend: { name: 'boss', class: 'BossBackend', host: 'api.bossdb.io', protocol: 'https' },
      path_processor: pathProcessor,
      tile_processor: tileProcessor,
    },
    database: { collection: 'my_col_1', experiment: 'my_exp_1', channel: 'my_ch_1' },
    ingest_job: ingestJob,
  };
}

describe('time series on a real Temporal dev server', function () {
  this.timeout(120_000);
  let server: TestServer;
  let dir: string;

  useDevServer('timeseries', (s, d) => {
    server = s;
    dir = d;
  });

  const writeConfig = (name: string, config: object) => writeConfigIn(dir, name, config);

  const conn = () => ['--address', server.address];

  /** `run` of a uint16 series of one file per z slice (`files`, as z_<z> params) in 512 x 512 tiles. */
  async function runSeries(name: string, files: string[], W: number, H: number, T: number) {
    const params = Object.fromEntries(files.map((f, z) => [`z_${z}`, f]));
    // The original example (time-series-tiff.json), pointed at the generated files.
    const config = v01(
      { class: 'ingest.plugins.multipage_tiff.SingleTimeTiffPathProcessor', params },
      {
        class: 'ingest.plugins.multipage_tiff.SingleTimeTiffTileProcessor',
        params: { datatype: 'uint16', filetype: 'tif' },
      },
      {
        resolution: 0,
        extent: { x: [0, W], y: [0, H], z: [0, files.length], t: [0, T] },
        tile_size: { x: 512, y: 512, z: 1, t: 1 },
      },
    );
    const out = path.join(dir, `${name}.ome.zarr`);
    const res = await cli(['run', writeConfig(name, config), '--output', out, '-f', ...conn()], server.home);
    assert.equal(res.code, 0, `exit code ${res.code}\n${res.stdout}\n${res.stderr}`);
    return { res, out };
  }

  it('a uint16 calcium-imaging series (3 z files of 60 pages, edge tiles) lands voxel-exact in (t, z, y, x)', async () => {
    const [W, H, Z, T] = [700, 300, 3, 60];
    const files = Array.from({ length: Z }, (_, z) => {
      const file = path.join(dir, `slice${z}.tif`);
      writeMultipageTiff(file, { width: W, height: H, bits: 16, pages: T, rowsPerStrip: 16 }, (t) =>
        seriesPage(16, W, H, z, t),
      );
      return file;
    });
    const { res, out } = await runSeries('series', files, W, H, T);
    // One chunk per time point, z block, y block and x block: 60 x 1 x 1 x 2.
    assert.match(res.stdout, /completed: 120\/120 chunks/);

    const read = await readWithZarrPython(out);
    assert.deepEqual(read.shape, [T, Z, H, W]);
    assert.equal(read.dtype, 'uint16');
    // A time series of few slices gets chunks as deep as its slices, not 16 with 13 empty.
    assert.deepEqual(read.chunks, [1, Z, 512, 512]);
    assert.deepEqual(read.dimension_names, ['t', 'z', 'y', 'x']);
    const axes = read.ome.multiscales[0]!.axes as { name: string; type: string }[];
    assert.deepEqual(
      axes.map((a) => [a.name, a.type]),
      [
        ['t', 'time'],
        ['z', 'space'],
        ['y', 'space'],
        ['x', 'space'],
      ],
    );
    assertTimeVolume(read, { x: [0, W], y: [0, H], z: [0, Z], t: [0, T] }, (x, y, z, t) =>
      seriesVoxel(16, x, y, z, t),
    );
  });

  it('pages as wide and high as a chunk, either byte order, are read straight into it, voxel-exact', async () => {
    // One tile a page and a page a chunk's slice: the pages are read into the chunk itself (no
    // tile in between); slice 1's file is big-endian, so its samples are swapped where they land.
    const [W, H, Z, T] = [512, 512, 2, 5];
    const files = Array.from({ length: Z }, (_, z) => {
      const file = path.join(dir, `chunk-wide-${z}.tif`);
      const spec = { width: W, height: H, bits: 16 as const, pages: T, rowsPerStrip: 48, bigEndian: z === 1 };
      writeMultipageTiff(file, spec, (t) => seriesPage(16, W, H, z, t));
      return file;
    });
    const { out } = await runSeries('chunk-wide', files, W, H, T);
    const read = await readWithZarrPython(out);
    assert.deepEqual(read.chunks, [1, Z, 512, 512]);
    assertTimeVolume(read, { x: [0, W], y: [0, H], z: [0, Z], t: [0, T] }, (x, y, z, t) =>
      seriesVoxel(16, x, y, z, t),
    );
  });

  it('a uint8 hyperstack (2 channels, 3 z slices, 4 time points a file) from t 2: channel 1 at absolute t', async () => {
    const [W, H, T] = [300, 200, 10];
    const layout = { timeChunkSize: 4, numZSlices: 3, numChannels: 2 };
    const voxel = (x: number, y: number, z: number, t: number, c: number) =>
      seriesVoxel(8, x, y, z, t, c + 3);
    for (let file = 0; file * layout.timeChunkSize < T; file++) {
      const times = Math.min(layout.timeChunkSize, T - file * layout.timeChunkSize);
      writeMultipageTiff(
        path.join(dir, `hyper_${String(200 + file).padStart(4, '0')}.tif`),
        { width: W, height: H, bits: 8, pages: times * layout.numZSlices * layout.numChannels },
        (page) => {
          const c = page % 2;
          const z = Math.floor(page / 2) % 3;
          const t = file * layout.timeChunkSize + Math.floor(page / 6);
          const out = new Uint8Array(W * H);
          for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = voxel(x, y, z, t, c);
          return out;
        },
      );
    }
    // The original example (tiff-hyperstack.json), pointed at the generated files.
    const config = v01(
      {
        class: 'ingestclient.plugins.multipage_tiff.TiffMultiFileHyperStackPathProcessor',
        params: { root_dir: dir, extension: 'tif', base_filename: 'hyper_<o:200p:4>', time_chunk_size: 4 },
      },
      {
        class: 'ingestclient.plugins.multipage_tiff.TiffMultiFileHyperStackTileProcessor',
        params: {
          time_chunk_size: 4,
          num_z_slices: 3,
          num_channels: 2,
          channel_index: 1,
          filesystem: 'local',
          bucket: '',
        },
      },
      {
        resolution: 0,
        extent: { x: [0, W], y: [0, H], z: [0, 3], t: [2, T] },
        tile_size: { x: 512, y: 512, z: 1, t: 1 },
      },
    );
    const out = path.join(dir, 'hyper.ome.zarr');
    const res = await cli(
      ['run', writeConfig('hyper', config), '--output', out, '-f', ...conn()],
      server.home,
    );
    assert.equal(res.code, 0, `exit code ${res.code}\n${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /completed: 8\/8 chunks/);
    const read = await readWithZarrPython(out);
    assert.deepEqual(read.shape, [T, 3, H, W], 'absolute coordinates: t 0 and 1 exist, unwritten');
    assert.equal(read.dtype, 'uint8');
    assertTimeVolume(read, { x: [0, W], y: [0, H], z: [0, 3], t: [2, T] }, (x, y, z, t) =>
      voxel(x, y, z, t, 1),
    );
  });

  it('a series with a missing page fails only that time point, naming the file and the page', async () => {
    const [W, H] = [64, 48];
    const files = [0, 1].map((z) => {
      const file = path.join(dir, `short${z}.tif`);
      // Slice 1 lacks its last page.
      writeMultipageTiff(file, { width: W, height: H, bits: 16, pages: z === 1 ? 4 : 5 }, (t) =>
        seriesPage(16, W, H, z, t),
      );
      return file;
    });
    const config = v01(
      {
        class: 'ingest.plugins.multipage_tiff.SingleTimeTiffPathProcessor',
        params: { z_0: files[0], z_1: files[1] },
      },
      { class: 'ingest.plugins.multipage_tiff.SingleTimeTiffTileProcessor', params: { datatype: 'uint16' } },
      {
        resolution: 0,
        extent: { x: [0, W], y: [0, H], z: [0, 2], t: [0, 5] },
        tile_size: { x: W, y: H, z: 1, t: 1 },
      },
    );
    const out = path.join(dir, 'short.ome.zarr');
    const res = await cli(
      ['run', writeConfig('short', config), '--output', out, '-f', ...conn()],
      server.home,
    );
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /completed_with_errors: 5\/5 chunks .* 1 failed/);
    assert.ok(res.stdout.includes(files[1]!), res.stdout);
    assert.match(res.stdout, /has 4 pages, so page 4 \(t 4\) does not exist/);
    const read = await readWithZarrPython(out);
    assertTimeVolume(read, { x: [0, W], y: [0, H], z: [0, 2], t: [0, 4] }, (x, y, z, t) =>
      seriesVoxel(16, x, y, z, t),
    );
  });
});
