/**
 * How the limits (decode-limit.ts, read-limit.ts) time their threads: each thread loads and says
 * 'ready', the clock starts when all have, each is told 'go' and says 'done' when the shared work
 * runs out. `shared` holds [next item, bytes done] as BigInt64s, taken with Atomics by the threads.
 */
import { Worker } from 'node:worker_threads';

export async function timeThreads<W extends { shared: SharedArrayBuffer }>(
  module: URL,
  threads: number,
  workerData: W,
): Promise<{ seconds: number; bytes: number }> {
  const workers = Array.from({ length: threads }, () => new Worker(module, { workerData }));
  const message = (w: Worker) =>
    new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
  try {
    await Promise.all(workers.map(message));
    const t0 = performance.now();
    const done = workers.map(message);
    for (const w of workers) w.postMessage('go');
    await Promise.all(done);
    return {
      seconds: (performance.now() - t0) / 1000,
      bytes: Number(new BigInt64Array(workerData.shared)[1]),
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
