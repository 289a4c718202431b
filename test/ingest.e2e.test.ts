/**
 * End-to-end jobs on a real Temporal dev server, through the commands a user runs, read back with
 * zarr-python and compared with the source voxel for voxel.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { installedTemporalCli } from '../src/server/embedded.js';
import { WORKFLOWS_PATH } from '../src/worker/bundle.js';
import { stackConfig, stackSpec, tileFile, voxel, writeStack, type StackSpec } from './fixtures/stack.js';
import { batchWorkers } from './harness/history.js';
import {
  assertVolume,
  cli,
  jobIdOf,
  readWithZarrPython,
  spawnCli,
  stopCli,
  tempDir,
  type TestServer,
  useDevServer,
} from './harness/env.js';
import { writeConfig as writeConfigIn } from './harness/config.js';

const run = promisify(execFile);

describe('ingest jobs on a real Temporal dev server', function () {
  this.timeout(180_000);
  let server: TestServer;
  let dir: string;

  useDevServer('e2e', (s, d) => {
    server = s;
    dir = d;
  });

  const writeConfig = (name: string, config: object) => writeConfigIn(dir, name, config);

  const conn = () => ['--address', server.address];

  it('run: a CATMAID 8-bit stack with a non-aligned extent and smaller edge tiles lands voxel-exact', async () => {
    const spec: StackSpec = stackSpec(path.join(dir, 'c8'), 'catmaid1', [1100, 700, 20], 8);
    await writeStack(spec);
    const extent = {
      x: [100, 1100] as [number, number],
      y: [0, 700] as [number, number],
      z: [3, 20] as [number, number],
    };
    const config = writeConfig('c8', stackConfig(spec, { ...extent, t: [0, 1] } as never));
    const out = path.join(dir, 'c8.ome.zarr');
    const res = await cli(['run', config, '--output', out, '-f', ...conn()], server.home);
    assert.equal(res.code, 0, `exit code ${res.code}\n${res.stdout}\n${res.stderr}`);
    const jobId = jobIdOf(res.stdout);
    assert.match(res.stdout, /completed: 12\/12 chunks/);

    const read = await readWithZarrPython(out);
    assert.deepEqual(
      read.shape,
      [20, 700, 1100],
      'the array reaches the extent stop in absolute coordinates',
    );
    assert.equal(read.dtype, 'uint8');
    assert.deepEqual(read.chunks, [16, 512, 512]);
    assert.equal(read.ome.version, '0.5');
    assert.deepEqual(read.dimension_names, ['z', 'y', 'x']);
    assertVolume(read, extent, (x, y, z) => voxel(spec, x, y, z));

    const status = await cli(['status', '-j', jobId, '--json', ...conn()], server.home);
    const report = JSON.parse(status.stdout) as {
      status: string;
      progress: { state: string; doneChunks: number; failedChunks: number; voxelsWritten: number };
    };
    assert.equal(report.status, 'COMPLETED');
    assert.equal(report.progress.state, 'completed');
    assert.equal(report.progress.doneChunks, 12);
    assert.equal(report.progress.failedChunks, 0);
    assert.equal(report.progress.voxelsWritten, 1000 * 700 * 17);

    // The workflow code replays its own history deterministically.
    const connection = await Connection.connect({ address: server.address });
    try {
      const history = await new Client({ connection }).workflow.getHandle(jobId).fetchHistory();
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, jobId);
    } finally {
      await connection.close();
    }
  });

  it('run -p 2: a 16-bit z-index stack is cropped per tile and keeps all 16 bits', async () => {
    const spec: StackSpec = stackSpec(path.join(dir, 'z16'), 'zindex', [1300, 900, 18], 16);
    await writeStack(spec);
    const config = writeConfig('z16', stackConfig(spec));
    const out = path.join(dir, 'z16.ome.zarr');
    const res = await cli(['run', config, '--output', out, '-p', '2', '-f', ...conn()], server.home);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    const read = await readWithZarrPython(out);
    assert.equal(read.dtype, 'uint16', 'the datatype comes from the 16-bit tiles');
    assert.deepEqual(read.shape, [18, 900, 1300]);
    assertVolume(read, { x: [0, 1300], y: [0, 900], z: [0, 18] }, (x, y, z) => voxel(spec, x, y, z));
  });

  it('run: CATMAID type 5 with 16-bit TIFF tiles padded at the edges, zstd, into an explicit uint16 volume', async () => {
    const spec: StackSpec = {
      root: path.join(dir, 't5'),
      layout: 'catmaid5',
      width: 700,
      height: 600,
      depth: 17,
      tile: { x: 256, y: 256 },
      bits: 16,
      filetype: 'tif',
      padEdges: true,
      resolution: 2,
    };
    await writeStack(spec);
    const config = stackConfig(spec) as { client: { backend: unknown } };
    config.client.backend = {
      name: 'zarr',
      path: path.join(dir, 't5.ome.zarr'),
      datatype: 'uint16',
      compressor: 'zstd',
    };
    const res = await cli(['run', writeConfig('t5', config), '-f', ...conn()], server.home);
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    const read = await readWithZarrPython(path.join(dir, 't5.ome.zarr'));
    assertVolume(read, { x: [0, 700], y: [0, 600], z: [0, 17] }, (x, y, z) => voxel(spec, x, y, z));
  });

  it('a corrupt tile fails only its chunk: exit 1 naming the file, every other chunk written', async () => {
    const spec: StackSpec = stackSpec(path.join(dir, 'bad'), 'catmaid1', [1024, 1024, 32], 8);
    await writeStack(spec);
    const bad = tileFile(spec, 1, 0, 20);
    truncateSync(bad, 200);
    const out = path.join(dir, 'bad.ome.zarr');
    const res = await cli(
      ['run', writeConfig('bad', stackConfig(spec)), '--output', out, '-f', ...conn()],
      server.home,
    );
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.ok(res.stdout.includes(bad), `the output names ${bad}:\n${res.stdout}`);
    assert.match(res.stdout, /completed_with_errors: 8\/8 chunks .* 1 failed/);
    const read = await readWithZarrPython(out);
    // The chunk holding the bad tile (z 16-31, y 0-511, x 512-1023) is not written; all others are exact.
    const inBadChunk = (x: number, y: number, z: number) => z >= 16 && y < 512 && x >= 512;
    assertVolume(
      read,
      { x: [0, 1024], y: [0, 1024], z: [0, 32] },
      (x, y, z) => voxel(spec, x, y, z),
      inBadChunk,
    );
    let nonZero = 0;
    for (let z = 16; z < 32; z++)
      for (let y = 0; y < 512; y++)
        for (let x = 512; x < 1024; x++) nonZero += read.data[(z * 1024 + y) * 1024 + x] === 0 ? 0 : 1;
    assert.equal(nonZero, 0, 'nothing was written in the failed chunk');
  });

  it('a bad config exits 2 naming the JSON path, and starts no job', async () => {
    const spec: StackSpec = stackSpec(path.join(dir, 'c8'), 'catmaid1', [1100, 700, 20], 8);
    const config = stackConfig(spec) as { ingest_job: { extent: { x: number[] } } };
    config.ingest_job.extent.x = [500, 100];
    const res = await cli(
      ['run', writeConfig('badconfig', config), '--output', path.join(dir, 'never.zarr'), '-f', ...conn()],
      server.home,
    );
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /ingest_job\.extent\.x: start \(500\) must be less than stop \(100\)/);
    assert.throws(() => statSync(path.join(dir, 'never.zarr')), 'nothing was written');
  });

  it('cancel mid-job: in-flight work stops, the job ends cancelled within 15 s, nothing is written after', async () => {
    const out = path.join(dir, 'cancel.ome.zarr');
    const config = writeConfig('cancel', {
      schema: { name: 'boss-v0.2-schema', validator: 'BossValidatorV02' },
      client: {
        backend: { name: 'zarr', path: out },
        path_processor: { class: 'boss_ingest.plugins.synthetic.SyntheticPathProcessor' },
        tile_processor: {
          class: 'boss_ingest.plugins.synthetic.SyntheticTileProcessor',
          params: { delay_ms: 40 },
        },
      },
      database: { collection: 'c', experiment: 'e', channel: 'ch' },
      ingest_job: {
        resolution: 0,
        ingest_type: 'tile',
        extent: { x: [0, 2048], y: [0, 2048], z: [0, 320], t: [0, 1] },
        tile_size: { x: 512, y: 512, z: 1, t: 1 },
      },
    });
    const worker = spawnCli(['worker', ...conn()], server.home);
    try {
      const waiting = spawnCli(['start', config, '--wait', '-f', ...conn()], server.home);
      let jobId = '';
      for (let i = 0; i < 100 && !jobId; i++) {
        await new Promise((r) => setTimeout(r, 100));
        try {
          jobId = jobIdOf(waiting.stdout());
        } catch {
          /* not printed yet */
        }
      }
      // Wait until chunks are being written, so activities are in flight when the cancel comes.
      for (let i = 0; i < 100; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const s = await cli(['status', '-j', jobId, '--json', ...conn()], server.home);
        if ((JSON.parse(s.stdout).progress?.doneChunks ?? 0) > 0) break;
      }
      const t0 = Date.now();
      const cancel = await cli(['cancel', '-j', jobId, '--reason', 'test cancel', ...conn()], server.home);
      assert.equal(cancel.code, 0, cancel.stderr);
      const code = await waiting.exited;
      const elapsed = Date.now() - t0;
      assert.equal(
        code,
        3,
        `start --wait exits 3 for a cancelled job\n${waiting.stdout()}\n${waiting.stderr()}`,
      );
      assert.ok(elapsed < 15_000, `cancel took ${elapsed} ms`);
      const ended = Date.now();

      const status = JSON.parse(
        (await cli(['status', '-j', jobId, '--json', ...conn()], server.home)).stdout,
      );
      assert.equal(status.status, 'CANCELLED');
      assert.equal(status.progress.state, 'cancelled');
      assert.equal(status.progress.cancelReason, 'test cancel');
      assert.ok(status.progress.doneChunks < status.progress.totalChunks, 'the job did not run to the end');

      // What was written stays, and nothing is written after the job is reported cancelled.
      await new Promise((r) => setTimeout(r, 3000));
      const files = listFiles(path.join(out, '0', 'c'));
      assert.equal(files.length, status.progress.doneChunks, 'every chunk counted as written is on disk');
      for (const f of files) assert.ok(statSync(f).mtimeMs <= ended, `${f} was written after the job ended`);
      assert.equal(worker.child.exitCode, null, 'the worker keeps serving other jobs');
    } finally {
      await stopCli(worker);
    }
  });

  it('a second worker joins a running job from another process', async () => {
    const spec: StackSpec = stackSpec(path.join(dir, 'join'), 'catmaid4', [2048, 1536, 48], 8);
    await writeStack(spec);
    const out = path.join(dir, 'join.ome.zarr');
    const config = stackConfig(spec) as Record<string, unknown>;
    config.engine = { chunks_per_batch: 1 };
    const other = spawnCli(['worker', ...conn()], tempDir('node2'));
    try {
      const res = await cli(
        ['run', writeConfig('join', config), '--output', out, '-f', ...conn()],
        server.home,
      );
      assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
      const workers = await batchWorkers(server.address, jobIdOf(res.stdout));
      assert.ok(
        workers.size >= 2,
        `batches ran on ${workers.size} worker(s): ${[...workers.keys()].join(', ')}`,
      );
      assert.ok(
        workers.has(`${other.child.pid}@${(await import('node:os')).hostname()}`),
        'the joining worker ran batches',
      );
      const read = await readWithZarrPython(out);
      assertVolume(read, { x: [0, 2048], y: [0, 1536], z: [0, 48] }, (x, y, z) => voxel(spec, x, y, z));
    } finally {
      await stopCli(other);
    }
  });

  it('temporal workflow start with two boss-ingest workers runs the job exactly as the CLI does', async () => {
    const spec: StackSpec = {
      root: path.join(dir, 'wf'),
      layout: 'catmaid1',
      width: 1500,
      height: 1100,
      depth: 40,
      tile: { x: 512, y: 512 },
      bits: 8,
      seed: 3,
    };
    await writeStack(spec);
    const out = path.join(dir, 'wf.ome.zarr');
    const config = stackConfig(spec) as { client: { backend: unknown }; engine?: unknown };
    config.client.backend = { name: 'zarr', path: out };
    config.engine = { chunks_per_batch: 1 };
    const file = writeConfig('wf', config);
    const workers = [
      spawnCli(['worker', ...conn()], tempDir('w1')),
      spawnCli(['worker', ...conn()], tempDir('w2')),
    ];
    try {
      const temporal = installedTemporalCli() ?? 'temporal';
      const id = 'wf-route-job';
      const address = ['--address', server.address];
      await run(temporal, [
        'workflow',
        'start',
        '--type',
        'ingestJob',
        '--task-queue',
        'boss-ingest',
        '--workflow-id',
        id,
        '--input-file',
        file,
        ...address,
      ]);
      const result = await run(
        temporal,
        ['workflow', 'result', '--workflow-id', id, '--output', 'json', ...address],
        { timeout: 120_000 },
      );
      assert.match(result.stdout, /"state":\s*"completed"/);
      const status = JSON.parse((await cli(['status', '-j', id, '--json', ...conn()], server.home)).stdout);
      assert.equal(status.progress.doneChunks, 3 * 3 * 3);
      const used = await batchWorkers(server.address, id);
      assert.ok(used.size >= 2, `batches ran on ${used.size} worker(s)`);
      const read = await readWithZarrPython(out);
      assertVolume(read, { x: [0, 1500], y: [0, 1100], z: [0, 40] }, (x, y, z) => voxel(spec, x, y, z));
    } finally {
      await Promise.all(workers.map((w) => stopCli(w)));
    }
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}
