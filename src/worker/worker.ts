/** A boss-ingest worker: serves every job on the task queue until SIGINT/SIGTERM. */
import { NativeConnection, Worker } from '@temporalio/worker';
import { closeRowPool, chunkThreads } from '../chunks/pool.js';
import { directIoMode } from '../objects/direct-io.js';
import { closePyramidPool } from '../pyramid/pool.js';
import { BatchSlots } from './batch-slots.js';
import { freshWorkflowBundle, WORKFLOWS_PATH } from './bundle.js';

export interface WorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
}

/** Time in-flight batches get to finish on SIGTERM before they are handed back to Temporal, in ms. */
export const SHUTDOWN_GRACE = 20_000;

/**
 * Batches whose rows a worker process runs at once: each spreads its rows over all chunk threads.
 * A process of one thread (`-p N` sharing the cores) runs one: a second batch would only queue its
 * rows behind the first's on that thread while another process idles. Measured on the 8-bit stack
 * (two batches of 32 chunks) on 2 processes of one thread each: 149 MiB/s when one process took
 * both batches.
 */
export function batchesRunning(threads: number): number {
  return threads <= 1 ? 1 : Math.max(2, Math.ceil(threads / 2));
}

/** The most batches a worker process holds at once: those running and the next (see batch-slots.ts). */
export function batchesPerWorker(threads: number): number {
  return batchesRunning(threads) + 1;
}

/** How long a worker waits for its server to come up: `run` starts both at once. */
export const CONNECT_WAIT_MS = 60_000;

/** A connection to the server, waiting for it while it starts (a refused connect is retried). */
async function connectWhenUp(address: string): Promise<NativeConnection> {
  const deadline = Date.now() + CONNECT_WAIT_MS;
  for (;;) {
    try {
      return await NativeConnection.connect({ address });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export async function runWorker(options: WorkerOptions): Promise<void> {
  directIoMode(); // a wrong setting stops the worker now, not its first large write
  const bundle = freshWorkflowBundle();
  // The activities' modules load while the connection waits for the server.
  const connecting = connectWhenUp(options.address);
  let connection: NativeConnection | undefined;
  try {
    const activities = await import('../activities/index.js');
    connection = await connecting;
    const worker = await Worker.create({
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue,
      // The bundle made by `npm run build`, unless a later build changed the workflow code.
      ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: WORKFLOWS_PATH }),
      activities,
      tuner: {
        activityTaskSlotSupplier: new BatchSlots(batchesRunning(chunkThreads())),
        // The SDK's own defaults for the others.
        workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 40 },
        localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 100 },
        nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 100 },
      },
      shutdownGraceTime: SHUTDOWN_GRACE,
    });
    await worker.run();
  } finally {
    await closeRowPool();
    await closePyramidPool();
    if (connection) await connection.close();
    else void connecting.then((c) => c.close()).catch(() => undefined);
  }
}
