/**
 * The pyramid's threads in a worker process: decoding, downsampling and encoding stay off the
 * main thread. Started on a job's first pyramid chunk and let go when idle, since most work is
 * the ingest's.
 */
import { Piscina } from 'piscina';
import { chunkThreads } from '../chunks/pool.js';
import type { PyramidChunkOutcome, PyramidChunkTask } from './chunk-task.js';

let pool: Piscina<PyramidChunkTask, PyramidChunkOutcome> | undefined;

export function pyramidPool(): Piscina<PyramidChunkTask, PyramidChunkOutcome> {
  pool ??= new Piscina<PyramidChunkTask, PyramidChunkOutcome>({
    filename: new URL('./chunk-task.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: chunkThreads(),
    idleTimeout: 60_000,
  });
  return pool;
}

export async function closePyramidPool(): Promise<void> {
  await pool?.destroy();
  pool = undefined;
}
