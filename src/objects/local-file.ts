/**
 * Whole local files read on the calling thread when that is fast, through libuv's threads when it
 * is not. On this project's machines an asynchronous read of a 260 KiB tile cost about 410 us of
 * CPU (open, fstat, read and close, each a hop to libuv's threads and back) and a synchronous one
 * about 65 us: for a stack of such tiles, a fifth of the ingest's CPU. A file in the page cache
 * blocks the thread for no longer than that. One on a slow disk or a network share would block it
 * for the device's latency, while the thread's other task could be decoding: after a slow read the
 * thread reads asynchronously for a while, then tries again.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** A read slower than this is the storage's latency, not a copy from the page cache. */
const SLOW_MS = 4;
/** Reads made asynchronously after a slow one, before reading synchronously is tried again. */
const PATIENCE = 64;

let asyncLeft = 0;

export async function readLocalFile(file: string): Promise<Buffer> {
  if (asyncLeft > 0) {
    asyncLeft--;
    return readFile(file);
  }
  const started = performance.now();
  const bytes = readFileSync(file);
  if (performance.now() - started > SLOW_MS) asyncLeft = PATIENCE;
  return bytes;
}
