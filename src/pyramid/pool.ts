/**
 * The pyramid's threads in a worker process: decoding, downsampling and encoding stay off the
 * main thread. Started on the first pyramid chunk and kept, like the chunk threads: a thread's
 * start (modules, the wasm codecs, a cold JIT) costs more than building a few chunks.
 */
import { Piscina } from 'piscina';
import { chunkThreads } from '../chunks/pool.js';
import type { PyramidChunkOutcome, PyramidChunkTask } from './chunk-task.js';

let pool: Piscina<PyramidChunkTask, PyramidChunkOutcome> | undefined;

export function pyramidPool(): Piscina<PyramidChunkTask, PyramidChunkOutcome> {
  pool ??= new Piscina<PyramidChunkTask, PyramidChunkOutcome>({
    filename: new URL('./chunk-task.js', import.meta.url).href,
    minThreads: chunkThreads(),
    maxThreads: chunkThreads(),
    idleTimeout: Number.POSITIVE_INFINITY,
  });
  return pool;
}

export async function closePyramidPool(): Promise<void> {
  await pool?.destroy();
  pool = undefined;
}
