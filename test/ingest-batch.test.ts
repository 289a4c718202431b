// The batch activity (src/activities/ingest-batch.ts) in a MockActivityEnvironment, on the real
// chunk threads writing a real Zarr volume: resume from a checkpoint, cancel, worker shutdown.
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ActivityCancellationDetails, ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ingestBatch, type Checkpoint } from '../src/activities/ingest-batch.js';
import { prepareJob } from '../src/activities/prepare-job.js';
import { closeRowPool } from '../src/chunks/pool.js';
import { FAILURE } from '../src/errors.js';
import type { JobConfig } from '../src/config/types.js';
import type { BatchInput, BatchResult, JobPlan } from '../src/job/types.js';
import { syntheticConfig } from './harness/config.js';
import { chunkFiles } from './harness/durability.js';
import { assertVolume, readWithZarrPython, setEnv, tempDir } from './harness/env.js';
import { stackConfig, stackSpec, tileFile, voxel, writeStack } from './fixtures/stack.js';
import { openPngRows } from '../src/tiles/png-rows.js';
import { renderCounters } from '../src/metrics/counters.js';
import { validateConfig } from '../src/config/validate.js';

/** 8 x 2 x 2 chunks of 8 x 8 x 2 voxels: 4 rows of 8 chunks, x fastest, then y, then z. */
const CHUNKS = 32;
const CHUNK_VOXELS = 8 * 8 * 2;

/** The plan prepareJob makes of a job, as the workflow gets it. */
function planOf(config: JobConfig): Promise<JobPlan> {
  return new MockActivityEnvironment().run<[JobConfig], JobPlan, typeof prepareJob>(prepareJob, config);
}

/** How many rows of a PNG can be streamed before it turns out cut short. */
async function readableRows(file: string): Promise<number> {
  const rows = (await openPngRows(file, {}))!;
  let n = 0;
  try {
    for (; n < rows.height; n++) await rows.rows(1);
  } catch {
    // cut here
  } finally {
    await rows.close();
  }
  return n;
}

describe('ingestBatch in a mock activity environment', function () {
  let dir: string;
  let restoreThreads: () => void;

  before(() => {
    dir = tempDir('batch');
    restoreThreads = setEnv('BOSS_INGEST_THREADS', '2');
  });

  after(async () => {
    await closeRowPool();
    restoreThreads();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A new volume and the plan of a job writing it; tiles take `delayMs` each to read. */
  async function job(name: string, delayMs: number): Promise<{ out: string; plan: JobPlan }> {
    const out = path.join(dir, `${name}.ome.zarr`);
    const config = syntheticConfig({
      out,
      extent: { x: [0, 64], y: [0, 16], z: [0, 4] },
      tile: { x: 16, y: 16 },
      chunk: { x: 8, y: 8, z: 2 },
      delayMs,
    });
    const plan = await planOf(config);
    assert.equal(plan.totalChunks, CHUNKS);
    return { out, plan };
  }

  it("a default batch holds 128 MiB of the job's chunks (the plan says how many), at most 1,024", async () => {
    const sizes: string[] = [];
    for (const [bits, z] of [
      [8, 16],
      [16, 16],
      [16, 4],
      [8, 1],
    ] as const) {
      const config = syntheticConfig({
        out: path.join(dir, `batch-${bits}-${z}.ome.zarr`),
        extent: { x: [0, 64], y: [0, 16], z: [0, 16] },
        tile: { x: 16, y: 16 },
        chunk: { x: 512, y: 512, z },
        bits,
      });
      const plan = await planOf(config);
      sizes.push(`uint${bits} chunks of ${z}x512x512: ${plan.chunksPerBatch}`);
    }
    assert.deepEqual(sizes, [
      'uint8 chunks of 16x512x512: 32',
      'uint16 chunks of 16x512x512: 16',
      'uint16 chunks of 4x512x512: 64',
      'uint8 chunks of 1x512x512: 512',
    ]);
    const tiny = await job('tiny-chunks', 0);
    assert.equal(tiny.plan.chunksPerBatch, 1024, 'chunks of 8x8x2: the largest default batch');
  });

  it("a retry resumes at its checkpoint: only the rest is written, the earlier attempt's counts are kept", async () => {
    const { out, plan } = await job('resume', 0);
    const checkpoint: Checkpoint = {
      next: 16,
      result: { written: 16, skipped: 0, failed: 0, voxels: 16 * CHUNK_VOXELS, rewritten: 0, failures: [] },
    };
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: checkpoint });
    const result = await env.run<[BatchInput], BatchResult, typeof ingestBatch>(ingestBatch, {
      job: plan.job,
      first: 0,
      end: CHUNKS,
    });
    assert.equal(result.written, CHUNKS);
    assert.equal(result.voxels, CHUNKS * CHUNK_VOXELS);
    assert.equal(result.rewritten, 16, 'the chunks this attempt redid may have been written before');
    const files = chunkFiles(out);
    assert.equal(files.length, 16);
    // Chunks 16-31 are the second z chunk: key 0/c/1/y/x.
    for (const f of files) assert.match(path.relative(out, f), /^0[\\/]c[\\/]1[\\/]/);
  });

  it('a z-index batch retried from its checkpoint redoes only the slabs after it, each slice decoded once, exactly', async () => {
    // 40 x 30 slices in chunks of 16 x 16 x 4: slabs of 3 x 2 chunks, two of them.
    const spec = stackSpec(path.join(dir, 'zslices'), 'zindex', [40, 30, 8], 8, { tile: { x: 16, y: 16 } });
    await writeStack(spec);
    const out = path.join(dir, 'zresume.ome.zarr');
    const config = stackConfig(spec) as { client: { backend: unknown } };
    config.client.backend = { name: 'zarr', path: out, chunk_size: { x: 16, y: 16, z: 4 } };
    const plan = await planOf(validateConfig(config));
    assert.equal(plan.totalChunks, 12);
    assert.equal(plan.batchAlign, 6, 'batches are whole slabs');
    const decoded = () => Number(/^boss_ingest_slices_decoded_total (\d+)$/m.exec(renderCounters())![1]);
    const before = decoded();
    const checkpoint: Checkpoint = {
      next: 6,
      result: { written: 6, skipped: 0, failed: 0, voxels: 40 * 30 * 4, rewritten: 0, failures: [] },
    };
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: checkpoint });
    const result = await env.run<[BatchInput], BatchResult, typeof ingestBatch>(ingestBatch, {
      job: plan.job,
      first: 0,
      end: 12,
    });
    assert.equal(result.written, 12);
    assert.equal(result.voxels, 40 * 30 * 8);
    assert.equal(decoded() - before, 4, 'slices 4-7, each once');
    const files = chunkFiles(out);
    assert.equal(files.length, 6);
    for (const f of files) assert.match(path.relative(out, f), /^0[\\/]c[\\/]1[\\/]/);
    const read = await readWithZarrPython(out);
    assertVolume(read, { x: [0, 40], y: [0, 30], z: [4, 8] }, (x, y, z) => voxel(spec, x, y, z));
  });

  it('a z-index slab streamed with a slice cut short: the rows of chunks above the cut are written exactly, the rest fail naming the file', async () => {
    // 1024 x 1024 slices in chunks of 256 x 256 x 4: slabs of 4 rows of 4 chunks, two of them.
    // Streamed (not decoded whole), so each row of chunks is decoded while the one before it is
    // written. Rows of chunks much larger than what ISA-L's inflate holds back before a cut (it
    // hands rows over in bursts of tens of KiB: all of a 256 x 256 slice's).
    const restoreWhole = setEnv('BOSS_INGEST_WHOLE_SLAB_MIB', '0');
    await closeRowPool(); // the chunk threads take the environment as they start
    try {
      const spec = stackSpec(path.join(dir, 'zcut'), 'zindex', [1024, 1024, 8], 8, {
        tile: { x: 256, y: 256 },
      });
      await writeStack(spec);
      // Slice 5 cut where 1 or 2 rows of chunks (256 or 512 rows of pixels) can still be read whole.
      const cut = tileFile(spec, 0, 0, 5);
      const bytes = readFileSync(cut);
      let readable = 0;
      for (let keep = Math.floor(bytes.length / 4); keep < bytes.length; keep += 256) {
        writeFileSync(cut, bytes.subarray(0, keep));
        readable = await readableRows(cut);
        if (readable >= 256 && readable < 768) break;
      }
      assert.ok(readable >= 256 && readable < 768, `a cut leaving 256-767 readable rows (${readable})`);
      const goodRows = Math.floor(readable / 256);
      const out = path.join(dir, 'zcut.ome.zarr');
      const config = stackConfig(spec) as { client: { backend: unknown } };
      config.client.backend = { name: 'zarr', path: out, chunk_size: { x: 256, y: 256, z: 4 } };
      const plan = await planOf(validateConfig(config));
      assert.equal(plan.totalChunks, 32);
      const result = await new MockActivityEnvironment().run<[BatchInput], BatchResult, typeof ingestBatch>(
        ingestBatch,
        { job: plan.job, first: 0, end: 32 },
      );
      // Chunk (x, y, z) has index x + 4 y + 16 z; slice 5 is in z chunk 1.
      const failing = (y: number, z: number) => z === 1 && y >= goodRows;
      const expectedFailures = (4 - goodRows) * 4;
      assert.equal(result.failed, expectedFailures, JSON.stringify(result.failures.slice(0, 2)));
      assert.equal(result.written, 32 - expectedFailures);
      assert.deepEqual(
        result.failures.map((f) => f.chunk).sort((a, b) => a - b),
        Array.from({ length: 32 }, (_, i) => i).filter((i) =>
          failing(Math.floor(i / 4) % 4, Math.floor(i / 16)),
        ),
      );
      for (const f of result.failures) {
        assert.equal(f.file, cut);
        assert.match(f.reason, /truncated/);
      }
      assert.equal(chunkFiles(out).length, 32 - expectedFailures);
      const read = await readWithZarrPython(out);
      assertVolume(
        read,
        { x: [0, 1024], y: [0, 1024], z: [0, 8] },
        (x, y, z) => voxel(spec, x, y, z),
        (_x, y, z) => failing(Math.floor(y / 256), Math.floor(z / 4)),
      );
    } finally {
      restoreWhole();
      await closeRowPool();
    }
  });

  it('a z-index slab held whole with a slice cut short: every chunk of its slab fails naming the file, the other slab is written exactly', async () => {
    // 64 x 64 slices in chunks of 16 x 16 x 4: two slabs of 16 chunks, their slices held whole
    // (inflated at once on the first band read, png-stream.c's whole mode).
    const spec = stackSpec(path.join(dir, 'zwhole'), 'zindex', [64, 64, 8], 8, { tile: { x: 16, y: 16 } });
    await writeStack(spec);
    const cut = tileFile(spec, 0, 0, 5);
    writeFileSync(cut, readFileSync(cut).subarray(0, Math.floor(readFileSync(cut).length / 2)));
    const out = path.join(dir, 'zwhole.ome.zarr');
    const config = stackConfig(spec) as { client: { backend: unknown } };
    config.client.backend = { name: 'zarr', path: out, chunk_size: { x: 16, y: 16, z: 4 } };
    const plan = await planOf(validateConfig(config));
    const result = await new MockActivityEnvironment().run<[BatchInput], BatchResult, typeof ingestBatch>(
      ingestBatch,
      { job: plan.job, first: 0, end: 32 },
    );
    // Slice 5 is in z chunk 1: chunks 16-31.
    assert.deepEqual(
      result.failures.map((f) => f.chunk).sort((a, b) => a - b),
      Array.from({ length: 16 }, (_, i) => 16 + i),
    );
    for (const f of result.failures) {
      assert.equal(f.file, cut);
      assert.match(f.reason, /truncated/);
    }
    assert.equal(result.written, 16);
    assert.equal(chunkFiles(out).length, 16);
    const read = await readWithZarrPython(out);
    assertVolume(
      read,
      { x: [0, 64], y: [0, 64], z: [0, 8] },
      (x, y, z) => voxel(spec, x, y, z),
      (_x, _y, z) => z >= 4,
    );
  });

  it("a cancelled job's batch stops taking rows and completes with what it wrote, counts matching the disk", async () => {
    const { out, plan } = await job('cancel', 150);
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (details?: Checkpoint) => {
      if (details && details.next > 0) env.cancel();
    });
    const result = await env.run<[BatchInput], BatchResult, typeof ingestBatch>(ingestBatch, {
      job: plan.job,
      first: 0,
      end: CHUNKS,
    });
    assert.equal(result.cancelled, true);
    assert.ok(result.written > 0 && result.written < CHUNKS, `wrote ${result.written} of ${CHUNKS}`);
    assert.equal(result.written, chunkFiles(out).length);
  });

  it('a worker shutdown hands the batch back (BatchInterrupted) with a checkpoint covering only written rows', async () => {
    const { out, plan } = await job('shutdown', 150);
    const env = new MockActivityEnvironment();
    let last: Checkpoint | undefined;
    env.on('heartbeat', (details?: Checkpoint) => {
      if (!details) return;
      last = details;
      if (details.next > 0)
        env.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    });
    await assert.rejects(
      env.run<[BatchInput], BatchResult, typeof ingestBatch>(ingestBatch, {
        job: plan.job,
        first: 0,
        end: CHUNKS,
      }),
      (err: unknown) =>
        err instanceof ApplicationFailure &&
        err.type === FAILURE.batchInterrupted &&
        err.message === 'batch interrupted (worker shutting down); resuming elsewhere',
    );
    assert.ok(last && last.next > 0 && last.next < CHUNKS, JSON.stringify(last));
    assert.equal(last.result.written, last.next, 'the checkpoint counts every chunk before it');
    assert.ok(chunkFiles(out).length >= last.next);
  });
});
