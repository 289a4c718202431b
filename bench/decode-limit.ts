/**
 * The limit an ingest of compressed tiles approaches: boss-ingest's exact decoders decoding every
 * file on all cores, one thread per core, nothing else; either whole (decode.ts: the native PNG
 * and JPEG addons) or, where a file can be, a band of rows at a time into one buffer (png-rows.ts:
 * the native stream on libuv's threads, its image data inflated by zlib as the rows are asked for,
 * 'streamed', or at once by libdeflate, 'whole rows', as a z-index slab reads its slices). The
 * bench takes the fastest. The same module is the decoding thread.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { timeThreads } from './limit-threads.js';
import { decodeGreyImage } from '../src/tiles/decode.js';
import { keepWholeBuffers, openPngRows } from '../src/tiles/png-rows.js';

export type DecodeMode = 'whole' | 'streamed' | 'whole rows';

interface Work {
  files: string[];
  mode: DecodeMode;
  /** [next file index, bytes decoded]: shared by the threads, so none idles while files remain. */
  shared: SharedArrayBuffer;
}

/** Rows a streamed file hands over at a time: a slab's row of chunks. */
const BAND = 512;

/** Bytes of samples in `file`, streamed where the native stream takes it, else decoded whole. */
async function decodeFile(file: string, mode: DecodeMode, scratch: { band?: Uint8Array }): Promise<number> {
  const rows =
    mode === 'whole'
      ? undefined
      : await openPngRows(file, {}, mode === 'streamed' ? 'native' : 'native-whole');
  if (!rows?.rowsInto) {
    await rows?.close();
    return (await decodeGreyImage(file)).data.byteLength;
  }
  try {
    const rowBytes = rows.width * (rows.datatype === 'uint16' ? 2 : 1);
    if ((scratch.band?.length ?? 0) < BAND * rowBytes) scratch.band = new Uint8Array(BAND * rowBytes);
    const place = {
      samples: scratch.band!,
      x: [0, rows.width] as [number, number],
      offset: 0,
      stride: rowBytes,
    };
    for (let y = 0; y < rows.height; y += BAND) await rows.rowsInto(Math.min(BAND, rows.height - y), [place]);
    return rows.height * rowBytes;
  } finally {
    await rows.close();
  }
}

async function decodeThread({ files, mode, shared }: Work): Promise<void> {
  const sharp = (await import('sharp')).default;
  sharp.concurrency(1);
  sharp.cache(false);
  const state = new BigInt64Array(shared);
  // As a slab keeps them (slab.ts: the default budget for slices held whole).
  if (mode === 'whole rows') keepWholeBuffers(256 * 2 ** 20);
  parentPort!.postMessage('ready');
  await new Promise((resolve) => parentPort!.once('message', resolve));
  const scratch = {};
  for (let i = Atomics.add(state, 0, 1n); i < files.length; i = Atomics.add(state, 0, 1n))
    Atomics.add(state, 1, BigInt(await decodeFile(files[Number(i)]!, mode, scratch)));
  parentPort!.postMessage('done');
}

/** Seconds to decode every file with `threads` threads (started before the clock), and bytes decoded. */
export async function decodeLimit(
  files: string[],
  threads: number,
  mode: DecodeMode = 'whole',
): Promise<{ seconds: number; bytes: number }> {
  const shared = new SharedArrayBuffer(16);
  return timeThreads(new URL(import.meta.url), threads, { files, mode, shared } satisfies Work);
}

if (!isMainThread && (workerData as Work | undefined)?.shared) await decodeThread(workerData as Work);
