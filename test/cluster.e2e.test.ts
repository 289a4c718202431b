/**
 * The production deployment, run for real: PostgreSQL, Temporal's schema applied by its SQL tool,
 * the Temporal server (not the dev server), started by the same code as `npm run cluster -- up`.
 * A job is served by three worker processes, each with its own home and working directory (three
 * nodes), while one node is killed, the server process is restarted, or PostgreSQL is restarted.
 * Each job must complete voxel-exact, with no more work redone than the in-flight batches.
 */
import { strict as assert } from 'node:assert';
import { chmodSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Cluster } from '../src/cluster/cluster.js';
import { tempDir, type RunningCli } from './harness/env.js';
import {
  batchAttempts,
  identityOf,
  isAlive,
  JobProbe,
  sleep,
  waitFor,
  waitForJobId,
} from './harness/durability.js';
import { batchWorkers } from './harness/history.js';
import { Nodes, output } from './harness/nodes.js';
import {
  assertCompleted,
  assertSameAsSource,
  BATCHES_PER_WORKER,
  chunkTotal,
  syntheticConfig,
  type SyntheticJob,
} from './harness/synthetic-job.js';

describe('the production cluster (PostgreSQL + Temporal server): three nodes serve a job through failures', function () {
  this.timeout(180_000);
  let dir: string;
  let cluster: Cluster;
  let nodes: Nodes;
  let probe: JobProbe;

  before(async function () {
    // Builds the server on a machine where .ci/run did not (minutes); reuses it otherwise.
    this.timeout(45 * 60_000);
    dir = tempDir('cluster');
    // Under root, PostgreSQL runs as the postgres user: it must get through to its directory.
    chmodSync(dir, 0o711);
    cluster = await Cluster.open(path.join(dir, 'cluster'), {
      anyFreePorts: true,
      say: (line) => console.log(`      cluster: ${line}`),
    });
    const t0 = Date.now();
    await cluster.up({ ui: false });
    console.log(`      cluster up in ${Date.now() - t0} ms at ${cluster.address}`);
    nodes = new Nodes(dir, cluster.address);
    probe = new JobProbe(cluster.address);
  });
  afterEach(async () => {
    await nodes?.killAll();
    // A failed test may leave a part stopped: the next one starts from a whole cluster.
    await cluster?.postgres.start();
    await cluster?.startServer();
  });
  after(async () => {
    await nodes?.killAll();
    await probe?.close();
    await cluster?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function threeNodes(name: string): RunningCli[] {
    return ['a', 'b', 'c'].map((n) => nodes.startWorker(`${name}-${n}`));
  }

  /** Mid-job, with batches running on every one of `workers`. */
  async function runningOnAll(jobId: string, total: number, workers: RunningCli[]) {
    const progress = await nodes.midJob(probe, jobId, total);
    await waitFor(`batches running on all ${workers.length} nodes\n${nodes.report()}`, 60_000, async () => {
      const pending = await probe.pendingBatches(jobId);
      const on = new Set((pending ?? []).filter((p) => p.started).map((p) => p.worker));
      return workers.every((w) => on.has(identityOf(w)));
    });
    return progress;
  }

  /**
   * The job's end as a user checks it: exit 0, every chunk once, the volume equals the source; and
   * only the batches in flight at the failure were redone (at most `inFlight` of them), each retry
   * redoing at most its own batch's chunks.
   */
  async function assertJobDone(waiting: RunningCli, jobId: string, job: SyntheticJob, inFlight: number) {
    const total = chunkTotal(job);
    const code = await nodes.exitOf(waiting, 150_000, 'the job', jobId);
    assert.equal(code, 0, `start --wait exits 0\n${output(waiting)}`);
    assert.match(waiting.stdout(), new RegExp(`completed: ${total}/${total} chunks`));
    const s = await nodes.status(jobId);
    assertCompleted(s, job);
    await assertSameAsSource(job);
    const retried = (await batchAttempts(cluster.address, jobId)).filter((a) => a.attempt > 1);
    assert.ok(retried.length <= inFlight, `${retried.length} batches retried: ${JSON.stringify(retried)}`);
    const redoable = retried.reduce((n, r) => n + (r.attempt - 1) * (r.end - r.first), 0);
    assert.ok(
      s.progress.rewrittenChunks <= redoable,
      `rewrittenChunks ${s.progress.rewrittenChunks} > ${redoable}, the chunks of the retried batches`,
    );
    return { s, retried };
  }

  function jobOf(name: string, engine: SyntheticJob['engine']): SyntheticJob {
    return {
      out: path.join(dir, `${name}.ome.zarr`),
      extent: { x: [0, 512], y: [0, 400], z: [0, 96] },
      tile: { x: 128, y: 64 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 16,
      delayMs: 60,
      engine,
    };
  }

  it('a node killed with SIGKILL mid-job: the other two finish it voxel-exact, redoing at most what the killed one held', async () => {
    const job = jobOf('kill', { chunks_per_batch: 8, window: 16 });
    const total = chunkTotal(job);
    const workers = threeNodes('kill');
    const waiting = nodes.startJob(nodes.writeConfig('kill', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    const before = await runningOnAll(jobId, total, workers);
    const [survivorA, killed, survivorC] = workers as [RunningCli, RunningCli, RunningCli];
    killed.child.kill('SIGKILL');
    await killed.exited;

    const { s, retried } = await assertJobDone(waiting, jobId, job, BATCHES_PER_WORKER);
    const bound = BATCHES_PER_WORKER * job.engine.chunks_per_batch;
    assert.ok(
      s.progress.rewrittenChunks <= bound,
      `rewrittenChunks ${s.progress.rewrittenChunks} > ${bound}`,
    );
    for (const r of retried) assert.notEqual(r.identity, identityOf(killed), 'a retry ran on a live node');
    // The killed node held batches when it died (runningOnAll); its attempts were replaced by retries.
    const ran = await batchWorkers(cluster.address, jobId);
    for (const w of [survivorA, survivorC])
      assert.ok(ran.has(identityOf(w)), `node ${identityOf(w)} ran batches: ${[...ran.keys()]}`);
    assert.ok(isAlive(survivorA) && isAlive(survivorC), 'the other nodes keep serving');
    console.log(
      `      killed a node at ${before.doneChunks}/${total} chunks; rewrittenChunks ${s.progress.rewrittenChunks} <= ${bound}; retried ${retried.map((r) => `${r.first}-${r.end - 1} (${r.lastFailure})`).join(', ') || 'none'}`,
    );
  });

  it('the Temporal server process stopped and restarted mid-job: nodes and CLI ride it out, the job completes voxel-exact', async () => {
    // Few batches per run: the job continues as new across the outage too.
    const job = jobOf('server-restart', { chunks_per_batch: 4, window: 8, batches_per_run: 10 });
    const total = chunkTotal(job);
    const workers = threeNodes('server');
    const waiting = nodes.startJob(nodes.writeConfig('server-restart', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    const before = await runningOnAll(jobId, total, workers);

    const stopped = Date.now();
    await cluster.stopServer();
    // Longer than the batches' heartbeat timeout (10 s) and a gRPC client's default retries (~20 s).
    await sleep(25_000);
    await cluster.startServer();
    const outage = Date.now() - stopped;
    for (const w of workers) assert.ok(isAlive(w), `node ${identityOf(w)} survived the outage\n${output(w)}`);
    assert.ok(isAlive(waiting), `start --wait survived the ${outage} ms outage\n${output(waiting)}`);

    // Every node's in-flight batches may have timed out during the outage; nothing else is redone.
    const { s, retried } = await assertJobDone(waiting, jobId, job, workers.length * BATCHES_PER_WORKER);
    assert.ok(s.progress.run > 1, `the job continued as new (run ${s.progress.run})`);
    console.log(
      `      server down ${outage} ms at ${before.doneChunks}/${total} chunks; runs ${s.progress.run}; rewrittenChunks ${s.progress.rewrittenChunks} in ${retried.length} retried batches`,
    );
  });

  it('PostgreSQL restarted mid-job: the server reconnects, the job completes voxel-exact', async () => {
    const job = jobOf('db-restart', { chunks_per_batch: 4, window: 8, batches_per_run: 10 });
    const total = chunkTotal(job);
    const workers = threeNodes('db');
    const waiting = nodes.startJob(nodes.writeConfig('db-restart', syntheticConfig(job)));
    const jobId = await waitForJobId(waiting);
    const before = await runningOnAll(jobId, total, workers);

    const stopped = Date.now();
    await cluster.postgres.stop();
    await sleep(15_000);
    await cluster.postgres.start();
    const outage = Date.now() - stopped;
    assert.ok(
      cluster.server.running,
      `the Temporal server survived the database outage\n${cluster.server.tail()}`,
    );
    for (const w of workers) assert.ok(isAlive(w), `node ${identityOf(w)} survived the outage\n${output(w)}`);

    const { s, retried } = await assertJobDone(waiting, jobId, job, workers.length * BATCHES_PER_WORKER);
    console.log(
      `      database down ${outage} ms at ${before.doneChunks}/${total} chunks; rewrittenChunks ${s.progress.rewrittenChunks} in ${retried.length} retried batches`,
    );
  });
});
