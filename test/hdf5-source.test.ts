// HDF5 files written by h5py, one set per HDF5 processor of the original, read tile by tile
// through our path and tile processors (the original's params) and compared voxel for voxel with
// numpy's reading of the same conventions; with the original's bugs fixed (y offset, chunk file
// names after the first z chunk, slices not overlapping a tile, scale_factor overflow), locally
// and from S3.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { IngestJobSection } from '../src/config/types.js';
import {
  Hdf5ChunkPathProcessor,
  Hdf5PlanePathProcessor,
  Hdf5SingleFilePathProcessor,
} from '../src/plugins/hdf5/paths.js';
import {
  Hdf5ChunkTileProcessor,
  Hdf5SingleFileTileProcessor,
  Hdf5SliceTileProcessor,
  Hdf5TimeSeriesLabelTileProcessor,
  Hdf5TimeSeriesTileProcessor,
} from '../src/plugins/hdf5/tiles.js';
import type { PathProcessor, TileProcessor } from '../src/plugins/types.js';
import {
  allocate,
  copyVoxels,
  type VolumeBox,
  type VolumeData,
  type VolumeDatatype,
} from '../src/volumes/volume.js';
import { hdf5FixtureParams } from './fixtures/hdf5-params.js';
import { serveFixtures, type ServedFixtures } from './harness/sources.js';
import { assertSameVoxels, expectedBox } from './harness/voxels.js';

type Written = Record<string, { shape: number[]; dtype: VolumeDatatype }>;
type Params = Record<string, unknown>;

describe('HDF5 sources (written by h5py)', function () {
  this.timeout(300_000);
  let fixtures: ServedFixtures<Written>;
  let dir: string;

  before(async () => {
    fixtures = await serveFixtures<Written>('hdf5_sources.py', 'hdf5');
    dir = fixtures.dir;
  });

  after(() => fixtures?.stop());

  const whole = (name: string): VolumeBox => {
    const [Z, Y, X] = fixtures.written[name].shape;
    return { x: [0, X], y: [0, Y], z: [0, Z] };
  };
  const expected = (name: string, box: VolumeBox) =>
    expectedBox({ file: path.join(dir, `${name}.raw`), ...fixtures.written[name] }, box);

  interface Plugins {
    path: PathProcessor;
    tile: TileProcessor;
  }

  /** The path and tile processor of a job over `box` with tiles of `tile` pixels. */
  async function plugins(
    Path: new () => PathProcessor,
    pathParams: Params,
    Tile: new () => TileProcessor,
    tileParams: Params,
    box: VolumeBox,
    tile: { x: number; y: number },
    t = 0,
  ): Promise<Plugins> {
    const job: IngestJobSection = {
      resolution: 0,
      extent: { x: box.x, y: box.y, z: box.z, t: [t, t + 1] },
      tile_size: { ...tile, z: 1, t: 1 },
    };
    const p = new Path();
    await p.setup({ ...pathParams, ingest_job: job });
    const tp = new Tile();
    await tp.setup({ ...tileParams, ingest_job: job });
    return { path: p, tile: tp };
  }

  /** Reads BOX tile by tile, as the engine does, and assembles it. */
  async function readBox(
    p: Plugins,
    box: VolumeBox,
    tile: { x: number; y: number },
    t = 0,
  ): Promise<VolumeData> {
    let out: VolumeData | undefined;
    for (let z = box.z[0]; z < box.z[1]; z++)
      for (let yi = Math.floor(box.y[0] / tile.y); yi * tile.y < box.y[1]; yi++)
        for (let xi = Math.floor(box.x[0] / tile.x); xi * tile.x < box.x[1]; xi++) {
          const read = await p.tile.process(p.path.process(xi, yi, z, t), xi, yi, z, t);
          out ??= allocate(
            read.datatype,
            (box.x[1] - box.x[0]) * (box.y[1] - box.y[0]) * (box.z[1] - box.z[0]),
          );
          const at: VolumeBox = {
            x: [xi * tile.x, xi * tile.x + read.width],
            y: [yi * tile.y, yi * tile.y + read.height],
            z: [z, z + 1],
          };
          copyVoxels(read.data, at, out, box);
        }
    return out!;
  }

  async function assertReads(
    make: (box: VolumeBox) => Promise<Plugins>,
    name: string,
    boxes: VolumeBox[],
    tile: { x: number; y: number },
    t = 0,
  ): Promise<void> {
    for (const box of boxes)
      assertSameVoxels(
        await readBox(await make(box), box, tile, t),
        expected(name, box),
        `${name} ${JSON.stringify(box)}`,
      );
  }

  const T16 = { x: 16, y: 16 };

  const single = (box: VolumeBox, tileParams: Params = {}, pathParams: Params = {}) => {
    const p = hdf5FixtureParams(dir).single;
    return plugins(
      Hdf5SingleFilePathProcessor,
      { ...p.path, ...pathParams },
      Hdf5SingleFileTileProcessor,
      { ...p.tile, ...tileParams },
      box,
      T16,
    );
  };

  it('single file: reads windows shifted by the offsets, zero outside the dataset on every side', async () => {
    await assertReads(
      (box) => single(box),
      'single',
      [whole('single'), { x: [0, 9], y: [44, 50], z: [7, 10] }, { x: [20, 37], y: [3, 21], z: [2, 5] }],
      T16,
    );
  });

  it('single file: reads from S3 (filesystem "s3")', async () => {
    await assertReads(
      (box) => single(box, { filesystem: 's3', bucket: 'lab-data' }, { filename: 'hdf5/single.h5' }),
      'single',
      [whole('single')],
      T16,
    );
  });

  it('single file: refuses uint16 data as uint8, and a wrong dataset name, naming the file and dataset', async () => {
    const p = await single(whole('single'), { datatype: 'uint8' });
    await assert.rejects(
      p.tile.process(p.path.process(0, 0, 0, 0), 1, 1, 0, 0),
      /single\.h5:img: value \d+ cannot be stored as uint8 without loss/,
    );
    const wrong = await single(whole('single'), { data_name: 'image' });
    await assert.rejects(
      wrong.tile.process(wrong.path.process(0, 0, 0, 0), 0, 0, 0, 0),
      (err: Error) => err.message === `${path.join(dir, 'single.h5')}: has no dataset "image"`,
    );
  });

  const T32 = { x: 32, y: 32 };
  const chunks = (box: VolumeBox, fillMissing: boolean) => {
    const p = hdf5FixtureParams(dir).chunks;
    return plugins(
      Hdf5ChunkPathProcessor,
      p.path,
      Hdf5ChunkTileProcessor,
      { ...p.tile, fill_missing: fillMissing },
      box,
      T32,
    );
  };

  it('chunk files: finds every block by name, the second z chunk too', async () => {
    await assertReads(
      (box) => chunks(box, true),
      'chunks',
      [whole('chunks'), { x: [0, 50], y: [10, 60], z: [5, 12] }],
      T32,
    );
  });

  it('chunk files: a missing file is a missing tile, naming it, unless fill_missing', async () => {
    const p = await chunks(whole('chunks'), false);
    const file = p.path.process(1, 0, 9, 0);
    assert.equal(file, path.join(dir, 'chunks', 'block_132-163_200-231_16-23.h5'));
    await assert.rejects(p.tile.process(file, 1, 0, 9, 0), (err: Error) =>
      err.message.startsWith(`${file}: file not found`),
    );
  });

  it('chunk files: a chunk size other than the tile size is refused at setup', async () => {
    await assert.rejects(
      plugins(
        Hdf5ChunkPathProcessor,
        {
          root_dir: dir,
          extension: 'h5',
          prefix: 'block',
          x_chunk_size: 64,
          y_chunk_size: 32,
          z_chunk_size: 8,
        },
        Hdf5ChunkTileProcessor,
        { data_name: 'img', z_chunk_size: 8, datatype: 'uint8' },
        whole('chunks'),
        T32,
      ),
      /client\.path_processor\.params\.x_chunk_size: must equal ingest_job\.tile_size\.x \(32\)/,
    );
  });

  it('slices: places each image at its offset plus the origin (y by offset_origin_y), tiles beyond it zero', async () => {
    const p = hdf5FixtureParams(dir).slices;
    const slices = (box: VolumeBox) =>
      plugins(Hdf5PlanePathProcessor, p.path, Hdf5SliceTileProcessor, p.tile, box, T16);
    // The last box lies wholly right of and below slices 0 and 1 (the original failed there).
    await assertReads(
      slices,
      'slices',
      [whole('slices'), { x: [0, 16], y: [0, 16], z: [0, 3] }, { x: [48, 80], y: [48, 70], z: [0, 3] }],
      T16,
    );
  });

  const series = (baseFilename: string, box: VolumeBox, channel: number, scale: number, t: number) => {
    const p = hdf5FixtureParams(dir).series;
    return plugins(
      Hdf5PlanePathProcessor,
      { ...p.path, base_filename: baseFilename },
      Hdf5TimeSeriesTileProcessor,
      { ...p.tile, channel_index: channel, scale_factor: scale },
      box,
      T16,
      t,
    );
  };

  it('time series: reads time point t of (t, x, y, channel) as rows, scaled and rounded', async () => {
    await assertReads(
      (box) => series('plane_<p:2>', box, 1, 0.5, 2),
      'series',
      [whole('series'), { x: [5, 33], y: [2, 29], z: [1, 3] }],
      T16,
      2,
    );
  });

  it('time series: a scaled value beyond uint16 is an error naming the file, not a wrapped value', async () => {
    const box: VolumeBox = { x: [0, 4], y: [0, 4], z: [0, 1] };
    const p = await series('overflow_<p:2>', box, 0, 1, 0);
    await assert.rejects(
      p.tile.process(p.path.process(0, 0, 0, 0), 0, 0, 0, 0),
      /overflow_00\.h5:aligned \(t 0, times scale_factor 1\): value 70000 cannot be stored as uint16/,
    );
  });

  it('time-series labels: (x, y) label images as rows, all 32 bits kept', async () => {
    await assertReads(
      (box) =>
        plugins(
          Hdf5PlanePathProcessor,
          hdf5FixtureParams(dir).rois.path,
          Hdf5TimeSeriesLabelTileProcessor,
          hdf5FixtureParams(dir).rois.tile,
          box,
          T16,
        ),
      'rois',
      [whole('rois'), { x: [7, 39], y: [0, 13], z: [1, 2] }],
      T16,
    );
  });
});
