/** The pool of chunk threads of a worker process: decoding, assembly and compression stay off the main thread. */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { metricsWorkerData } from '../metrics/counters.js';
import type { RowOutcome, RowTask } from './row-task.js';

let pool: Piscina<RowTask, RowOutcome> | undefined;

/** Threads per worker process: BOSS_INGEST_THREADS, else the machine's cores. */
export function chunkThreads(): number {
  const fromEnv = Number(process.env.BOSS_INGEST_THREADS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : availableParallelism();
}

export function rowPool(): Piscina<RowTask, RowOutcome> {
  pool ??= new Piscina<RowTask, RowOutcome>({
    filename: new URL('./row-task.js', import.meta.url).href,
    minThreads: chunkThreads(),
    maxThreads: chunkThreads(),
    idleTimeout: Number.POSITIVE_INFINITY,
    // geotiff (multipage TIFF sources) imports web-worker, which in a worker thread reads
    // workerData as its own and throws on loading when it is undefined.
    workerData: { ...metricsWorkerData() },
  });
  return pool;
}

export async function closeRowPool(): Promise<void> {
  await pool?.destroy();
  pool = undefined;
}
