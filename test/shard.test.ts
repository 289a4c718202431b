// Unit tests of Zarr v3 sharding (src/destinations/shard.ts): shards we write are read back exactly
// by zarr-python, shards zarr-python writes are read exactly by us, and a read-modify-write keeps
// every inner chunk it does not replace.
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Compressor } from '../src/config/types.js';
import { decodeChunk, encodeChunk } from '../src/destinations/codec.js';
import { crc32c } from '../src/destinations/crc32c.js';
import {
  chunksPerShard,
  decodeShard,
  encodeShard,
  mergeShard,
  shardingCodecs,
  shardOf,
  ShardError,
} from '../src/destinations/shard.js';
import {
  chunkFile,
  openZarrVolume,
  readZarrChunk,
  writeZarrShard,
  type ZarrVolume,
} from '../src/destinations/zarr.js';
import { wholeChunk, type ChunkBox, type ChunkShape, type Extent } from '../src/extent/grid.js';
import { openZarr } from '../src/volumes/zarr.js';
import { readWithZarrPython, runPython, tempDir } from './harness/env.js';

const value = (x: number, y: number, z: number) => (7 * x + 13 * y + 31 * z + 1) % 251;

const CHUNK: ChunkShape = { x: 4, y: 3, z: 2 };
const SHARD: ChunkShape = { x: 8, y: 6, z: 4 };
/** (z, y, x): partial shards and partial inner chunks at the far edges. */
const SHAPE = [7, 11, 19] as const;
const COMPRESSORS: Compressor[] = ['none', 'zstd', 'blosc'];

/** Inner chunk (cx, cy, cz) as uint16 samples: the formula inside `box`, 0 elsewhere. */
function chunkSamples(cx: number, cy: number, cz: number, box: number[][]): Uint8Array {
  const out = new Uint16Array(CHUNK.x * CHUNK.y * CHUNK.z);
  for (let z = 0; z < CHUNK.z; z++)
    for (let y = 0; y < CHUNK.y; y++)
      for (let x = 0; x < CHUNK.x; x++) {
        const [ax, ay, az] = [cx * CHUNK.x + x, cy * CHUNK.y + y, cz * CHUNK.z + z];
        const inside = [az, ay, ax].every((v, i) => v >= box[i]![0]! && v < box[i]![1]!);
        if (inside) out[(z * CHUNK.y + y) * CHUNK.x + x] = value(ax, ay, az);
      }
  return new Uint8Array(out.buffer);
}

const PER = chunksPerShard(SHARD, CHUNK);

/** A sharded uint16 volume as the zarr destination resolves one: the job writes whole shards. */
function shardedVolume(at: string, compressor: Compressor): ZarrVolume {
  return {
    name: 'zarr',
    path: at,
    datatype: 'uint16',
    compressor,
    chunk: SHARD,
    innerChunk: CHUNK,
    timeAxis: false,
  };
}
const COUNT = PER.x * PER.y * PER.z;
const grid = (n: number, size: number) => Math.ceil(n / size);

describe('Zarr v3 sharding', function () {
  let dir: string;
  before(() => (dir = tempDir('shard')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const compressor of COMPRESSORS) {
    it(`${compressor}: zarr-python reads the shards we write exactly, unwritten inner chunks as 0`, async () => {
      const volume = path.join(dir, `ours-${compressor}`);
      mkdirSync(path.join(volume, '0'), { recursive: true });
      writeFileSync(
        path.join(volume, 'zarr.json'),
        JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: {} }),
      );
      writeFileSync(
        path.join(volume, '0', 'zarr.json'),
        JSON.stringify({
          zarr_format: 3,
          node_type: 'array',
          shape: SHAPE,
          data_type: 'uint16',
          chunk_grid: { name: 'regular', configuration: { chunk_shape: [SHARD.z, SHARD.y, SHARD.x] } },
          chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
          fill_value: 0,
          codecs: shardingCodecs(compressor, 2, [CHUNK.z, CHUNK.y, CHUNK.x]),
          dimension_names: ['z', 'y', 'x'],
        }),
      );
      // The written box leaves whole inner chunks out, in some shards all of them.
      const box = [
        [0, 7],
        [0, 11],
        [0, 12],
      ];
      const shards = new Map<string, (Uint8Array | undefined)[]>();
      for (let cz = 0; cz < grid(SHAPE[0], CHUNK.z); cz++)
        for (let cy = 0; cy < grid(SHAPE[1], CHUNK.y); cy++)
          for (let cx = 0; cx < grid(12, CHUNK.x); cx++) {
            const { shard, inner } = shardOf({ t: 0, z: cz, y: cy, x: cx }, PER);
            const key = [shard.z, shard.y, shard.x].join('/');
            const list = shards.get(key) ?? new Array<Uint8Array | undefined>(COUNT).fill(undefined);
            list[inner] = await encodeChunk(compressor, chunkSamples(cx, cy, cz, box));
            shards.set(key, list);
          }
      let files = 0;
      for (const [key, chunks] of shards) {
        const file = path.join(volume, '0', 'c', ...key.split('/'));
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, encodeShard(chunks)!);
        files++;
      }
      const read = await readWithZarrPython(volume);
      assert.deepEqual(read.shape, SHAPE);
      assert.deepEqual(read.chunks, [CHUNK.z, CHUNK.y, CHUNK.x]);
      assert.deepEqual(read.shards, [SHARD.z, SHARD.y, SHARD.x]);
      const [Z, Y, X] = SHAPE;
      let mismatches = 0;
      for (let z = 0; z < Z; z++)
        for (let y = 0; y < Y; y++)
          for (let x = 0; x < X; x++) {
            const want = x < 12 ? value(x, y, z) : 0;
            if (read.data.readUInt16LE(2 * ((z * Y + y) * X + x)) !== want) mismatches++;
          }
      assert.equal(mismatches, 0);
      assert.ok(
        files < (grid(Z, CHUNK.z) * grid(Y, CHUNK.y) * grid(12, CHUNK.x)) / 4,
        'far fewer files than chunks',
      );
    });

    it(`${compressor}: we read the shards zarr-python writes exactly, its empty inner chunks as absent`, async () => {
      const volume = path.join(dir, `theirs-${compressor}`);
      const box = [
        [1, 6],
        [2, 11],
        [0, 9],
      ];
      const params = {
        dtype: 'uint16',
        shape: SHAPE,
        chunks: [CHUNK.z, CHUNK.y, CHUNK.x],
        shards: [SHARD.z, SHARD.y, SHARD.x],
        compressor,
        box,
      };
      writeFileSync(`${volume}.json`, JSON.stringify(params));
      await runPython('write_sharded.py', [volume, `${volume}.json`]);
      let present = 0;
      let absent = 0;
      for (let sz = 0; sz < grid(SHAPE[0], SHARD.z); sz++)
        for (let sy = 0; sy < grid(SHAPE[1], SHARD.y); sy++)
          for (let sx = 0; sx < grid(SHAPE[2], SHARD.x); sx++) {
            let bytes: Uint8Array;
            try {
              bytes = readFileSync(path.join(volume, 'c', String(sz), String(sy), String(sx)));
            } catch {
              continue; // zarr-python writes no file for a shard it left empty
            }
            const chunks = decodeShard(bytes, COUNT);
            for (let i = 0; i < COUNT; i++) {
              const [dx, dy, dz] = [
                i % PER.x,
                Math.floor(i / PER.x) % PER.y,
                Math.floor(i / (PER.x * PER.y)),
              ];
              const [cx, cy, cz] = [sx * PER.x + dx, sy * PER.y + dy, sz * PER.z + dz];
              const expected = chunkSamples(cx, cy, cz, box);
              const stored = chunks[i];
              if (stored === undefined) {
                assert.ok(
                  expected.every((v) => v === 0),
                  `inner chunk (${cx}, ${cy}, ${cz}) is missing`,
                );
                absent++;
                continue;
              }
              assert.deepEqual(
                new Uint8Array(await decodeChunk(compressor, stored)),
                expected,
                `inner chunk (${cx}, ${cy}, ${cz})`,
              );
              present++;
            }
          }
      assert.ok(present > 0 && absent > 0, `both kinds seen: ${present} present, ${absent} absent`);
      assert.ok(readdirSync(path.join(volume, 'c')).length > 0);
    });
  }

  it("a sharded volume: two writers of one shard at once keep each other's voxels, zarr-python reads it exactly", async () => {
    const volume = shardedVolume(path.join(dir, 'sharded.ome.zarr'), 'blosc');
    const [Z, Y, X] = SHAPE;
    const extent = { x: [0, X], y: [0, Y], z: [0, Z], t: [0, 1] } as Extent;
    await openZarrVolume(volume, extent);
    /** The whole shard's samples: the formula inside `box`, junk the writer must not store elsewhere. */
    const shardSamples = (box: ChunkBox) => {
      const whole = wholeChunk(SHARD, box.coord);
      const out = new Uint16Array(SHARD.x * SHARD.y * SHARD.z).fill(0xbeef);
      for (let z = box.z[0]; z < box.z[1]; z++)
        for (let y = box.y[0]; y < box.y[1]; y++)
          for (let x = box.x[0]; x < box.x[1]; x++)
            out[((z - whole.z[0]) * SHARD.y + (y - whole.y[0])) * SHARD.x + (x - whole.x[0])] = value(
              x,
              y,
              z,
            );
      return new Uint8Array(out.buffer);
    };
    // Each shard is written by two writers at once, split at x = 5 (inside an inner chunk), so
    // both merge into an inner chunk the other writes too.
    const writes: Promise<unknown>[] = [];
    let shards = 0;
    for (let sz = 0; sz < grid(Z, SHARD.z); sz++)
      for (let sy = 0; sy < grid(Y, SHARD.y); sy++)
        for (let sx = 0; sx < grid(X, SHARD.x); sx++) {
          const coord = { t: 0, z: sz, y: sy, x: sx };
          const whole = wholeChunk(SHARD, coord);
          const clip = (r: [number, number], n: number): [number, number] => [r[0], Math.min(r[1], n)];
          const box = { ...whole, coord, x: clip(whole.x, X), y: clip(whole.y, Y), z: clip(whole.z, Z) };
          const split = Math.min(whole.x[0] + 5, box.x[1]);
          for (const x of [
            [box.x[0], split],
            [split, box.x[1]],
          ] as [number, number][])
            if (x[0] < x[1]) {
              const part = { ...box, x };
              writes.push(writeZarrShard(volume, part, shardSamples(part)));
            }
          shards++;
        }
    await Promise.all(writes);
    const read = await readWithZarrPython(volume.path);
    assert.deepEqual(read.shards, [SHARD.z, SHARD.y, SHARD.x]);
    assert.deepEqual(read.chunks, [CHUNK.z, CHUNK.y, CHUNK.x]);
    let mismatches = 0;
    for (let z = 0; z < Z; z++)
      for (let y = 0; y < Y; y++)
        for (let x = 0; x < X; x++)
          if (read.data.readUInt16LE(2 * ((z * Y + y) * X + x)) !== value(x, y, z)) mismatches++;
    assert.equal(mismatches, 0);
    const ours = await readZarrChunk(volume, { t: 0, z: 1, y: 1, x: 2 });
    const expected = shardSamples({
      ...wholeChunk(SHARD, { t: 0, z: 1, y: 1, x: 2 }),
      coord: { t: 0, z: 1, y: 1, x: 2 },
      z: [4, 7],
      y: [6, 11],
      x: [16, 19],
    });
    const outside = new Uint16Array(expected.buffer);
    for (let i = 0; i < outside.length; i++) if (outside[i] === 0xbeef) outside[i] = 0;
    assert.deepEqual(ours, expected, 'our reader: the edge shard, 0 beyond the array');
    // The zarr volume source (what a volumetric job reads) reads the sharded array too.
    const source = await openZarr({ location: volume.path });
    const box = await source.readBox({ x: [3, 19], y: [2, 11], z: [1, 7] });
    let sourceMismatches = 0;
    for (let z = 1; z < 7; z++)
      for (let y = 2; y < 11; y++)
        for (let x = 3; x < 19; x++)
          if (box[((z - 1) * 9 + (y - 2)) * 16 + (x - 3)] !== value(x, y, z)) sourceMismatches++;
    assert.equal(sourceMismatches, 0);
    const files = readdirSync(path.join(volume.path, '0', 'c'), {
      recursive: true,
      withFileTypes: true,
    }).filter((f) => f.isFile());
    assert.equal(files.length, shards);
    const chunks = grid(Z, CHUNK.z) * grid(Y, CHUNK.y) * grid(X, CHUNK.x);
    assert.ok(files.length * 4 <= chunks, `${files.length} shard files for ${chunks} chunks`);
  });

  it('a time series: shards of one time point, read back exactly by zarr-python', async () => {
    const volume = { ...shardedVolume(path.join(dir, 'series.ome.zarr'), 'blosc'), timeAxis: true };
    await openZarrVolume(volume, { x: [0, 8], y: [0, 6], z: [0, 4], t: [0, 2] });
    const coord = { t: 1, z: 0, y: 0, x: 0 };
    const box = { ...wholeChunk(SHARD, coord), coord };
    const samples = new Uint16Array(SHARD.x * SHARD.y * SHARD.z);
    for (let z = 0; z < SHARD.z; z++)
      for (let y = 0; y < SHARD.y; y++)
        for (let x = 0; x < SHARD.x; x++) samples[(z * SHARD.y + y) * SHARD.x + x] = value(x, y, z);
    await writeZarrShard(volume, box, new Uint8Array(samples.buffer));
    const read = await readWithZarrPython(volume.path);
    assert.deepEqual(read.shape, [2, SHARD.z, SHARD.y, SHARD.x]);
    assert.deepEqual(read.shards, [1, SHARD.z, SHARD.y, SHARD.x]);
    assert.deepEqual(read.chunks, [1, CHUNK.z, CHUNK.y, CHUNK.x]);
    const n = samples.length;
    const stored = Array.from({ length: 2 * n }, (_, i) => read.data.readUInt16LE(2 * i));
    assert.deepEqual(stored, [...new Array<number>(n).fill(0), ...samples], 't 0 is empty, t 1 the shard');
  });

  it("a shard written in part after a whole one: its inner chunks hold 0 outside the part, not the whole one's samples", async () => {
    const volume = shardedVolume(path.join(dir, 'after-whole.ome.zarr'), 'none');
    await openZarrVolume(volume, { x: [0, 16], y: [0, 6], z: [0, 4], t: [0, 1] });
    const samplesOf = (box: ChunkBox) => {
      const shard = wholeChunk(SHARD, box.coord);
      const out = new Uint16Array(SHARD.x * SHARD.y * SHARD.z);
      for (let z = 0; z < SHARD.z; z++)
        for (let y = 0; y < SHARD.y; y++)
          for (let x = 0; x < SHARD.x; x++)
            out[(z * SHARD.y + y) * SHARD.x + x] = value(shard.x[0] + x, y, z) + 1;
      return new Uint8Array(out.buffer);
    };
    // The first shard whole (its inner chunks' samples go back to the thread), then a part of the
    // second, new shard: x [8, 11), which cuts the inner chunks it touches.
    const first = { t: 0, z: 0, y: 0, x: 0 };
    await writeZarrShard(
      volume,
      { ...wholeChunk(SHARD, first), coord: first },
      samplesOf({ ...wholeChunk(SHARD, first), coord: first }),
    );
    const second = { t: 0, z: 0, y: 0, x: 1 };
    const part = { ...wholeChunk(SHARD, second), x: [8, 11] as [number, number], coord: second };
    await writeZarrShard(volume, part, samplesOf({ ...wholeChunk(SHARD, second), coord: second }));
    const stored = new Uint16Array((await readZarrChunk(volume, second))!.slice().buffer);
    for (let z = 0; z < SHARD.z; z++)
      for (let y = 0; y < SHARD.y; y++)
        for (let x = 0; x < SHARD.x; x++) {
          const want = x < 3 ? value(8 + x, y, z) + 1 : 0;
          assert.equal(stored[(z * SHARD.y + y) * SHARD.x + x], want, `voxel (${8 + x}, ${y}, ${z})`);
        }
  });

  it('an all-zero inner chunk is left out of its shard, and a shard of zeros leaves no file', async () => {
    const volume = shardedVolume(path.join(dir, 'zeros.ome.zarr'), 'zstd');
    await openZarrVolume(volume, { x: [0, 8], y: [0, 6], z: [0, 4], t: [0, 1] });
    const coord = { t: 0, z: 0, y: 0, x: 0 };
    const box = { ...wholeChunk(SHARD, coord), coord };
    const samples = new Uint16Array(SHARD.x * SHARD.y * SHARD.z);
    samples[0] = 5;
    await writeZarrShard(volume, box, new Uint8Array(samples.buffer));
    const file = chunkFile(volume, coord);
    const stored = decodeShard(readFileSync(file), COUNT);
    assert.deepEqual(
      stored.map((c) => c !== undefined),
      [true, ...new Array<boolean>(COUNT - 1).fill(false)],
    );
    await writeZarrShard(volume, box, new Uint8Array(SHARD.x * SHARD.y * SHARD.z * 2));
    assert.equal(existsSync(file), false);
    assert.equal(await readZarrChunk(volume, coord), undefined);
  });

  it('a read-modify-write replaces the given inner chunks and keeps the others byte for byte', () => {
    const chunks = [new Uint8Array([1, 2, 3]), undefined, new Uint8Array([4]), new Uint8Array([5, 6])];
    const shard = encodeShard(chunks)!;
    // The merged shard's buffers, written one after the other.
    const merged = new Uint8Array(
      Buffer.concat(
        mergeShard(
          shard,
          4,
          new Map([
            [1, new Uint8Array([9, 9])],
            [3, undefined],
          ]),
        )!,
      ),
    );
    assert.deepEqual(decodeShard(merged, 4), [chunks[0], new Uint8Array([9, 9]), chunks[2], undefined]);
    assert.equal(
      mergeShard(
        merged,
        4,
        new Map([
          [0, undefined],
          [1, undefined],
          [2, undefined],
        ]),
      ),
      undefined,
    );
    assert.throws(
      () => mergeShard(shard, 4, new Map([[4, new Uint8Array(1)]])),
      /outside a shard of 4 chunks/,
    );
  });

  it('a damaged index or a short shard is an error, not data', () => {
    const shard = encodeShard([new Uint8Array([1, 2, 3]), new Uint8Array([4])])!;
    const damaged = shard.slice();
    damaged[damaged.length - 10]! ^= 1;
    assert.throws(() => decodeShard(damaged, 2), ShardError);
    assert.throws(() => decodeShard(shard.subarray(0, 20), 2), /needs at least 36 bytes/);
  });

  it('crc32c gives the standard check value', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  });
});
