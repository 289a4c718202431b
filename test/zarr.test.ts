// Unit tests of the local OME-Zarr destination (src/destinations/zarr.ts, codec.ts): volumes are written
// with our chunk writer and read back with an independent reader, zarrita.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileSystemStore } from '@zarrita/storage';
import * as zarr from 'zarrita';
import type { Compressor, Datatype, JobConfig } from '../src/config/types.js';
import { decodeChunk, encodeChunk } from '../src/destinations/codec.js';
import {
  chunkFile,
  LOCK_DIR,
  openZarrVolume,
  readZarrChunk,
  VolumeError,
  writeZarrChunk,
  zarrDestination,
  type ZarrVolume,
} from '../src/destinations/zarr.js';
import {
  wholeChunk,
  type ChunkBox,
  type ChunkCoord,
  type ChunkShape,
  type Extent,
} from '../src/extent/grid.js';
import { writebackThreshold } from '../src/objects/direct-io.js';
import { readWithZarrPython } from './harness/env.js';
import { voxel } from './fixtures/stack.js';

const CHUNK: ChunkShape = { x: 8, y: 6, z: 4 };
/** 20 x 10 x 6 voxels: 3 x 2 x 2 chunks, the last ones in each axis partial. */
const EXTENT: Extent = { x: [0, 20], y: [0, 10], z: [0, 6], t: [0, 1] };

const BYTES: Record<Datatype, number> = { uint8: 1, uint16: 2, uint64: 8 };

/** The value stored at absolute (x, y, z, t) in these tests; uint64 values use the high word. */
function valueAt(datatype: Datatype, x: number, y: number, z: number, t = 0): bigint {
  const v = voxel({ bits: datatype === 'uint8' ? 8 : 16, seed: t + 1 }, x, y, z);
  return datatype === 'uint64' ? (BigInt(v) << 40n) + BigInt(x * 1000 + y * 10 + z) : BigInt(v);
}

/** The bytes of one chunk filled with `valueAt` (C order z, y, x, little-endian). */
function chunkSamples(volume: ZarrVolume, coord: ChunkCoord): Uint8Array {
  const { x: cx, y: cy, z: cz } = volume.chunk;
  const n = cx * cy * cz;
  const typed =
    volume.datatype === 'uint8'
      ? new Uint8Array(n)
      : volume.datatype === 'uint16'
        ? new Uint16Array(n)
        : new BigUint64Array(n);
  for (let dz = 0; dz < cz; dz++)
    for (let dy = 0; dy < cy; dy++)
      for (let dx = 0; dx < cx; dx++) {
        const v = valueAt(volume.datatype, coord.x * cx + dx, coord.y * cy + dy, coord.z * cz + dz, coord.t);
        const i = (dz * cy + dy) * cx + dx;
        if (typed instanceof BigUint64Array) typed[i] = v;
        else typed[i] = Number(v);
      }
  return new Uint8Array(typed.buffer);
}

/** The box of a whole chunk, as a job that covers it writes it. */
function whole(coord: ChunkCoord): ChunkBox {
  return { ...wholeChunk(CHUNK, coord), coord };
}

function openStore(volume: ZarrVolume): zarr.Location<FileSystemStore> {
  return zarr.root(new FileSystemStore(volume.path));
}

async function readArray(volume: ZarrVolume) {
  const array = await zarr.open(openStore(volume).resolve('0'), { kind: 'array' });
  const chunk = await zarr.get(array);
  return { array, data: chunk.data as ArrayLike<number | bigint>, shape: chunk.shape };
}

/**
 * Asserts that every voxel read back by zarrita is `valueAt` inside the written chunks and the
 * fill value 0 elsewhere.
 */
async function assertVolume(volume: ZarrVolume, shape: number[], written: ChunkCoord[]): Promise<void> {
  const { data, shape: got } = await readArray(volume);
  assert.deepEqual(got, shape);
  const [nt, nz, ny, nx] = volume.timeAxis ? shape : [1, ...shape];
  const { x: cx, y: cy, z: cz } = volume.chunk;
  const isWritten = (t: number, z: number, y: number, x: number) =>
    written.some(
      (c) =>
        c.t === t && c.z === Math.floor(z / cz) && c.y === Math.floor(y / cy) && c.x === Math.floor(x / cx),
    );
  let i = 0;
  let checkedNonZero = 0;
  for (let t = 0; t < nt!; t++)
    for (let z = 0; z < nz!; z++)
      for (let y = 0; y < ny!; y++)
        for (let x = 0; x < nx!; x++, i++) {
          const expected = isWritten(t, z, y, x) ? valueAt(volume.datatype, x, y, z, t) : 0n;
          const actual = BigInt(data[i]!);
          if (actual !== expected)
            assert.fail(`voxel (t ${t}, z ${z}, y ${y}, x ${x}) is ${actual}, expected ${expected}`);
          if (expected !== 0n) checkedNonZero++;
        }
  assert.equal(i, data.length);
  if (written.length > 0) assert.ok(checkedNonZero > 0, 'test setup: nothing written was checked');
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f));
}

describe('OME-Zarr destination', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boss-ingest-zarr-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function volume(datatype: Datatype, compressor: Compressor, extra: Partial<ZarrVolume> = {}): ZarrVolume {
    return {
      name: 'zarr',
      path: path.join(dir, 'out.ome.zarr'),
      datatype,
      compressor,
      chunk: CHUNK,
      timeAxis: false,
      ...extra,
    };
  }

  /** An interior chunk and the far corner chunk, which lies partly outside the shape. */
  const WRITTEN: ChunkCoord[] = [
    { t: 0, z: 0, y: 0, x: 1 },
    { t: 0, z: 1, y: 1, x: 2 },
  ];

  for (const compressor of ['none', 'zstd', 'blosc'] as Compressor[]) {
    for (const datatype of ['uint8', 'uint16', 'uint64'] as Datatype[]) {
      it(`writes ${datatype} chunks with compressor ${compressor} that zarrita reads back exactly`, async () => {
        const v = volume(datatype, compressor);
        await openZarrVolume(v, EXTENT);
        for (const coord of WRITTEN) {
          await writeZarrChunk(v, whole(coord), chunkSamples(v, coord));
          const bytes = fs.statSync(chunkFile(v, coord)).size;
          if (compressor === 'none') assert.equal(bytes, CHUNK.x * CHUNK.y * CHUNK.z * BYTES[datatype]);
        }
        const { array } = await readArray(v);
        assert.equal(array.dtype, datatype);
        assert.deepEqual(array.shape, [6, 10, 20]);
        assert.deepEqual(array.chunks, [CHUNK.z, CHUNK.y, CHUNK.x]);
        assert.deepEqual(array.dimensionNames, ['z', 'y', 'x']);
        await assertVolume(v, [6, 10, 20], WRITTEN);
        // Our own reader agrees, and knows which chunks were never written.
        for (const coord of WRITTEN) {
          const stored = await readZarrChunk(v, coord);
          assert.ok(stored, `chunk ${JSON.stringify(coord)} was not found`);
          assert.deepEqual(new Uint8Array(stored), chunkSamples(v, coord));
        }
        assert.equal(await readZarrChunk(v, { t: 0, z: 0, y: 0, x: 0 }), undefined);
      });
    }
  }

  it('writes OME-Zarr 0.5 group metadata with z, y, x space axes', async () => {
    const v = volume('uint8', 'blosc');
    await openZarrVolume(v, EXTENT);
    const group = await zarr.open(openStore(v), { kind: 'group' });
    const ome = group.attrs.ome as {
      version: string;
      multiscales: {
        axes: { name: string; type: string }[];
        datasets: { path: string; coordinateTransformations: { type: string; scale: number[] }[] }[];
      }[];
    };
    assert.equal(ome.version, '0.5');
    assert.equal(ome.multiscales.length, 1);
    const [ms] = ome.multiscales;
    assert.deepEqual(
      ms!.axes.map((a) => [a.name, a.type]),
      [
        ['z', 'space'],
        ['y', 'space'],
        ['x', 'space'],
      ],
    );
    assert.equal(ms!.datasets.length, 1);
    assert.equal(ms!.datasets[0]!.path, '0');
    assert.deepEqual(ms!.datasets[0]!.coordinateTransformations, [{ type: 'scale', scale: [1, 1, 1] }]);
    const raw = JSON.parse(fs.readFileSync(path.join(v.path, 'zarr.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(raw.zarr_format, 3);
    assert.equal(raw.node_type, 'group');
    const array = JSON.parse(fs.readFileSync(path.join(v.path, '0', 'zarr.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(array.zarr_format, 3);
    assert.equal(array.node_type, 'array');
    assert.equal(array.fill_value, 0);
    assert.deepEqual(array.chunk_key_encoding, { name: 'default', configuration: { separator: '/' } });
    assert.deepEqual(array.dimension_names, ['z', 'y', 'x']);
  });

  it('scales its axes by the configured voxel size, with the unit, as zarr-python reads them', async () => {
    const v = volume('uint8', 'none', { voxelSize: { x: 4, y: 5, z: 40 }, unit: 'nanometer' });
    await openZarrVolume(v, EXTENT);
    const read = await readWithZarrPython(v.path);
    const [ms] = read.ome.multiscales as {
      axes: { name: string; unit?: string }[];
      datasets: { coordinateTransformations: object[] }[];
    }[];
    assert.deepEqual(
      ms!.axes.map((a) => [a.name, a.unit]),
      [
        ['z', 'nanometer'],
        ['y', 'nanometer'],
        ['x', 'nanometer'],
      ],
    );
    assert.deepEqual(ms!.datasets[0]!.coordinateTransformations, [{ type: 'scale', scale: [40, 5, 4] }]);
  });

  it('with shard_size, the job writes whole shards of the configured chunks; a shard too big for a thread is refused', async () => {
    const backend = { name: 'zarr', path: path.join(dir, 'v'), chunk_size: { x: 64, y: 64, z: 4 } };
    const sharded = (shard_size: object) =>
      ({ client: { backend: { ...backend, shard_size } } }) as unknown as JobConfig;
    const { spec } = await zarrDestination.resolve(sharded({ x: 256, y: 128, z: 4 }), {
      extent: EXTENT,
      datatype: 'uint16',
    });
    assert.deepEqual(spec.chunk, { x: 256, y: 128, z: 4 });
    assert.deepEqual(spec.innerChunk, { x: 64, y: 64, z: 4 });
    assert.match(zarrDestination.describe(spec), /shards 4x128x256 of chunks 4x64x64/);
    await assert.rejects(
      zarrDestination.resolve(sharded({ x: 8192, y: 8192, z: 4 }), { extent: EXTENT, datatype: 'uint16' }),
      /client.backend.shard_size: a shard of 4x8192x8192 uint16 voxels is 512 MiB; a chunk thread holds a whole shard in memory, at most 256 MiB/,
    );
    // A sharded volume has its pyramid too, its levels sharded the same way.
    const withPyramid = await zarrDestination.resolve(
      {
        client: { backend: { ...backend, shard_size: { x: 256, y: 128, z: 4 }, multiscale: {} } },
      } as unknown as JobConfig,
      { extent: EXTENT, datatype: 'uint16' },
    );
    assert.deepEqual(withPyramid.spec.innerChunk, spec.innerChunk);
    assert.equal(withPyramid.spec.multiscale?.levels, 'auto');
    // A volume written with other shards, or none, is not reopened with these.
    await openZarrVolume({ ...spec, innerChunk: undefined, chunk: { x: 64, y: 64, z: 4 } }, EXTENT);
    await assert.rejects(
      openZarrVolume(spec, EXTENT),
      /chunk_grid is .*\[4,64,64\].* but this job writes .*\[4,128,256\]/,
    );
  });

  it("without chunk_size: the volume's own chunks, else the Boss cuboid, as deep as a time series", async () => {
    const resolveChunk = async (volumePath: string, extent: Extent, chunk_size?: ChunkShape) => {
      const config = {
        client: { backend: { name: 'zarr', path: volumePath, ...(chunk_size ? { chunk_size } : {}) } },
      } as unknown as JobConfig;
      return (await zarrDestination.resolve(config, { extent, datatype: 'uint8' })).spec;
    };
    const fresh = path.join(dir, 'fresh.ome.zarr');
    assert.deepEqual((await resolveChunk(fresh, EXTENT)).chunk, { x: 512, y: 512, z: 16 });
    const series: Extent = { ...EXTENT, t: [0, 40] };
    assert.deepEqual((await resolveChunk(fresh, series)).chunk, { x: 512, y: 512, z: 6 });
    assert.deepEqual((await resolveChunk(fresh, { ...series, z: [0, 40] })).chunk, {
      x: 512,
      y: 512,
      z: 16,
    });
    // A volume made with other chunks: a later job without chunk_size writes into it as it is.
    const made = await resolveChunk(path.join(dir, 'made.ome.zarr'), EXTENT, { x: 8, y: 4, z: 2 });
    await openZarrVolume(made, EXTENT);
    const later = await resolveChunk(made.path, { ...EXTENT, z: [6, 9] });
    assert.deepEqual(later.chunk, { x: 8, y: 4, z: 2 });
    await openZarrVolume(later, { ...EXTENT, z: [6, 9] });
  });

  it('a job larger than the kernel lets wait in the page cache writes its chunks past it, the same bytes', async () => {
    const threshold = writebackThreshold();
    assert.ok(threshold, 'Linux tells its writeback threshold in /proc/sys/vm');
    const chunk = { x: 512, y: 512, z: 16 };
    const chunkVoxels = chunk.x * chunk.y * chunk.z;
    const prepared = async (name: string, chunksAlongX: number) => {
      const extent: Extent = { x: [0, 512 * chunksAlongX], y: [0, 512], z: [0, 16], t: [0, 1] };
      const config = {
        client: { backend: { name: 'zarr', path: path.join(dir, name), chunk_size: chunk } },
      } as unknown as JobConfig;
      const { spec } = await zarrDestination.resolve(config, { extent, datatype: 'uint8' });
      return zarrDestination.prepare(spec, extent);
    };
    const large = await prepared('large.ome.zarr', Math.ceil(threshold / chunkVoxels) + 1);
    const small = await prepared('small.ome.zarr', 2);
    assert.equal(large.directIo, true);
    assert.equal(small.directIo, undefined);
    // Noise, which blosc stores as is: a 4 MiB chunk file.
    let seed = 7;
    const samples = new Uint8Array(chunkVoxels).map(() => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24);
    const coord: ChunkCoord = { t: 0, z: 0, y: 0, x: 1 };
    const box = { ...wholeChunk(chunk, coord), coord };
    const cached = (file: string) =>
      Number(
        execFileSync('fincore', ['--bytes', '--noheadings', '--raw', '-o', 'RES', file], {
          encoding: 'utf8',
        }),
      );
    for (const v of [large, small]) await zarrDestination.write(v, box, samples);
    const [largeFile, smallFile] = [large, small].map((v) => chunkFile(v, coord));
    assert.ok(
      cached(largeFile!) <= 64 * 1024,
      `${cached(largeFile!)} bytes of the large job's chunk in the page cache`,
    );
    assert.equal(cached(smallFile!), Math.ceil(fs.statSync(smallFile!).size / 4096) * 4096);
    assert.ok(fs.readFileSync(largeFile!).equals(fs.readFileSync(smallFile!)), 'the chunk files differ');
    assert.deepEqual(new Uint8Array((await readZarrChunk(large, coord))!), samples);
  });

  it('takes a pyramid with the defaults for what the config leaves out', async () => {
    const config = {
      client: { backend: { name: 'zarr', path: path.join(dir, 'v'), multiscale: { method: 'mode' } } },
    } as unknown as JobConfig;
    const { spec } = await zarrDestination.resolve(config, { extent: EXTENT, datatype: 'uint8' });
    assert.deepEqual(spec.multiscale, { levels: 'auto', method: 'mode', downsample: 'anisotropic' });
  });

  it('stores chunk (z, y, x) at 0/c/z/y/x', () => {
    const v = volume('uint8', 'none');
    assert.equal(chunkFile(v, { t: 0, z: 3, y: 1, x: 2 }), path.join(v.path, '0', 'c', '3', '1', '2'));
    const vt = volume('uint8', 'none', { timeAxis: true });
    assert.equal(chunkFile(vt, { t: 5, z: 3, y: 1, x: 2 }), path.join(v.path, '0', 'c', '5', '3', '1', '2'));
  });

  it('with timeAxis, has 4 axes t, z, y, x and one time point per chunk', async () => {
    const v = volume('uint16', 'zstd', { timeAxis: true });
    const extent: Extent = { ...EXTENT, t: [0, 3] };
    await openZarrVolume(v, extent);
    const written: ChunkCoord[] = [
      { t: 2, z: 1, y: 0, x: 0 },
      { t: 0, z: 0, y: 1, x: 2 },
    ];
    for (const coord of written) await writeZarrChunk(v, whole(coord), chunkSamples(v, coord));
    const { array } = await readArray(v);
    assert.deepEqual(array.shape, [3, 6, 10, 20]);
    assert.deepEqual(array.chunks, [1, CHUNK.z, CHUNK.y, CHUNK.x]);
    assert.deepEqual(array.dimensionNames, ['t', 'z', 'y', 'x']);
    const group = await zarr.open(openStore(v), { kind: 'group' });
    const ome = group.attrs.ome as { multiscales: { axes: { name: string; type: string }[] }[] };
    assert.deepEqual(
      ome.multiscales[0]!.axes.map((a) => [a.name, a.type]),
      [
        ['t', 'time'],
        ['z', 'space'],
        ['y', 'space'],
        ['x', 'space'],
      ],
    );
    await assertVolume(v, [3, 6, 10, 20], written);
  });

  describe('reopening an existing volume', () => {
    it('refuses a different datatype with a VolumeError naming data_type', async () => {
      await openZarrVolume(volume('uint8', 'blosc'), EXTENT);
      await assert.rejects(openZarrVolume(volume('uint16', 'blosc'), EXTENT), (err: unknown) => {
        assert.ok(err instanceof VolumeError);
        assert.match(err.message, /data_type/);
        assert.match(err.message, /uint8/);
        assert.match(err.message, /uint16/);
        return true;
      });
    });

    it('refuses a different compressor, chunk shape or time axis, naming the field', async () => {
      await openZarrVolume(volume('uint8', 'blosc'), EXTENT);
      await assert.rejects(
        openZarrVolume(volume('uint8', 'zstd'), EXTENT),
        (err: unknown) => err instanceof VolumeError && /codecs/.test(err.message),
      );
      await assert.rejects(
        openZarrVolume(volume('uint8', 'blosc', { chunk: { x: 8, y: 6, z: 2 } }), EXTENT),
        (err: unknown) => err instanceof VolumeError && /chunk_grid/.test(err.message),
      );
      await assert.rejects(
        openZarrVolume(volume('uint8', 'blosc', { timeAxis: true }), EXTENT),
        (err: unknown) => err instanceof VolumeError && /chunk_grid|dimension_names/.test(err.message),
      );
    });

    it('grows the shape for a bigger extent and keeps the chunks already written', async () => {
      const v = volume('uint16', 'blosc');
      await openZarrVolume(v, EXTENT);
      const first: ChunkCoord = { t: 0, z: 1, y: 1, x: 2 };
      await writeZarrChunk(v, whole(first), chunkSamples(v, first));
      const bigger: Extent = { x: [16, 30], y: [0, 13], z: [4, 9], t: [0, 1] };
      await openZarrVolume(v, bigger);
      const second: ChunkCoord = { t: 0, z: 2, y: 2, x: 3 };
      await writeZarrChunk(v, whole(second), chunkSamples(v, second));
      await assertVolume(v, [9, 13, 30], [first, second]);
    });

    it('never shrinks the shape for a smaller extent', async () => {
      const v = volume('uint8', 'none');
      await openZarrVolume(v, EXTENT);
      await openZarrVolume(v, { x: [0, 4], y: [0, 4], z: [0, 12], t: [0, 1] });
      const { array } = await readArray(v);
      assert.deepEqual(array.shape, [12, 10, 20]);
    });

    it('refuses a directory with a group but no array, and unreadable metadata', async () => {
      const v = volume('uint8', 'none');
      fs.mkdirSync(v.path, { recursive: true });
      fs.writeFileSync(
        path.join(v.path, 'zarr.json'),
        JSON.stringify({ zarr_format: 3, node_type: 'group' }),
      );
      await assert.rejects(
        openZarrVolume(v, EXTENT),
        (err: unknown) => err instanceof VolumeError && /array 0/.test(err.message),
      );
      fs.mkdirSync(path.join(v.path, '0'));
      fs.writeFileSync(path.join(v.path, '0', 'zarr.json'), '{ not json');
      await assert.rejects(
        openZarrVolume(v, EXTENT),
        (err: unknown) =>
          err instanceof VolumeError && err.message.includes(path.join(v.path, '0', 'zarr.json')),
      );
    });
  });

  it('writes chunks atomically: no temporary files are left and a rewrite replaces the chunk', async () => {
    const v = volume('uint16', 'zstd');
    await openZarrVolume(v, EXTENT);
    const coord: ChunkCoord = { t: 0, z: 0, y: 1, x: 1 };
    await writeZarrChunk(v, whole(coord), new Uint8Array(CHUNK.x * CHUNK.y * CHUNK.z * 2).fill(7));
    await Promise.all(
      [0, 1, 2].map((x) =>
        writeZarrChunk(v, whole({ t: 0, z: 1, y: 0, x }), chunkSamples(v, { t: 0, z: 1, y: 0, x })),
      ),
    );
    await writeZarrChunk(v, whole(coord), chunkSamples(v, coord));
    const files = listFiles(v.path);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.tmp')),
      [],
    );
    const chunkFiles = files.filter((f) => f.includes(`${path.sep}c${path.sep}`) && fs.statSync(f).isFile());
    assert.equal(chunkFiles.length, 4);
    await assertVolume(v, [6, 10, 20], [coord, ...[0, 1, 2].map((x) => ({ t: 0, z: 1, y: 0, x }))]);
  });

  it('can write again after the volume was deleted and recreated at the same path in the same process', async () => {
    const v = volume('uint8', 'none');
    const coord: ChunkCoord = { t: 0, z: 0, y: 0, x: 0 };
    await openZarrVolume(v, EXTENT);
    await writeZarrChunk(v, whole(coord), chunkSamples(v, coord));
    fs.rmSync(v.path, { recursive: true });
    await openZarrVolume(v, EXTENT);
    await writeZarrChunk(v, whole(coord), chunkSamples(v, coord));
    await assertVolume(v, [6, 10, 20], [coord]);
  });

  describe('jobs sharing a volume', () => {
    it('writers of different slices of one chunk at the same time each keep their slices', async () => {
      const v = volume('uint16', 'blosc');
      await openZarrVolume(v, EXTENT);
      const coord: ChunkCoord = { t: 0, z: 0, y: 0, x: 0 };
      const full = chunkSamples(v, coord);
      // Four writers, one z slice each, repeated: without the chunk lock, the last one to write
      // would erase the slices the others wrote since it read the chunk.
      for (let round = 0; round < 5; round++) {
        fs.rmSync(chunkFile(v, coord), { force: true });
        await Promise.all(
          [0, 1, 2, 3].map(async (z) => {
            const box: ChunkBox = { ...whole(coord), z: [z, z + 1] };
            const samples = new Uint8Array(full.length);
            const slice = CHUNK.x * CHUNK.y * 2;
            samples.set(full.subarray(z * slice, (z + 1) * slice), z * slice);
            await writeZarrChunk(v, box, samples);
          }),
        );
        await assertVolume(v, [6, 10, 20], [coord]);
      }
      assert.deepEqual(fs.readdirSync(path.join(v.path, LOCK_DIR)), [], 'every lock was released');
    });

    it('jobs opening the volume together never shrink what another grew', async () => {
      const v = volume('uint8', 'none');
      const extents: Extent[] = [6, 12, 18, 24, 30].map((n, i) => ({
        x: [0, n],
        y: [0, 40 - n],
        z: [0, 2 + i],
        t: [0, 1],
      }));
      await Promise.all(extents.map((e) => openZarrVolume(v, e)));
      const { array } = await readArray(v);
      assert.deepEqual(array.shape, [6, 34, 30]);
    });
  });

  describe('codecs', () => {
    for (const compressor of ['none', 'zstd', 'blosc'] as Compressor[]) {
      it(`${compressor}: decode(encode(x)) is x${compressor === 'none' ? '' : ', and a uniform chunk shrinks'}`, async () => {
        const data = new Uint8Array(4096).map((_, i) => (i * 31) % 251);
        assert.deepEqual(
          new Uint8Array(await decodeChunk(compressor, await encodeChunk(compressor, data))),
          data,
        );
        const uniform = new Uint8Array(65536).fill(9);
        const encoded = await encodeChunk(compressor, uniform);
        assert.deepEqual(new Uint8Array(await decodeChunk(compressor, encoded)), uniform);
        if (compressor !== 'none') assert.ok(encoded.length < uniform.length / 10, `${encoded.length} bytes`);
      });
    }
  });
});
