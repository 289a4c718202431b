/**
 * Local files read and written on the calling thread when that is fast, through libuv's threads
 * when it is not. On this project's machines an asynchronous read of a 260 KiB tile cost about
 * 410 us of CPU (open, fstat, read and close, each a hop to libuv's threads and back) and a
 * synchronous one about 65 us; a stat 112 against 13. For a stack of such tiles that was a seventh
 * of the ingest's CPU. A file in the page cache blocks the thread for no longer than that. One on
 * a slow disk or a network share would block it for the device's latency, while the thread's
 * other task could be decoding: after a slow call the thread goes through libuv for a while, then
 * tries again.
 */
import { readFileSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { readFile, stat, type FileHandle } from 'node:fs/promises';

/** A call slower than this is the storage's latency, not a copy from the page cache. */
const SLOW_MS = 4;
/** Calls made through libuv after a slow one, before the calling thread is tried again. */
const PATIENCE = 64;

let patience = 0;

/** The storage answered slowly: the calling thread's next calls go through libuv. */
export function slowStorageSeen(): void {
  patience = PATIENCE;
}

/**
 * One call to the local file system: `direct` on the calling thread, unless a recent call was
 * slow, then `viaLibuv`. Both must do the same thing.
 */
export async function localCall<T>(direct: () => T, viaLibuv: () => Promise<T>): Promise<T> {
  if (patience > 0) {
    patience--;
    return viaLibuv();
  }
  const started = performance.now();
  try {
    return direct();
  } finally {
    if (performance.now() - started > SLOW_MS) slowStorageSeen();
  }
}

export function readLocalFile(file: string): Promise<Buffer> {
  return localCall(
    () => readFileSync(file),
    () => readFile(file),
  );
}

/** Bytes read into `into` from `position` of an open file. */
export function readLocalRange(
  handle: FileHandle,
  into: Uint8Array,
  length: number,
  position: number,
): Promise<number> {
  return localCall(
    () => readSync(handle.fd, into, 0, length, position),
    async () => (await handle.read(into, 0, length, position)).bytesRead,
  );
}

/** The file's stats (times in ns), undefined when it does not exist. */
export function statLocal(file: string): Promise<BigIntStats | undefined> {
  return localCall(
    () => statSync(file, { bigint: true, throwIfNoEntry: false }),
    async () => {
      try {
        return await stat(file, { bigint: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
  );
}
