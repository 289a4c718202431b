/**
 * Several jobs filling one OME-Zarr volume at once, as users split a big stack over z: chunks
 * shared by two jobs keep both jobs' slices, also when a worker is killed -9 while it holds a
 * chunk's lock. Through the CLI, on a real dev server, read back with zarr-python.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Range } from '../src/config/types.js';
import { LOCK_DIR } from '../src/destinations/zarr.js';
import { syntheticVoxel } from '../src/plugins/synthetic.js';
import { syntheticConfig, writeConfig } from './harness/config.js';
import { isAlive, Processes, waitFor } from './harness/durability.js';
import { assertVolume, readWithZarrPython, tempDir, type TestServer, useDevServer } from './harness/env.js';

const X: Range = [0, 256];
const Y: Range = [0, 128];
/** z splits that fall inside chunks (8 deep): chunks z 8-16 and 24-32 are shared by two jobs. */
const SPLITS: Range[] = [
  [0, 13],
  [13, 29],
  [29, 40],
];

function chunkLocks(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith('0.c.') && f.endsWith('.lock')) : [];
}

describe('jobs sharing one volume', function () {
  this.timeout(300_000);
  let server: TestServer;
  let dir: string;
  const procs = new Processes();

  useDevServer('shared', (s, d) => {
    server = s;
    dir = d;
  });
  afterEach(() => procs.killAll());

  const conn = () => ['--address', server.address];

  /** The three jobs' configs, writing `out`; `bits` 16 with zstd makes each locked merge take a while. */
  function jobs(out: string, round: string, delayMs: number): string[] {
    return SPLITS.map((z, i) => {
      const config = syntheticConfig({
        out,
        extent: { x: X, y: Y, z },
        tile: { x: 64, y: 64 },
        chunk: { x: 128, y: 128, z: 8 },
        bits: 16,
        delayMs,
        engine: { chunks_per_batch: 1, window: 4 },
      });
      (config.client.backend as { compressor?: string }).compressor = 'zstd';
      return writeConfig(dir, `${round}-job${i}`, config);
    });
  }

  function startJobs(configs: string[]) {
    return configs.map((c) => procs.spawn(['start', c, '-f', '--wait', ...conn()], tempDir('client')));
  }

  async function assertExact(out: string): Promise<void> {
    const read = await readWithZarrPython(out);
    assertVolume(read, { x: X, y: Y, z: [0, 40] }, (x, y, z) => syntheticVoxel(16, x, y, z, 0));
  }

  it('three jobs splitting z at non-chunk boundaries, run together on two workers, repeated: voxel-exact', async () => {
    procs.spawn(['worker', ...conn()], tempDir('w1'));
    procs.spawn(['worker', ...conn()], tempDir('w2'));
    for (let round = 0; round < 3; round++) {
      const out = path.join(dir, `round${round}.ome.zarr`);
      const clients = startJobs(jobs(out, `r${round}`, 1));
      const codes = await Promise.all(clients.map((c) => c.exited));
      assert.deepEqual(codes, [0, 0, 0], clients.map((c) => c.stdout() + c.stderr()).join('\n'));
      await assertExact(out);
      assert.deepEqual(readdirSync(path.join(out, LOCK_DIR)), [], 'every lock released');
    }
  });

  it('a worker killed -9 while it holds a chunk lock: the lock is taken over and the jobs end voxel-exact', async () => {
    const out = path.join(dir, 'killed.ome.zarr');
    const locks = path.join(out, LOCK_DIR);
    const clients = startJobs(jobs(out, 'kill', 1));
    let killedHolding = false;
    for (let attempt = 0; attempt < 10 && !killedHolding; attempt++) {
      const worker = procs.spawn(['worker', ...conn()], tempDir(`victim${attempt}`));
      // Kill the moment a chunk lock exists; the lock file left behind proves it was held.
      await waitFor('a chunk lock', 60_000, () => (chunkLocks(locks).length > 0 ? true : undefined), 2);
      worker.child.kill('SIGKILL');
      await worker.exited;
      killedHolding = chunkLocks(locks).length > 0;
      assert.ok(!isAlive(worker));
    }
    assert.ok(killedHolding, 'no attempt killed the worker while it held a chunk lock');
    procs.spawn(['worker', ...conn()], tempDir('rescuer'));
    const codes = await Promise.all(clients.map((c) => c.exited));
    assert.deepEqual(codes, [0, 0, 0], clients.map((c) => c.stdout() + c.stderr()).join('\n'));
    await assertExact(out);
  });
});
