/**
 * "Durable at scale": jobs on a real Temporal dev server survive what happens to long ingests in
 * practice (a worker killed or shut down, the server restarted, a flaky source), several workers
 * share a job without writing anything twice, and a cancel stops every worker's in-flight work.
 * Each test checks what a user would: the exit code, `boss-ingest status --json`, the job's history
 * and the volume read back with zarr-python, voxel for voxel against the synthetic source.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { JobConfig, Range } from '../src/config/types.js';
import { chunkCount } from '../src/extent/grid.js';
import type { JobResult } from '../src/job/types.js';
import { syntheticVoxel } from '../src/plugins/synthetic.js';
import { batchesPerWorker, SHUTDOWN_GRACE } from '../src/worker/worker.js';
import { FLAKY_TILES_CLASS } from './doubles/flaky-tiles.js';
import {
  syntheticConfig as harnessConfig,
  writeConfig as writeConfigIn,
  type SyntheticJob as HarnessJob,
} from './harness/config.js';
import { batchWorkers } from './harness/history.js';
import {
  assertVolume,
  cli,
  readWithZarrPython,
  startTestServer,
  tempDir,
  type RunningCli,
  type TestServer,
} from './harness/env.js';
import {
  batchAttempts,
  chunkFiles,
  identityOf,
  isAlive,
  JobProbe,
  Processes,
  RestartableServer,
  sleep,
  waitFor,
  waitForJobId,
  within,
} from './harness/durability.js';

/** Chunk threads per worker process (BOSS_INGEST_THREADS), fixed so the bounds below do not depend on the machine. */
const THREADS = 2;
const BATCHES_PER_WORKER = batchesPerWorker(THREADS);

interface Extent {
  x: Range;
  y: Range;
  z: Range;
}

interface SyntheticJob extends HarnessJob {
  bits: 8 | 16;
  delayMs: number;
  engine: { chunks_per_batch: number; window?: number; batches_per_run?: number };
  flaky?: { tiles: number[][]; markerDir: string };
}

/** The harness's synthetic config; a flaky job reads its tiles through the test-only flaky plugin. */
function syntheticConfig(job: SyntheticJob): JobConfig {
  if (!job.flaky) return harnessConfig(job);
  return harnessConfig({
    ...job,
    tileClass: FLAKY_TILES_CLASS,
    tileParams: { flaky_tiles: job.flaky.tiles, flaky_marker_dir: job.flaky.markerDir },
  });
}

function chunkTotal(job: SyntheticJob): number {
  return chunkCount({ extent: { ...job.extent, t: [0, 1] }, chunk: job.chunk });
}

function voxelTotal(e: Extent): number {
  return (e.x[1] - e.x[0]) * (e.y[1] - e.y[0]) * (e.z[1] - e.z[0]);
}

async function assertSameAsSource(job: SyntheticJob): Promise<void> {
  const read = await readWithZarrPython(job.out);
  assert.deepEqual(read.shape, [job.extent.z[1], job.extent.y[1], job.extent.x[1]]);
  assert.equal(read.dtype, job.bits === 16 ? 'uint16' : 'uint8');
  assertVolume(read, job.extent, (x, y, z) => syntheticVoxel(job.bits, x, y, z, 0));
}

interface Status {
  status: string;
  progress: JobResult;
}

function output(p: RunningCli): string {
  return `--- stdout\n${p.stdout()}\n--- stderr\n${p.stderr()}`;
}

/** A user's checks of a finished job that ran cleanly: every chunk written once, nothing failed. */
function assertCompleted(status: Status, job: SyntheticJob): void {
  const p = status.progress;
  assert.equal(status.status, 'COMPLETED', JSON.stringify(status));
  assert.equal(p.state, 'completed', JSON.stringify(p));
  assert.equal(p.totalChunks, chunkTotal(job));
  assert.equal(p.failedChunks, 0, JSON.stringify(p.failures));
  assert.equal(
    p.doneChunks,
    p.totalChunks,
    `doneChunks ${p.doneChunks} of ${p.totalChunks} (rewrittenChunks ${p.rewrittenChunks}): every chunk is counted exactly once`,
  );
  assert.equal(p.voxelsWritten, voxelTotal(job.extent), 'voxelsWritten is the extent, counted once');
  assert.equal(p.totalVoxels, voxelTotal(job.extent));
}

describe('durable at scale: jobs survive killed workers, server restarts and flaky sources', function () {
  this.timeout(120_000);
  let server: TestServer;
  let probe: JobProbe;
  let dir: string;
  const procs = new Processes();
  /** The home directory of each worker a test started, for its log when something times out. */
  const homes = new Map<RunningCli, string>();

  before(async () => {
    server = await startTestServer();
    probe = new JobProbe(server.address);
    dir = tempDir('durability');
  });
  afterEach(async () => {
    await procs.killAll();
    homes.clear();
  });
  after(async () => {
    await procs.killAll();
    await probe?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh directory under the test file's own, removed with it. */
  function subdir(name: string): string {
    return mkdtempSync(path.join(dir, `${name}-`));
  }

  const writeConfig = (name: string, config: object) => writeConfigIn(dir, name, config);

  /** `boss-ingest worker` with a home (and working directory) of its own. */
  function startWorker(address: string, name: string, threads = THREADS): RunningCli {
    const home = subdir(name);
    const worker = procs.spawn(['worker', '--address', address, '-v', 'info'], home, {
      BOSS_INGEST_THREADS: String(threads),
    });
    homes.set(worker, home);
    return worker;
  }

  /** What the workers said: their output and the end of their log files. */
  function workerReport(): string {
    return [...homes]
      .map(([w, home]) => {
        const logs = readdirSync(home)
          .filter((f) => f.endsWith('.log'))
          .map((f) => readFileSync(path.join(home, f), 'utf8').split('\n').slice(-15).join('\n'));
        return `worker ${identityOf(w)} (${isAlive(w) ? 'running' : `exited ${w.child.exitCode ?? w.child.signalCode}`})\n${output(w)}\n--- log\n${logs.join('\n')}`;
      })
      .join('\n');
  }

  /** `boss-ingest start CONFIG --wait`: submits the job and follows it; exits with the job's code. */
  function startJob(address: string, config: string): RunningCli {
    return procs.spawn(['start', config, '--wait', '-f', '--address', address], subdir('client'));
  }

  /** The CLI's exit code; on a timeout, the error shows its output and where the job stands. */
  async function exitOf(p: RunningCli, ms: number, what: string, address: string, jobId: string) {
    try {
      return await within(p.exited, ms, what);
    } catch (err) {
      const q = new JobProbe(address);
      const [progress, pending] = [await q.progress(jobId), await q.pendingBatches(jobId)];
      await q.close();
      throw new Error(
        `${(err as Error).message}\nprogress: ${JSON.stringify(progress)}\npending: ${JSON.stringify(pending)}\n${output(p)}\n${workerReport()}`,
        { cause: err },
      );
    }
  }

  async function status(address: string, jobId: string): Promise<Status> {
    const res = await cli(['status', '-j', jobId, '--json', '--address', address], subdir('status'));
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as Status;
  }

  /** Waits until the job has written chunks but is not done: the middle of the job. */
  async function midJob(p: JobProbe, jobId: string, total: number): Promise<JobResult> {
    let last: JobResult | undefined;
    const progress = await waitFor(`job ${jobId} to write its first chunks`, 60_000, async () => {
      last = (await p.progress(jobId)) ?? last;
      return last && last.doneChunks > 0 ? last : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\nlast progress: ${JSON.stringify(last)}\n${workerReport()}`, {
        cause: err,
      });
    });
    assert.ok(progress.doneChunks < total, `the job is still running (${progress.doneChunks}/${total})`);
    return progress;
  }

  it('a worker killed with SIGKILL mid-job: a new worker finishes the job voxel-exact, redoing at most what the killed one held', async function () {
    this.timeout(100_000);
    // Non-aligned y and z extents give rows of different lengths; 2 tile rows per chunk row.
    const job: SyntheticJob = {
      out: path.join(dir, 'kill.ome.zarr'),
      extent: { x: [0, 512], y: [0, 400], z: [0, 60] },
      tile: { x: 128, y: 64 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 16,
      delayMs: 60,
      engine: { chunks_per_batch: 8, window: 16 },
    };
    const total = chunkTotal(job);
    assert.equal(total, 128);
    const first = startWorker(server.address, 'kill-a');
    const waiting = startJob(server.address, writeConfig('kill', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    const before = await midJob(probe, jobId, total);
    first.child.kill('SIGKILL');
    await first.exited;
    const onDisk = chunkFiles(job.out).length;
    assert.ok(onDisk > 0 && onDisk < total, `chunks on disk when the worker was killed: ${onDisk}`);

    const second = startWorker(server.address, 'kill-b');
    const code = await exitOf(waiting, 80_000, 'the job after the kill', server.address, jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);
    assert.match(waiting.stdout(), new RegExp(`completed: ${total}/${total} chunks`));

    const s = await status(server.address, jobId);
    assertCompleted(s, job);
    // The killed worker held at most BATCHES_PER_WORKER batches; only those can be redone.
    const bound = BATCHES_PER_WORKER * job.engine.chunks_per_batch;
    assert.ok(
      s.progress.rewrittenChunks <= bound,
      `rewrittenChunks ${s.progress.rewrittenChunks} > ${bound} (${BATCHES_PER_WORKER} batches x ${job.engine.chunks_per_batch} chunks)`,
    );
    const attempts = await batchAttempts(server.address, jobId);
    const retried = attempts.filter((a) => a.attempt > 1);
    assert.ok(
      retried.length <= BATCHES_PER_WORKER,
      `${retried.length} batches were retried: ${JSON.stringify(retried)}`,
    );
    const workers = await batchWorkers(server.address, jobId);
    assert.ok(workers.has(identityOf(second)), `the new worker ran batches: ${[...workers.keys()]}`);
    assert.ok(isAlive(second), 'the new worker is still serving');
    console.log(
      `      killed at ${before.doneChunks}/${total} chunks (${onDisk} on disk); rewrittenChunks ${s.progress.rewrittenChunks} <= ${bound}; retried batches ${retried.map((r) => `${r.first}-${r.end - 1} (${r.lastFailure})`).join(', ') || 'none'}`,
    );
    await assertSameAsSource(job);
  });

  it('the Temporal server stopped and restarted mid-job: workers and CLI ride it out, the job completes voxel-exact', async function () {
    this.timeout(150_000);
    const own = await RestartableServer.start();
    const ownProbe = new JobProbe(own.address);
    try {
      const job: SyntheticJob = {
        out: path.join(dir, 'restart.ome.zarr'),
        extent: { x: [0, 512], y: [0, 512], z: [0, 64] },
        tile: { x: 128, y: 128 },
        chunk: { x: 128, y: 128, z: 8 },
        bits: 8,
        delayMs: 60,
        // Few batches per run: the job continues as new several times, across the outage too.
        engine: { chunks_per_batch: 4, window: 4, batches_per_run: 6 },
      };
      const total = chunkTotal(job);
      const worker = startWorker(own.address, 'restart-w');
      const waiting = startJob(own.address, writeConfig('restart', syntheticConfig(job)));
      const jobId = await waitForJobId(waiting);
      const before = await midJob(ownProbe, jobId, total);

      const stopped = Date.now();
      await own.stop();
      // Down for longer than the batches' heartbeat timeout (10 s), so in-flight batches time out,
      // and longer than a gRPC client's default retries last (about 20 s), as a restart can be.
      await sleep(25_000);
      await own.start();
      const outage = Date.now() - stopped;
      assert.ok(isAlive(worker), `the worker survived the ${outage} ms outage\n${output(worker)}`);
      assert.ok(isAlive(waiting), `start --wait survived the ${outage} ms outage\n${output(waiting)}`);

      const code = await exitOf(waiting, 100_000, 'the job after the restart', own.address, jobId);
      assert.equal(code, 0, `start --wait exits 0 after a ${outage} ms outage\n${output(waiting)}`);
      const s = await status(own.address, jobId);
      assertCompleted(s, job);
      assert.ok(s.progress.run > 1, `the job continued as new (run ${s.progress.run})`);
      assert.ok(isAlive(worker), 'the worker still serves after the job');
      console.log(
        `      server down ${outage} ms at ${before.doneChunks}/${total} chunks; runs ${s.progress.run}; rewrittenChunks ${s.progress.rewrittenChunks}`,
      );
      await assertSameAsSource(job);
    } finally {
      await procs.killAll();
      await ownProbe.close();
      await own.dispose();
    }
  });

  it('a transient source failure (EIO on first read) is retried: the job ends completed, not completed_with_errors, voxel-exact', async () => {
    const markerDir = path.join(dir, 'flaky-markers');
    const flakyTiles = [
      [1, 0, 3, 0],
      [2, 1, 17, 0],
      [0, 0, 31, 0],
    ];
    const job: SyntheticJob = {
      out: path.join(dir, 'flaky.ome.zarr'),
      extent: { x: [0, 512], y: [0, 256], z: [0, 32] },
      tile: { x: 128, y: 128 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 8,
      delayMs: 20,
      engine: { chunks_per_batch: 8 },
      flaky: { tiles: flakyTiles, markerDir },
    };
    startWorker(server.address, 'flaky-w');
    const waiting = startJob(server.address, writeConfig('flaky', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    const code = await exitOf(waiting, 60_000, 'the flaky job', server.address, jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);
    for (const t of flakyTiles)
      assert.ok(existsSync(path.join(markerDir, t.join('_'))), `tile ${t} was read (and failed once)`);

    // The data first, so that a failure of the counts below shows the volume itself is right.
    await assertSameAsSource(job);
    const retried = (await batchAttempts(server.address, jobId)).filter((a) => a.attempt > 1);
    assert.ok(retried.length > 0 && retried.length <= flakyTiles.length, JSON.stringify(retried));
    for (const r of retried) assert.equal(r.lastFailure, 'ChunkWriteError', JSON.stringify(r));
    const s = await status(server.address, jobId);
    assert.deepEqual(s.progress.failures, []);
    assert.ok(s.progress.rewrittenChunks > 0, 'the batches hit by the failures were retried');
    assertCompleted(s, job);
  });

  it('joining: a second worker with its own home joins a running job; both run batches, nothing is written twice', async () => {
    const job: SyntheticJob = {
      out: path.join(dir, 'join.ome.zarr'),
      extent: { x: [0, 512], y: [0, 512], z: [0, 64] },
      tile: { x: 128, y: 128 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 16,
      delayMs: 50,
      engine: { chunks_per_batch: 2, window: 16 },
    };
    const total = chunkTotal(job);
    const a = startWorker(server.address, 'join-a');
    const waiting = startJob(server.address, writeConfig('join', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    await midJob(probe, jobId, total);
    const b = startWorker(server.address, 'join-b');
    const code = await exitOf(waiting, 60_000, 'the joined job', server.address, jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);

    const workers = await batchWorkers(server.address, jobId);
    assert.ok((workers.get(identityOf(a)) ?? 0) > 0, `worker A ran batches: ${JSON.stringify([...workers])}`);
    assert.ok((workers.get(identityOf(b)) ?? 0) > 0, `worker B ran batches: ${JSON.stringify([...workers])}`);
    const s = await status(server.address, jobId);
    assertCompleted(s, job);
    assert.equal(s.progress.rewrittenChunks, 0, 'no chunk was written twice');
    assert.deepEqual(
      (await batchAttempts(server.address, jobId)).filter((x) => x.attempt > 1),
      [],
      'no batch was retried',
    );
    assert.equal(chunkFiles(job.out).length, total);
    console.log(`      batches per worker: ${JSON.stringify([...workers.values()])}`);
    await assertSameAsSource(job);
  });

  it('worker processes of one chunk thread each (-p N sharing the cores) take one batch each: the second batch waits for the next process', async function () {
    this.timeout(90_000);
    // Two batches of three rows (of two chunks); a one-thread worker runs two rows at a time, so
    // it only looks for another batch once its first row is done, seconds after it started.
    const job: SyntheticJob = {
      out: path.join(dir, 'one-thread.ome.zarr'),
      extent: { x: [0, 256], y: [0, 384], z: [0, 16] },
      tile: { x: 128, y: 128 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 8,
      delayMs: 400,
      engine: { chunks_per_batch: 6 },
    };
    const a = startWorker(server.address, 'one-thread-a', 1);
    const waiting = startJob(server.address, writeConfig('one-thread', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    const started = async () => (await probe.pendingBatches(jobId))?.filter((x) => x.started).length;
    await waitFor('worker A to start a batch', 30_000, async () => ((await started()) ?? 0) > 0);
    // With two batch slots, A would have taken the other batch at once.
    await sleep(1000);
    const pending = await probe.pendingBatches(jobId);
    assert.equal(
      pending?.filter((x) => x.started).length,
      1,
      `A holds one batch: ${JSON.stringify(pending)}`,
    );
    assert.equal(pending?.length, 2, `the other waits: ${JSON.stringify(pending)}`);
    const b = startWorker(server.address, 'one-thread-b', 1);
    const code = await exitOf(waiting, 60_000, 'the one-thread job', server.address, jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);
    await assertSameAsSource(job);
    const workers = await batchWorkers(server.address, jobId);
    assert.equal(workers.get(identityOf(a)), 1, `worker A ran one batch: ${JSON.stringify([...workers])}`);
    assert.equal(workers.get(identityOf(b)), 1, `worker B ran the other: ${JSON.stringify([...workers])}`);
    assertCompleted(await status(server.address, jobId), job);
  });

  it('cancel with batches in flight on several workers: all stop within 15 s, nothing is written after, the workers keep serving', async () => {
    const job: SyntheticJob = {
      out: path.join(dir, 'cancel.ome.zarr'),
      extent: { x: [0, 512], y: [0, 512], z: [0, 128] },
      tile: { x: 128, y: 128 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 8,
      delayMs: 100,
      engine: { chunks_per_batch: 4, window: 16 },
    };
    const total = chunkTotal(job);
    const workers = [startWorker(server.address, 'cancel-a'), startWorker(server.address, 'cancel-b')];
    const waiting = startJob(server.address, writeConfig('cancel', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    await midJob(probe, jobId, total);
    // Batches running on both workers at the moment of the cancel.
    await waitFor('batches running on both workers', 30_000, async () => {
      const pending = await probe.pendingBatches(jobId);
      const on = new Set((pending ?? []).filter((p) => p.started).map((p) => p.worker));
      return workers.every((w) => on.has(identityOf(w)));
    });

    const t0 = Date.now();
    const cancel = await cli(
      ['cancel', '-j', jobId, '--reason', 'durability test', '--address', server.address],
      subdir('cancel'),
    );
    assert.equal(cancel.code, 0, cancel.stderr);
    const code = await exitOf(waiting, 30_000, 'start --wait after the cancel', server.address, jobId);
    const ended = Date.now();
    assert.equal(code, 3, `start --wait exits 3 for a cancelled job\n${output(waiting)}`);
    assert.ok(ended - t0 < 15_000, `the job took ${ended - t0} ms to stop`);

    const s = await status(server.address, jobId);
    assert.equal(s.status, 'CANCELLED');
    assert.equal(s.progress.state, 'cancelled');
    assert.equal(s.progress.cancelReason, 'durability test');
    assert.ok(s.progress.doneChunks < total, 'the job did not run to the end');
    assert.deepEqual(await probe.pendingBatches(jobId), [], 'no batch activity is left pending');

    await sleep(4000);
    const files = chunkFiles(job.out);
    assert.equal(
      files.length,
      s.progress.doneChunks,
      'every chunk counted as written is on disk, and no more',
    );
    for (const f of files) {
      const mtime = statSync(f).mtimeMs;
      assert.ok(
        mtime <= ended,
        `${f} was modified ${Math.round(mtime - ended)} ms after the job was cancelled`,
      );
    }
    for (const w of workers) assert.ok(isAlive(w), `worker ${identityOf(w)} keeps running\n${output(w)}`);

    // And they still serve: a small job runs to completion on them.
    const next: SyntheticJob = { ...job, out: path.join(dir, 'after-cancel.ome.zarr'), delayMs: 0 };
    next.extent = { x: [0, 256], y: [0, 128], z: [0, 8] };
    const later = startJob(server.address, writeConfig('after-cancel', syntheticConfig(next)));
    assert.equal(await within(later.exited, 30_000, 'a job after the cancel'), 0, output(later));
    console.log(`      cancelled at ${s.progress.doneChunks}/${total} chunks, stopped in ${ended - t0} ms`);
  });

  it('SIGTERM mid-job: the worker exits within its grace time, hands back its batches, and a new worker completes the job voxel-exact', async function () {
    this.timeout(120_000);
    // Two batches of 15 rows, each row >= 8 slices x 2 tile rows x 250 ms = 4 s; a batch runs two
    // rows at once (one per thread; a thread runs two rows, so both batches' rows run): each batch
    // needs ~30 s, more than the 20 s grace, so the worker has to hand them back.
    const job: SyntheticJob = {
      out: path.join(dir, 'sigterm.ome.zarr'),
      extent: { x: [0, 512], y: [0, 640], z: [0, 48] },
      tile: { x: 128, y: 64 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 8,
      delayMs: 250,
      engine: { chunks_per_batch: 60 },
    };
    const total = chunkTotal(job);
    assert.equal(total, 120);
    const first = startWorker(server.address, 'term-a');
    const waiting = startJob(server.address, writeConfig('sigterm', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    // Mid-job: chunks of both in-flight batches are on disk.
    await waitFor('chunks on disk', 60_000, () => chunkFiles(job.out).length >= 2);
    const onDisk = chunkFiles(job.out).length;

    const t0 = Date.now();
    first.child.kill('SIGTERM');
    // The margin: rows already handed to the chunk threads when the grace time ends still run (at
    // most two rounds of rows: 2 x 8 slices x 2 tile rows x 250 ms = 8 s here), then the
    // batches are handed back and the worker closes its threads and connection (5 s allowed).
    const margin = 2 * (8 * 2 * job.delayMs) + 5000;
    const exitCode = await within(first.exited, SHUTDOWN_GRACE + 30_000, 'the worker after SIGTERM');
    const took = Date.now() - t0;
    assert.ok(took <= SHUTDOWN_GRACE + margin, `the worker took ${took} ms to exit after SIGTERM`);
    assert.equal(exitCode, 0, `the worker exits 0 after SIGTERM\n${output(first)}`);
    assert.ok(isAlive(waiting), 'the job goes on without workers');

    const second = startWorker(server.address, 'term-b');
    const code = await exitOf(waiting, 80_000, 'the job after SIGTERM', server.address, jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);
    const s = await status(server.address, jobId);
    assertCompleted(s, job);
    const bound = BATCHES_PER_WORKER * job.engine.chunks_per_batch;
    assert.ok(
      s.progress.rewrittenChunks <= bound,
      `rewrittenChunks ${s.progress.rewrittenChunks} > ${bound}`,
    );

    // The batches were handed back (BatchInterrupted), not left to a heartbeat timeout.
    const attempts = await batchAttempts(server.address, jobId);
    const retried = attempts.filter((a) => a.attempt > 1);
    assert.ok(
      retried.length > 0,
      `the shut-down worker handed back its batches: ${JSON.stringify(attempts)}`,
    );
    for (const r of retried) {
      assert.equal(r.lastFailure, 'BatchInterrupted', JSON.stringify(r));
      assert.equal(r.identity, identityOf(second));
    }
    console.log(
      `      SIGTERM with ${onDisk} chunks on disk; exited after ${took} ms; rewrittenChunks ${s.progress.rewrittenChunks} <= ${bound}`,
    );
    await assertSameAsSource(job);
  });
});
