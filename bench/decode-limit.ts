/**
 * The limit an ingest of compressed tiles approaches: boss-ingest's exact decoders (decode.ts:
 * @napi-rs/image for PNG, libjpeg-turbo through sharp for JPEG) decoding every tile on all cores,
 * one thread per core, nothing else. The same module is the decoding thread.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { decodeGreyImage } from '../src/tiles/decode.js';

interface Work {
  files: string[];
  /** [next file index, bytes decoded]: shared by the threads, so none idles while files remain. */
  shared: SharedArrayBuffer;
}

async function decodeThread({ files, shared }: Work): Promise<void> {
  const sharp = (await import('sharp')).default;
  sharp.concurrency(1);
  sharp.cache(false);
  const state = new BigInt64Array(shared);
  parentPort!.postMessage('ready');
  await new Promise((resolve) => parentPort!.once('message', resolve));
  for (let i = Atomics.add(state, 0, 1n); i < files.length; i = Atomics.add(state, 0, 1n)) {
    const tile = await decodeGreyImage(files[Number(i)]!);
    Atomics.add(state, 1, BigInt(tile.data.byteLength));
  }
  parentPort!.postMessage('done');
}

/** Seconds to decode every file with `threads` threads (started before the clock), and bytes decoded. */
export async function decodeLimit(
  files: string[],
  threads: number,
): Promise<{ seconds: number; bytes: number }> {
  const shared = new SharedArrayBuffer(16);
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL(import.meta.url), { workerData: { files, shared } satisfies Work }),
  );
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
    return { seconds: (performance.now() - t0) / 1000, bytes: Number(new BigInt64Array(shared)[1]) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

if (!isMainThread && (workerData as Work | undefined)?.shared) await decodeThread(workerData as Work);
