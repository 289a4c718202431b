// HDF5 files written by h5py, one set per HDF5 processor of the original, read back through our
// windowed readers voxel for voxel against numpy's reading of the same conventions; with the
// original's bugs fixed (y offset, chunk file names after the first z chunk, slices not
// overlapping a tile, scale_factor overflow), locally and from S3.
import assert from 'node:assert/strict';
import path from 'node:path';
import { Hdf5ChunkFilesVolume } from '../src/volumes/hdf5/chunk-files.js';
import {
  Hdf5SliceVolume,
  Hdf5TimeSeriesLabelVolume,
  Hdf5TimeSeriesVolume,
} from '../src/volumes/hdf5/planes.js';
import { Hdf5SingleFileVolume } from '../src/volumes/hdf5/single-file.js';
import type { VolumeBox, Volume, VolumeDatatype } from '../src/volumes/volume.js';
import { serveFixtures, type ServedFixtures } from './harness/sources.js';
import { assertSameVoxels, expectedBox } from './harness/voxels.js';

type Written = Record<string, { shape: number[]; dtype: VolumeDatatype }>;

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

  async function assertReads(volume: Volume, name: string, boxes: VolumeBox[], t?: number): Promise<void> {
    try {
      for (const box of boxes)
        assertSameVoxels(
          await volume.readBox({ ...box, t }),
          expected(name, box),
          `${name} ${JSON.stringify(box)}`,
        );
    } finally {
      await volume.close();
    }
  }

  const single = (location?: { filesystem: 's3'; bucket: string }) =>
    new Hdf5SingleFileVolume({
      file: location ? 'hdf5/single.h5' : path.join(dir, 'single.h5'),
      dataset: 'img',
      shift: { x: -5, y: 3, z: 2 },
      bounds: whole('single'),
      chunk: { x: 16, y: 16, z: 1 },
      datatype: 'uint16',
      location,
    });

  it('single file: reads windows shifted by the offsets, zero outside the dataset on every side', async () => {
    await assertReads(single(), 'single', [
      whole('single'),
      { x: [0, 9], y: [44, 50], z: [7, 10] },
      { x: [20, 37], y: [3, 21], z: [2, 5] },
    ]);
  });

  it('single file: reads from S3 (filesystem "s3")', async () => {
    await assertReads(single({ filesystem: 's3', bucket: 'lab-data' }), 'single', [whole('single')]);
  });

  it('single file: refuses uint16 data into uint8, naming the file (no silent cast)', async () => {
    const volume = new Hdf5SingleFileVolume({
      file: path.join(dir, 'single.h5'),
      dataset: 'img',
      shift: { x: 0, y: 0, z: 0 },
      bounds: whole('single'),
      chunk: { x: 16, y: 16, z: 1 },
      datatype: 'uint8',
    });
    await assert.rejects(
      volume.readBox(whole('single')),
      /single\.h5:img: value \d+ cannot be stored as uint8 without loss/,
    );
    await volume.close();
  });

  const chunks = (fillMissing: boolean) =>
    new Hdf5ChunkFilesVolume({
      rootDir: path.join(dir, 'chunks'),
      prefix: 'block',
      extension: 'h5',
      dataset: 'img',
      nameOffset: { x: 100, y: 200, z: 8 },
      pythonConvention: false,
      fillMissing,
      bounds: whole('chunks'),
      chunk: { x: 32, y: 32, z: 8 },
      datatype: 'uint8',
    });

  it('chunk files: finds every block by name, the second z chunk too, and reads boxes across blocks', async () => {
    await assertReads(chunks(true), 'chunks', [whole('chunks'), { x: [20, 50], y: [10, 60], z: [5, 12] }]);
  });

  it('chunk files: a missing file fails the read, naming it, unless fill_missing', async () => {
    const volume = chunks(false);
    await assert.rejects(
      volume.readBox(whole('chunks')),
      (err: Error) =>
        err.message.includes(path.join(dir, 'chunks', 'block_132-163_200-231_16-23.h5')) &&
        /does not exist/.test(err.message),
    );
    await assertReads(volume, 'chunks', [{ x: [0, 64], y: [0, 64], z: [0, 8] }]);
  });

  it('slices: places each image at its offset plus the origin (y by offset_origin_y), tiles beyond it zero', async () => {
    const volume = new Hdf5SliceVolume({
      rootDir: path.join(dir, 'slices'),
      extension: 'h5',
      baseFilename: 'section_<o:100p:5>',
      dataset: 'image',
      offsetDataset: 'offset',
      extentDataset: 'extent',
      origin: { x: 3, y: 7 },
      bounds: whole('slices'),
      chunk: { x: 16, y: 16, z: 1 },
      datatype: 'uint8',
    });
    // The last box lies wholly right of and below slices 0 and 1 (the original failed there).
    await assertReads(volume, 'slices', [
      whole('slices'),
      { x: [0, 16], y: [0, 16], z: [0, 3] },
      { x: [48, 80], y: [48, 70], z: [0, 3] },
    ]);
  });

  const series = (baseFilename: string, bounds: VolumeBox) =>
    new Hdf5TimeSeriesVolume({
      rootDir: path.join(dir, 'series'),
      extension: 'h5',
      baseFilename,
      dataset: 'aligned',
      channel: 1,
      scaleFactor: 0.5,
      bounds,
      chunk: { x: 16, y: 16, z: 1 },
      datatype: 'uint16',
    });

  it('time series: reads time point t of (t, x, y, channel) as rows, scaled and rounded', async () => {
    await assertReads(
      series('plane_<p:2>', whole('series')),
      'series',
      [whole('series'), { x: [5, 33], y: [2, 29], z: [1, 3] }],
      2,
    );
  });

  it('time series: a scaled value beyond uint16 is an error naming the file, not a wrapped value', async () => {
    const volume = new Hdf5TimeSeriesVolume({
      rootDir: path.join(dir, 'series'),
      extension: 'h5',
      baseFilename: 'overflow_<p:2>',
      dataset: 'aligned',
      channel: 0,
      scaleFactor: 1,
      bounds: { x: [0, 4], y: [0, 4], z: [0, 1] },
      chunk: { x: 4, y: 4, z: 1 },
      datatype: 'uint16',
    });
    await assert.rejects(
      volume.readBox({ x: [0, 4], y: [0, 4], z: [0, 1] }),
      /overflow_00\.h5:aligned \(t 0, times scale_factor 1\): value 70000 cannot be stored as uint16/,
    );
    await volume.close();
  });

  it('time-series labels: (x, y) label images as rows, all 32 bits kept', async () => {
    const volume = new Hdf5TimeSeriesLabelVolume({
      rootDir: path.join(dir, 'rois'),
      extension: 'h5',
      baseFilename: 'rois_plane_<o:1>',
      dataset: 'roi_labels',
      bounds: whole('rois'),
      chunk: { x: 16, y: 16, z: 1 },
      datatype: 'uint32',
    });
    await assertReads(volume, 'rois', [whole('rois'), { x: [7, 39], y: [0, 13], z: [1, 2] }]);
  });
});
