/**
 * The limit an ingest of pages that need no decoding approaches (issue 10: uncompressed multipage
 * TIFF): each chunk's pages read straight into its buffer with pread and the chunk compressed as
 * the ingest compresses it (blosc.ts: liblz4 on libuv's threads), on all cores, one thread per
 * core, nothing else: no orchestration, no assembly, no writes. Where the pages lie is found
 * before the clock starts. The same module is the reading thread.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fromFile } from 'geotiff';
import { encodeBloscLz4Parts } from '../src/destinations/blosc.js';
import { timeThreads } from './limit-threads.js';

/** A series of one uncompressed multipage TIFF per z slice, chunked one time point (all z) a chunk. */
export interface SeriesLayout {
  files: string[];
  /** Per file, per page: its strips as [file offset, bytes], in row order. */
  strips: [number, number][][][];
  /** Bytes of one page's samples. */
  pageBytes: number;
}

interface Work {
  layout: SeriesLayout;
  /** [next chunk (time point), bytes read]: shared by the threads, so none idles while chunks remain. */
  shared: SharedArrayBuffer;
}

/** Where every page's samples are, from the files' IFDs (geotiff), for `pages` pages a file. */
export async function seriesLayout(files: string[], pages: number): Promise<SeriesLayout> {
  const strips: [number, number][][][] = [];
  let pageBytes = 0;
  for (const file of files) {
    const tiff = await fromFile(file);
    const perPage: [number, number][][] = [];
    for (let t = 0; t < pages; t++) {
      const image = await tiff.getImage(t);
      const dir = image.fileDirectory;
      const offsets = Array.from((await dir.loadValue('StripOffsets')) as ArrayLike<number>, Number);
      const counts = Array.from((await dir.loadValue('StripByteCounts')) as ArrayLike<number>, Number);
      const page = offsets.map((at, s): [number, number] => [at, counts[s]!]);
      perPage.push(page);
      pageBytes = page.reduce((sum, [, n]) => sum + n, 0);
    }
    strips.push(perPage);
    await tiff.close();
  }
  return { files, strips, pageBytes };
}

async function readThread({ layout, shared }: Work): Promise<void> {
  const { files, strips, pageBytes } = layout;
  const state = new BigInt64Array(shared);
  const fds = files.map((f) => openSync(f, 'r'));
  const pages = strips[0]!.length;
  parentPort!.postMessage('ready');
  await new Promise((resolve) => parentPort!.once('message', resolve));
  try {
    for (let t = Number(Atomics.add(state, 0, 1n)); t < pages; t = Number(Atomics.add(state, 0, 1n))) {
      // A fresh buffer a chunk, as the compressed frame may hold on to it.
      const chunk = new Uint8Array(pageBytes * files.length);
      files.forEach((_, z) => {
        let at = z * pageBytes;
        for (const [offset, bytes] of strips[z]![t]!) at += readSync(fds[z]!, chunk, at, bytes, offset);
      });
      await encodeBloscLz4Parts(chunk);
      Atomics.add(state, 1, BigInt(chunk.length));
    }
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  parentPort!.postMessage('done');
}

/** Seconds to read and compress every chunk of the series with `threads` threads (started before the clock), and bytes read. */
export async function readLimit(
  layout: SeriesLayout,
  threads: number,
): Promise<{ seconds: number; bytes: number }> {
  const shared = new SharedArrayBuffer(16);
  return timeThreads(new URL(import.meta.url), threads, { layout, shared } satisfies Work);
}

if (!isMainThread && (workerData as Work | undefined)?.layout) await readThread(workerData as Work);
