/**
 * `npm run bench:scale`: the engine at scale, with the synthetic source and the discard
 * destination (no image I/O):
 *   - a job of 1,048,576 chunks: total time, orchestration time per chunk, history per run;
 *   - a worker's peak memory (VmHWM) on a job of N chunks and of 100 N real-size chunks;
 *   - batch activities per second one workflow sustains (batches of one tiny chunk).
 */
import os from 'node:os';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { JobConfig } from '../src/config/types.js';
import { jobHistories } from '../test/harness/history.js';
import { startBenchServer, startWorker, timeJob } from './workers.js';

function syntheticJob(
  extent: { x: number; y: number; z: number },
  tile: number,
  chunk: { x: number; y: number; z: number },
  engine: object,
): JobConfig {
  return {
    schema: { name: 'boss-v0.2-schema', validator: 'BossValidatorV02' },
    client: {
      backend: { name: 'discard', datatype: 'uint8', chunk_size: chunk },
      path_processor: { class: 'boss_ingest.plugins.synthetic.SyntheticPathProcessor' },
      tile_processor: { class: 'boss_ingest.plugins.synthetic.SyntheticTileProcessor' },
    },
    database: { collection: 'scale', experiment: 'scale', channel: 'scale' },
    ingest_job: {
      resolution: 0,
      ingest_type: 'tile',
      extent: { x: [0, extent.x], y: [0, extent.y], z: [0, extent.z], t: [0, 1] },
      tile_size: { x: tile, y: tile, z: 1, t: 1 },
    },
    engine,
  } as JobConfig;
}

/** The longest history of the job's runs. */
async function maxHistory(
  client: Client,
  id: string,
): Promise<{ runs: number; events: number; bytes: number }> {
  const runs = await jobHistories(client, id);
  return {
    runs: runs.length,
    events: Math.max(...runs.map((h) => h.events?.length ?? 0)),
    bytes: Math.max(...runs.map((h) => proto.temporal.api.history.v1.History.encode(h).finish().length)),
  };
}

async function main(): Promise<void> {
  const server = await startBenchServer();
  try {
    console.log(
      `boss-ingest scale bench: ${os.availableParallelism()} cores, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
    );

    // Memory: the same worker settings on N and 100 N chunks of real size (16x512x512).
    for (const [label, depth] of [
      ['small', 16 * 4],
      ['100x', 16 * 400],
    ] as const) {
      const worker = await startWorker(server);
      try {
        const job = syntheticJob({ x: 1024, y: 512, z: depth }, 512, { x: 512, y: 512, z: 16 }, {});
        const { seconds, result } = await timeJob(server, job, `mem-${label}-${Date.now()}`);
        console.log(
          `memory, ${label} job: ${result.doneChunks} chunks in ${seconds.toFixed(1)} s, worker peak RSS ${worker.peakRssMiB().toFixed(0)} MiB`,
        );
      } finally {
        await worker.stop();
      }
    }

    // Scale: 1,048,576 chunks of 16x16x1 voxels, 1,024 chunks per batch.
    const worker = await startWorker(server);
    try {
      const job = syntheticJob(
        { x: 16384, y: 16384, z: 1 },
        16,
        { x: 16, y: 16, z: 1 },
        { chunks_per_batch: 1024, window: 8 },
      );
      const id = `scale-${Date.now()}`;
      const { seconds, result } = await timeJob(server, job, id);
      const h = await maxHistory(server.client, id);
      console.log(
        `scale: ${result.doneChunks} chunks, ${result.state}, ${seconds.toFixed(1)} s in all, ${((seconds * 1e6) / result.doneChunks).toFixed(1)} us per chunk; ` +
          `${h.runs} runs, at most ${h.events} history events and ${(h.bytes / 1024).toFixed(0)} KiB per run`,
      );
    } finally {
      await worker.stop();
    }

    // What one workflow sustains: batches of one tiny chunk, so the batches' work is nothing next
    // to their orchestration; 4 worker processes of 2 activity slots each, a window of 32.
    const workers = await startWorker(server, 4, { BOSS_INGEST_THREADS: '1' });
    try {
      const batches = 3000;
      const job = syntheticJob(
        { x: 16 * batches, y: 16, z: 1 },
        16,
        { x: 16, y: 16, z: 1 },
        {
          chunks_per_batch: 1,
          window: 32,
        },
      );
      const { seconds, result } = await timeJob(server, job, `orchestration-${Date.now()}`);
      console.log(
        `orchestration: ${result.doneChunks} batches of one chunk, ${result.state}, ${seconds.toFixed(1)} s: ${(result.doneChunks / seconds).toFixed(0)} batch activities per second in one workflow`,
      );
    } finally {
      await workers.stop();
    }
  } finally {
    await server.stop();
  }
}

await main();
process.exit(0);
