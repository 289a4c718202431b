// The job workflow in process (src/workflows/): a local dev server, an in-process worker with the
// bundled workflow and stub activities, so the window, failures, cancel, continue-as-new and the
// rate limit are checked in seconds without images or volumes.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ENGINE_DEFAULTS } from '../src/config/job.js';
import type { JobConfig } from '../src/config/types.js';
import { FAILURE } from '../src/errors.js';
import type { BatchInput, BatchResult, JobPlan, JobResult } from '../src/job/types.js';
import { installedTemporalCli } from '../src/server/embedded.js';
import { WORKFLOW_BUNDLE_PATH } from '../src/worker/bundle.js';
import { ingestJob } from '../src/workflows/index.js';
import { cancelSignal, progressQuery } from '../src/workflows/messages.js';
import { syntheticConfig } from './harness/config.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A job of `chunks` one-voxel chunks in a row; the stubs never look at the volume. */
function plan(config: JobConfig, chunks: number): JobPlan {
  const chunk = { x: 1, y: 1, z: 1 };
  return {
    job: {
      config,
      grid: { extent: { x: [0, chunks], y: [0, 1], z: [0, 1], t: [0, 1] }, chunk },
      destination: { name: 'discard', datatype: 'uint8', chunk },
    },
    totalChunks: chunks,
    totalVoxels: chunks,
    source: 'stub source',
    destination: 'stub destination',
    extent: `x [0, ${chunks})`,
  };
}

function config(engine: JobConfig['engine'], rateLimit?: number): JobConfig {
  const c = syntheticConfig({
    out: '/nonexistent',
    extent: { x: [0, 1], y: [0, 1], z: [0, 1] },
    tile: { x: 1, y: 1 },
    chunk: { x: 1, y: 1, z: 1 },
    engine,
  });
  if (rateLimit !== undefined)
    c.client.backend = { name: 'boss', host: 'boss.invalid', protocol: 'https', rate_limit: rateLimit };
  return c;
}

/** The error a promise rejects with, or undefined if it resolves. */
function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

interface BatchCall {
  first: number;
  end: number;
  /** When the batch started, ms since the epoch. */
  at: number;
}

/** A stub ingestBatch: writes every chunk after `ms`, or does what `behave` says for a batch. */
class StubBatches {
  readonly calls: BatchCall[] = [];
  private inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly ms: number,
    private readonly behave?: (input: BatchInput) => 'block' | Error | undefined,
  ) {}

  readonly ingestBatch = async (input: BatchInput): Promise<BatchResult> => {
    this.calls.push({ first: input.first, end: input.end, at: Date.now() });
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      const behaviour = this.behave?.(input);
      if (behaviour instanceof Error) throw behaviour;
      if (behaviour === 'block') return await untilCancelled();
      await sleep(this.ms);
      const n = input.end - input.first;
      return { written: n, skipped: 0, failed: 0, voxels: n, rewritten: 0, failures: [] };
    } finally {
      this.inFlight--;
    }
  };

  /** Every chunk [0, total) was launched exactly once. */
  assertEachChunkOnce(total: number): void {
    const chunks = this.calls.flatMap((c) => Array.from({ length: c.end - c.first }, (_, i) => c.first + i));
    assert.deepEqual(
      chunks.sort((a, b) => a - b),
      Array.from({ length: total }, (_, i) => i),
    );
  }
}

/** Heartbeats until the job's cancel reaches the activity, then reports nothing written, as ingestBatch does. */
async function untilCancelled(): Promise<BatchResult> {
  const ctx = Context.current();
  while (!ctx.cancellationSignal.aborted) {
    ctx.heartbeat();
    await sleep(50);
  }
  return { written: 0, skipped: 0, failed: 0, voxels: 0, rewritten: 0, failures: [], cancelled: true };
}

describe('the job workflow with stub activities (in-process worker)', function () {
  let env: TestWorkflowEnvironment;

  before(async function () {
    const cli = installedTemporalCli();
    if (!cli) throw new Error('no Temporal CLI: set TEMPORAL_CLI_PATH (this test never downloads one)');
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: cli }, ui: false },
    });
  });

  after(async () => {
    await env?.teardown();
  });

  /** Runs `fn` with a worker serving the bundled workflow and these stubs on a task queue of its own. */
  async function withWorker<T>(
    stub: StubBatches,
    jobPlan: JobPlan,
    fn: (taskQueue: string) => Promise<T>,
    ingestBatch: (input: BatchInput) => Promise<BatchResult> = stub.ingestBatch,
  ): Promise<T> {
    const taskQueue = `wf-test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH },
      activities: { prepareJob: async () => jobPlan, ingestBatch },
      // Heartbeats reach the server at once, so a cancel reaches the stubs in milliseconds.
      maxHeartbeatThrottleInterval: '50ms',
    });
    return worker.runUntil(fn(taskQueue));
  }

  function start(taskQueue: string, jobConfig: JobConfig) {
    return env.client.workflow.start(ingestJob, {
      workflowId: `job-${randomUUID()}`,
      taskQueue,
      args: [jobConfig],
    });
  }

  it('keeps at most `window` batches in flight and counts every chunk once', async () => {
    const c = config({ window: 3, chunks_per_batch: 1 });
    const stub = new StubBatches(100);
    const result = await withWorker(stub, plan(c, 12), async (q) => (await start(q, c)).result());
    assert.equal(stub.maxInFlight, 3);
    stub.assertEachChunkOnce(12);
    assert.equal(result.state, 'completed');
    assert.equal(result.doneChunks, 12);
    assert.equal(result.failedChunks, 0);
  });

  it('a batch failing with a job error fails the job with its message; nothing after it starts', async () => {
    const c = config({ window: 1, chunks_per_batch: 2 });
    const stub = new StubBatches(0, (b) =>
      b.first === 4 ? ApplicationFailure.nonRetryable('the volume is uint8', FAILURE.jobError) : undefined,
    );
    const err = await withWorker(stub, plan(c, 10), async (q) => {
      const handle = await start(q, c);
      const failed = await failureOf(handle.result());
      return { failed, progress: await handle.query(progressQuery), id: handle.workflowId };
    });
    assert.ok(err.failed instanceof WorkflowFailedError, String(err.failed));
    assert.ok(err.failed.cause instanceof ApplicationFailure);
    assert.equal(err.failed.cause.type, FAILURE.jobFailed);
    const hint = `; what was written stays: once this is resolved, run the job again with -j ${err.id}`;
    assert.equal(err.failed.cause.message, `the volume is uint8${hint}`);
    assert.equal(err.progress.state, 'failed');
    assert.equal(err.progress.error, `the volume is uint8${hint}`);
    assert.deepEqual(
      stub.calls.map((b) => b.first),
      [0, 2, 4],
    );
  });

  it('a batch failing with any other error fails its chunks only; the job completes with errors', async () => {
    const c = config({ window: 2, chunks_per_batch: 2 });
    const stub = new StubBatches(0, (b) =>
      b.first === 4 ? ApplicationFailure.nonRetryable('disk on fire', FAILURE.chunkWrite) : undefined,
    );
    const result = await withWorker(stub, plan(c, 10), async (q) => (await start(q, c)).result());
    assert.equal(result.state, 'completed_with_errors');
    assert.equal(result.doneChunks, 8);
    assert.equal(result.failedChunks, 2);
    assert.deepEqual(result.failures, [
      { chunk: 4, reason: 'chunks 4-5 failed after retries: disk on fire' },
    ]);
  });

  /** Every chunk of every batch fails as a wrong root_dir makes it fail. */
  const missingTiles = async (input: BatchInput): Promise<BatchResult> => {
    const n = input.end - input.first;
    const failures = Array.from({ length: n }, (_, i) => ({
      chunk: input.first + i,
      file: `/wrong/root/0/0_${input.first + i}_0.png`,
      reason: 'file not found',
    }));
    return { written: 0, skipped: 0, failed: n, voxels: 0, rewritten: 0, failures };
  };

  it('a job whose chunks all fail stops early with the common reason and the resume hint', async () => {
    const c = config({ window: 2, chunks_per_batch: 4 });
    const stub = new StubBatches(0);
    const out = await withWorker(
      stub,
      plan(c, 4000),
      async (q) => {
        const handle = await start(q, c);
        const failed = await failureOf(handle.result());
        return { failed, progress: await handle.query(progressQuery), id: handle.workflowId };
      },
      missingTiles,
    );
    assert.ok(out.failed instanceof WorkflowFailedError, String(out.failed));
    assert.equal(out.progress.state, 'failed');
    assert.match(out.progress.error ?? '', /^stopped early: all \d+ chunks processed so far failed/);
    assert.match(
      out.progress.error ?? '',
      /every tile so far is missing, e\.g\. \/wrong\/root\/0\/0_\d+_0\.png: check root_dir/,
    );
    assert.ok(out.progress.error?.endsWith(`run the job again with -j ${out.id}`), out.progress.error);
    const processed = out.progress.failedChunks;
    // Judged after the default failure_check_after; by then at most the window's 2 batches of 4 more.
    const after = ENGINE_DEFAULTS.failureStop.afterChunks;
    assert.ok(
      processed >= after && processed <= after + 2 * 4,
      `${processed} chunks processed before stopping`,
    );
  });

  it('with max_failed_fraction 1 (a sparse stack) the job goes on to the end', async () => {
    const c = config({ window: 2, chunks_per_batch: 4, max_failed_fraction: 1 });
    const stub = new StubBatches(0);
    const result = await withWorker(
      stub,
      plan(c, 40),
      async (q) => (await start(q, c)).result(),
      missingTiles,
    );
    assert.equal(result.state, 'completed_with_errors');
    assert.equal(result.failedChunks, 40);
  });

  it('boss-ingest cancel (the reason by signal, then Temporal cancel) stops in-flight batches; the execution ends Canceled', async () => {
    const c = config({ window: 4, chunks_per_batch: 1 });
    const stub = new StubBatches(0, () => 'block');
    const out = await withWorker(stub, plan(c, 100), async (q) => {
      const handle = await start(q, c);
      while (stub.calls.length < 4) await sleep(20);
      const t0 = Date.now();
      await handle.signal(cancelSignal, 'wrong stack');
      await handle.cancel();
      const failed = await failureOf(handle.result());
      const stoppedIn = Date.now() - t0;
      return {
        failed,
        stoppedIn,
        progress: await handle.query(progressQuery),
        status: (await handle.describe()).status.name,
      };
    });
    assert.ok(
      out.failed instanceof WorkflowFailedError && out.failed.cause instanceof CancelledFailure,
      String(out.failed),
    );
    assert.equal(out.status, 'CANCELLED');
    assert.equal(out.progress.state, 'cancelled');
    assert.equal(out.progress.cancelReason, 'wrong stack');
    assert.equal(stub.calls.length, 4, 'no batch starts after the cancel');
    assert.ok(out.stoppedIn < 5000, `stopped in ${out.stoppedIn} ms`);
  });

  it('without chunks_per_batch, batches grow with the job so one workflow is never the bottleneck', async () => {
    const c = config({ window: 2 });
    const sizes: number[] = [];
    for (const chunks of [100, 1_000_000, 250_000_000]) {
      const stub = new StubBatches(0, () => 'block');
      await withWorker(stub, plan(c, chunks), async (q) => {
        const handle = await start(q, c);
        while (stub.calls.length < 1) await sleep(20);
        await handle.cancel();
        await failureOf(handle.result());
      });
      sizes.push(stub.calls[0]!.end - stub.calls[0]!.first);
    }
    // 32 chunks a batch for a small job; at most 20,000 batches for a large one, up to 1,024 chunks.
    assert.deepEqual(sizes, [32, 64, 1024]);
  });

  it("batches hold the plan's chunksPerBatch, unless the config's chunks_per_batch says otherwise", async () => {
    const sizes: number[] = [];
    for (const engine of [{ window: 2 }, { window: 2, chunks_per_batch: 3 }]) {
      const c = config(engine);
      const stub = new StubBatches(0);
      await withWorker(stub, { ...plan(c, 40), chunksPerBatch: 8 }, async (q) =>
        (await start(q, c)).result(),
      );
      stub.assertEachChunkOnce(40);
      sizes.push(Math.max(...stub.calls.map((b) => b.end - b.first)));
    }
    assert.deepEqual(sizes, [8, 3]);
  });

  it('Temporal cancel alone (UI, temporal workflow cancel) takes the same path, with its own reason', async () => {
    const c = config({ window: 2, chunks_per_batch: 1 });
    const stub = new StubBatches(0, () => 'block');
    const out = await withWorker(stub, plan(c, 10), async (q) => {
      const handle = await start(q, c);
      while (stub.calls.length < 2) await sleep(20);
      await handle.cancel();
      const failed = await failureOf(handle.result());
      return { failed, progress: await handle.query(progressQuery) };
    });
    assert.ok(out.failed instanceof WorkflowFailedError && out.failed.cause instanceof CancelledFailure);
    assert.equal(out.progress.state, 'cancelled');
    assert.equal(out.progress.cancelReason, 'cancelled through Temporal');
  });

  it('the bare cancel signal (temporal workflow signal --name cancel) stops the job: Completed, state cancelled', async () => {
    const c = config({ window: 2, chunks_per_batch: 1 });
    const stub = new StubBatches(0, () => 'block');
    const out = await withWorker(stub, plan(c, 10), async (q) => {
      const handle = await start(q, c);
      while (stub.calls.length < 2) await sleep(20);
      await handle.signal(cancelSignal, 'by hand');
      const result: JobResult = await handle.result();
      return { result, status: (await handle.describe()).status.name };
    });
    assert.equal(out.status, 'COMPLETED');
    assert.equal(out.result.state, 'cancelled');
    assert.equal(out.result.cancelReason, 'by hand');
    assert.equal(stub.calls.length, 2);
  });

  it('continues as new every `batches_per_run` batches, carrying progress; each chunk runs once', async () => {
    const c = config({ window: 2, chunks_per_batch: 2, batches_per_run: 2 });
    const stub = new StubBatches(0);
    const result = await withWorker(stub, plan(c, 11), async (q) => (await start(q, c)).result());
    assert.equal(result.run, 3, '6 batches, 2 per run');
    assert.equal(result.state, 'completed');
    assert.equal(result.doneChunks, 11);
    stub.assertEachChunkOnce(11);
  });

  it('rate_limit spaces launches: no faster than rate_limit chunks per second', async () => {
    const rate = 20;
    const c = config({ window: 16, chunks_per_batch: 1 }, rate);
    const stub = new StubBatches(0);
    const result = await withWorker(stub, plan(c, 9), async (q) => (await start(q, c)).result());
    assert.equal(result.doneChunks, 9);
    const at = stub.calls.map((b) => b.at).sort((a, b) => a - b);
    // Launch i is due 1000 * i / rate ms after the first: 400 ms for the ninth, minus the first's own delay.
    const span = at[8]! - at[0]!;
    assert.ok(span >= (8 * 1000) / rate - 100, `9 launches within ${span} ms at ${rate}/s`);
    for (let i = 1; i < at.length; i++)
      assert.ok(
        at[i]! - at[0]! >= (i * 1000) / rate - 100,
        `launch ${i} ${at[i]! - at[0]!} ms after the first`,
      );
  });
});
