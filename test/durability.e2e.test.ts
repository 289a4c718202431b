/**
 * "Durable at scale": jobs on a real Temporal dev server survive what happens to long ingests in
 * practice (a worker killed or shut down, the server restarted, a flaky source), several workers
 * share a job without writing anything twice, and a cancel stops every worker's in-flight work.
 * Each test checks what a user would: the exit code, `boss-ingest status --json`, the job's history
 * and the volume read back with zarr-python, voxel for voxel against the synthetic source.
 */
import { strict as assert } from 'node:assert';
import { existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { batchWorkers } from './harness/history.js';
import {
  assertCompleted,
  assertSameAsSource,
  BATCHES_PER_WORKER,
  chunkTotal,
  syntheticConfig,
  type SyntheticJob,
} from './harness/synthetic-job.js';
import { cli, startTestServer, tempDir, type TestServer } from './harness/env.js';
import { Nodes, output } from './harness/nodes.js';
import {
  batchAttempts,
  chunkFiles,
  identityOf,
  isAlive,
  JobProbe,
  RestartableServer,
  sleep,
  waitFor,
  waitForJobId,
  within,
} from './harness/durability.js';

/** src/worker/worker.ts SHUTDOWN_GRACE. */
const GRACE_MS = 20_000;

describe('durable at scale: jobs survive killed workers, server restarts and flaky sources', function () {
  this.timeout(120_000);
  let server: TestServer;
  let probe: JobProbe;
  let dir: string;
  /** Worker nodes and clients on the shared server. */
  let nodes: Nodes;

  before(async () => {
    server = await startTestServer();
    probe = new JobProbe(server.address);
    dir = tempDir('durability');
    nodes = new Nodes(dir, server.address);
  });
  afterEach(async () => {
    await nodes.killAll();
  });
  after(async () => {
    await nodes?.killAll();
    await probe?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

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
    const first = nodes.startWorker('kill-a');
    const waiting = nodes.startJob(nodes.writeConfig('kill', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    const before = await nodes.midJob(probe, jobId, total);
    first.child.kill('SIGKILL');
    await first.exited;
    const onDisk = chunkFiles(job.out).length;
    assert.ok(onDisk > 0 && onDisk < total, `chunks on disk when the worker was killed: ${onDisk}`);

    const second = nodes.startWorker('kill-b');
    const code = await nodes.exitOf(waiting, 80_000, 'the job after the kill', jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);
    assert.match(waiting.stdout(), new RegExp(`completed: ${total}/${total} chunks`));

    const s = await nodes.status(jobId);
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
    const ownNodes = new Nodes(dir, own.address);
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
      const worker = ownNodes.startWorker('restart-w');
      const waiting = ownNodes.startJob(ownNodes.writeConfig('restart', syntheticConfig(job)));
      const jobId = await waitForJobId(waiting);
      const before = await ownNodes.midJob(ownProbe, jobId, total);

      const stopped = Date.now();
      await own.stop();
      // Down for longer than the batches' heartbeat timeout (10 s), so in-flight batches time out,
      // and longer than a gRPC client's default retries last (about 20 s), as a restart can be.
      await sleep(25_000);
      await own.start();
      const outage = Date.now() - stopped;
      assert.ok(isAlive(worker), `the worker survived the ${outage} ms outage\n${output(worker)}`);
      assert.ok(isAlive(waiting), `start --wait survived the ${outage} ms outage\n${output(waiting)}`);

      const code = await ownNodes.exitOf(waiting, 100_000, 'the job after the restart', jobId);
      assert.equal(code, 0, `start --wait exits 0 after a ${outage} ms outage\n${output(waiting)}`);
      const s = await ownNodes.status(jobId);
      assertCompleted(s, job);
      assert.ok(s.progress.run > 1, `the job continued as new (run ${s.progress.run})`);
      assert.ok(isAlive(worker), 'the worker still serves after the job');
      console.log(
        `      server down ${outage} ms at ${before.doneChunks}/${total} chunks; runs ${s.progress.run}; rewrittenChunks ${s.progress.rewrittenChunks}`,
      );
      await assertSameAsSource(job);
    } finally {
      await ownNodes.killAll();
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
    nodes.startWorker('flaky-w');
    const waiting = nodes.startJob(nodes.writeConfig('flaky', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    const code = await nodes.exitOf(waiting, 60_000, 'the flaky job', jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);
    for (const t of flakyTiles)
      assert.ok(existsSync(path.join(markerDir, t.join('_'))), `tile ${t} was read (and failed once)`);

    // The data first, so that a failure of the counts below shows the volume itself is right.
    await assertSameAsSource(job);
    const retried = (await batchAttempts(server.address, jobId)).filter((a) => a.attempt > 1);
    assert.ok(retried.length > 0 && retried.length <= flakyTiles.length, JSON.stringify(retried));
    for (const r of retried) assert.equal(r.lastFailure, 'ChunkWriteError', JSON.stringify(r));
    const s = await nodes.status(jobId);
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
    const a = nodes.startWorker('join-a');
    const waiting = nodes.startJob(nodes.writeConfig('join', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    await nodes.midJob(probe, jobId, total);
    const b = nodes.startWorker('join-b');
    const code = await nodes.exitOf(waiting, 60_000, 'the joined job', jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);

    const workers = await batchWorkers(server.address, jobId);
    assert.ok((workers.get(identityOf(a)) ?? 0) > 0, `worker A ran batches: ${JSON.stringify([...workers])}`);
    assert.ok((workers.get(identityOf(b)) ?? 0) > 0, `worker B ran batches: ${JSON.stringify([...workers])}`);
    const s = await nodes.status(jobId);
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
    const workers = [nodes.startWorker('cancel-a'), nodes.startWorker('cancel-b')];
    const waiting = nodes.startJob(nodes.writeConfig('cancel', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    await nodes.midJob(probe, jobId, total);
    // Batches running on both workers at the moment of the cancel.
    await waitFor('batches running on both workers', 30_000, async () => {
      const pending = await probe.pendingBatches(jobId);
      const on = new Set((pending ?? []).filter((p) => p.started).map((p) => p.worker));
      return workers.every((w) => on.has(identityOf(w)));
    });

    const t0 = Date.now();
    const cancel = await cli(
      ['cancel', '-j', jobId, '--reason', 'durability test', '--address', server.address],
      nodes.subdir('cancel'),
    );
    assert.equal(cancel.code, 0, cancel.stderr);
    const code = await nodes.exitOf(waiting, 30_000, 'start --wait after the cancel', jobId);
    const ended = Date.now();
    assert.equal(code, 3, `start --wait exits 3 for a cancelled job\n${output(waiting)}`);
    assert.ok(ended - t0 < 15_000, `the job took ${ended - t0} ms to stop`);

    const s = await nodes.status(jobId);
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
    const later = nodes.startJob(nodes.writeConfig('after-cancel', syntheticConfig(next)));
    assert.equal(await within(later.exited, 30_000, 'a job after the cancel'), 0, output(later));
    console.log(`      cancelled at ${s.progress.doneChunks}/${total} chunks, stopped in ${ended - t0} ms`);
  });

  it('SIGTERM mid-job: the worker exits within its grace time, hands back its batches, and a new worker completes the job voxel-exact', async function () {
    this.timeout(120_000);
    // Two batches of 15 rows, each row >= 8 slices x 2 tile rows x 125 ms = 2 s on one of 2 threads:
    // each batch needs ~30 s, more than the 20 s grace, so the worker has to hand them back.
    const job: SyntheticJob = {
      out: path.join(dir, 'sigterm.ome.zarr'),
      extent: { x: [0, 512], y: [0, 640], z: [0, 48] },
      tile: { x: 128, y: 64 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 8,
      delayMs: 125,
      engine: { chunks_per_batch: 60 },
    };
    const total = chunkTotal(job);
    assert.equal(total, 120);
    const first = nodes.startWorker('term-a');
    const waiting = nodes.startJob(nodes.writeConfig('sigterm', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    // Mid-job: chunks of both in-flight batches are on disk.
    await waitFor('chunks on disk', 60_000, () => chunkFiles(job.out).length >= 2);
    const onDisk = chunkFiles(job.out).length;

    const t0 = Date.now();
    first.child.kill('SIGTERM');
    // The margin: rows already handed to the chunk threads when the grace time ends still run (one
    // running and one queued per thread: 2 x 8 slices x 2 tile rows x 125 ms = 4 s here), then the
    // batches are handed back and the worker closes its threads and connection (5 s allowed).
    const margin = 2 * (8 * 2 * job.delayMs) + 5000;
    const exitCode = await within(first.exited, GRACE_MS + 30_000, 'the worker after SIGTERM');
    const took = Date.now() - t0;
    assert.ok(took <= GRACE_MS + margin, `the worker took ${took} ms to exit after SIGTERM`);
    assert.equal(exitCode, 0, `the worker exits 0 after SIGTERM\n${output(first)}`);
    assert.ok(isAlive(waiting), 'the job goes on without workers');

    const second = nodes.startWorker('term-b');
    const code = await nodes.exitOf(waiting, 80_000, 'the job after SIGTERM', jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);
    const s = await nodes.status(jobId);
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
