/** A boss-ingest worker: serves every job on the task queue until SIGINT/SIGTERM. */
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from '../activities/index.js';
import { closeRowPool, chunkThreads } from '../chunks/pool.js';
import { freshWorkflowBundle, WORKFLOWS_PATH } from './bundle.js';

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
}

/** Time in-flight batches get to finish on SIGTERM before they are handed back to Temporal. */
export const SHUTDOWN_GRACE = '20s';

export async function runWorker(options: WorkerOptions): Promise<void> {
  const bundle = freshWorkflowBundle();
  const connection = await NativeConnection.connect({ address: options.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      // The bundle made by `npm run build`, unless a later build changed the workflow code.
      ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: WORKFLOWS_PATH }),
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
