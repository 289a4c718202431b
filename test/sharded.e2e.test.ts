/**
 * Sharded volumes (`client.backend.shard_size`) end to end, through the CLI on a real dev server,
 * read back with zarr-python: exact, far fewer files than chunks, jobs over part of a shard keep
 * what it holds, jobs sharing shards lose nothing, and a killed worker leaves no half shard.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Range } from '../src/config/types.js';
import { chunksPerShard, decodeShard } from '../src/destinations/shard.js';
import { LOCK_DIR } from '../src/destinations/zarr.js';
import { syntheticVoxel } from '../src/plugins/synthetic.js';
import { syntheticConfig, writeConfig, type SyntheticJob } from './harness/config.js';
import { chunkFiles, isAlive, Processes, waitFor } from './harness/durability.js';
import {
  assertVolume,
  cli,
  readWithZarrPython,
  tempDir,
  type TestServer,
  useDevServer,
} from './harness/env.js';

const CHUNK = { x: 64, y: 64, z: 8 };
const SHARD = { x: 256, y: 128, z: 16 };
const INNER_PER_SHARD = 4 * 2 * 2;

/** A synthetic job into a sharded uint16 volume; `bits` 8 writes other values than 16 does. */
function shardedConfig(job: Omit<SyntheticJob, 'tile' | 'chunk'> & { tile?: SyntheticJob['tile'] }) {
  const config = syntheticConfig({ tile: { x: 64, y: 64 }, ...job, chunk: CHUNK });
  Object.assign(config.client.backend, { shard_size: SHARD, datatype: 'uint16', compressor: 'zstd' });
  return config;
}

/** Every shard file on disk is a whole shard: its index's checksum holds and its chunks lie inside it. */
function assertWholeShards(out: string): number {
  const files = chunkFiles(out);
  for (const file of files) decodeShard(readFileSync(file), INNER_PER_SHARD);
  return files.length;
}

describe('sharded volumes', function () {
  this.timeout(300_000);
  let server: TestServer;
  let dir: string;
  const procs = new Processes();

  useDevServer('sharded', (s, d) => {
    server = s;
    dir = d;
  });
  afterEach(() => procs.killAll());

  const conn = () => ['--address', server.address];
  const v16 = (x: number, y: number, z: number) => syntheticVoxel(16, x, y, z, 0);

  it('run: zarr-python reads the shards back exactly, inner chunks as configured, far fewer files than chunks', async () => {
    assert.equal(chunksPerShard(SHARD, CHUNK).x * 2 * 2, INNER_PER_SHARD);
    const out = path.join(dir, 'run.ome.zarr');
    const extent = { x: [30, 700] as Range, y: [0, 300] as Range, z: [3, 40] as Range };
    const config = writeConfig(dir, 'run', shardedConfig({ out, extent, bits: 16 }));
    const res = await cli(['run', config, '-f', ...conn()], server.home);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    // The job's chunks are its shards: 3 x 3 x 3 of them.
    assert.match(res.stdout, /completed: 27\/27 chunks/);
    const read = await readWithZarrPython(out);
    assert.deepEqual(read.shape, [40, 300, 700]);
    assert.deepEqual(read.shards, [16, 128, 256]);
    assert.deepEqual(read.chunks, [8, 64, 64]);
    assertVolume(read, extent, v16);
    const files = assertWholeShards(out);
    const chunks = 5 * 5 * 11;
    assert.equal(files, 27);
    assert.ok(files * 8 <= chunks, `${files} files for ${chunks} chunks`);
  });

  it('a job over part of the shards of a filled volume replaces its extent and keeps the rest', async () => {
    const out = path.join(dir, 'part.ome.zarr');
    const full = { x: [0, 600] as Range, y: [0, 300] as Range, z: [0, 40] as Range };
    // Starts and stops inside inner chunks and shards on every axis.
    const part = { x: [100, 450] as Range, y: [70, 200] as Range, z: [5, 29] as Range };
    for (const [name, extent, bits] of [
      ['full', full, 16],
      ['part', part, 8],
    ] as const) {
      const config = writeConfig(dir, `part-${name}`, shardedConfig({ out, extent, bits }));
      const res = await cli(['run', config, '-f', ...conn()], server.home);
      assert.equal(res.code, 0, `${name}: ${res.stdout}\n${res.stderr}`);
    }
    const inPart = (x: number, y: number, z: number) =>
      x >= part.x[0] && x < part.x[1] && y >= part.y[0] && y < part.y[1] && z >= part.z[0] && z < part.z[1];
    const read = await readWithZarrPython(out);
    assertVolume(read, full, (x, y, z) => (inPart(x, y, z) ? syntheticVoxel(8, x, y, z, 0) : v16(x, y, z)));
  });

  it('three jobs splitting every shard and inner chunk, run at once on two workers, repeated: nothing lost', async () => {
    procs.spawn(['worker', ...conn()], tempDir('w1'));
    procs.spawn(['worker', ...conn()], tempDir('w2'));
    const x: Range = [0, 512];
    const y: Range = [0, 256];
    // Splits inside the one layer of shards (z 0-16) and inside its inner chunks (z 0-8, 8-16):
    // every shard, and most inner chunks, are written by two or three jobs.
    const splits: Range[] = [
      [0, 5],
      [5, 11],
      [11, 16],
    ];
    for (let round = 0; round < 2; round++) {
      const out = path.join(dir, `shared${round}.ome.zarr`);
      const clients = splits.map((z, i) => {
        const config = shardedConfig({
          out,
          extent: { x, y, z },
          bits: 16,
          delayMs: 1,
          engine: { chunks_per_batch: 1, window: 4 },
        });
        const file = writeConfig(dir, `shared${round}-${i}`, config);
        return procs.spawn(['start', file, '-f', '--wait', ...conn()], tempDir('client'));
      });
      const codes = await Promise.all(clients.map((c) => c.exited));
      assert.deepEqual(codes, [0, 0, 0], clients.map((c) => c.stdout() + c.stderr()).join('\n'));
      assertVolume(await readWithZarrPython(out), { x, y, z: [0, 16] }, v16);
      assert.deepEqual(readdirSync(path.join(out, LOCK_DIR)), [], 'every lock released');
    }
  });

  it('a worker killed -9 mid-job leaves whole shards only; a new worker finishes the job exactly', async () => {
    const out = path.join(dir, 'killed.ome.zarr');
    const extent = { x: [0, 512] as Range, y: [0, 256] as Range, z: [0, 48] as Range };
    const total = 2 * 2 * 3;
    const config = writeConfig(
      dir,
      'killed',
      shardedConfig({ out, extent, bits: 16, delayMs: 40, engine: { chunks_per_batch: 2, window: 4 } }),
    );
    const env = { BOSS_INGEST_THREADS: '2' };
    const victim = procs.spawn(['worker', ...conn()], tempDir('victim'), env);
    const client = procs.spawn(['start', config, '-f', '--wait', ...conn()], tempDir('client'));
    await waitFor('shards on disk', 120_000, () => chunkFiles(out).length >= 2, 50);
    victim.child.kill('SIGKILL');
    await victim.exited;
    assert.ok(!isAlive(victim));
    const onDisk = assertWholeShards(out);
    assert.ok(
      onDisk < total,
      `the job was still running when the worker was killed (${onDisk}/${total} shards)`,
    );
    procs.spawn(['worker', ...conn()], tempDir('rescuer'), env);
    assert.equal(await client.exited, 0, client.stdout() + client.stderr());
    assert.match(client.stdout(), new RegExp(`completed: ${total}/${total} chunks`));
    assert.equal(assertWholeShards(out), total);
    assertVolume(await readWithZarrPython(out), extent, v16);
  });
});
