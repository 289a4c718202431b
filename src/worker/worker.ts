/** A boss-ingest worker: serves every job on the task queue until SIGINT/SIGTERM. */
import { existsSync } from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from '../activities/index.js';
import { closeRowPool, chunkThreads } from '../chunks/pool.js';
import { WORKFLOW_BUNDLE_PATH, WORKFLOWS_PATH } from './bundle.js';

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
}

/** Time in-flight batches get to finish on SIGTERM before they are handed back to Temporal. */
export const SHUTDOWN_GRACE = '20s';

export async function runWorker(options: WorkerOptions): Promise<void> {
  const connection = await NativeConnection.connect({ address: options.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      // The bundle made by `npm run build`; without it (a bare tsc build) webpack bundles at start.
      ...(existsSync(WORKFLOW_BUNDLE_PATH)
        ? { workflowBundle: { codePath: WORKFLOW_BUNDLE_PATH } }
        : { workflowsPath: WORKFLOWS_PATH }),
      activities,
      // Each batch spreads its rows over all chunk threads; two batches keep them busy between batches.
      maxConcurrentActivityTaskExecutions: Math.max(2, Math.ceil(chunkThreads() / 2)),
      shutdownGraceTime: SHUTDOWN_GRACE,
    });
    await worker.run();
  } finally {
    await closeRowPool();
    await connection.close();
  }
}
