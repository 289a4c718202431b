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
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { inPhaseAsync } from '../metrics/phases.js';

/**
 * A call slower than this, plus the time its bytes take at SLOW_RATE, is the storage's latency,
 * not a copy from the page cache. A call can also be slow because the thread lost its core to
 * another (the bench's 2-core machines run four busy threads): one slow call alone is no sign.
 */
const SLOW_MS = 4;
const SLOW_RATE = 100 * 2 ** 20;
/** Slow calls in a row that send the thread's calls through libuv. */
const SLOW_CALLS = 2;
/** Calls made through libuv then, before the calling thread is tried again. */
const PATIENCE = 64;

let patience = 0;
let slowInARow = 0;

/** The storage answered slowly: the calling thread's next calls go through libuv. */
export function slowStorageSeen(): void {
  patience = PATIENCE;
  slowInARow = 0;
}

/**
 * One call to the local file system moving `bytes` (given, or told by the result): `direct` on
 * the calling thread, unless recent calls were slow, then `viaLibuv`. Both must do the same thing.
 */
export async function localCall<T>(
  direct: () => T,
  viaLibuv: () => Promise<T>,
  bytes: number | ((result: T) => number) = 0,
): Promise<T> {
  if (patience > 0) {
    patience--;
    return viaLibuv();
  }
  const started = performance.now();
  let result: T | undefined;
  try {
    return (result = direct());
  } finally {
    const moved = typeof bytes === 'number' ? bytes : result === undefined ? 0 : bytes(result);
    const slow = performance.now() - started > SLOW_MS + (1000 * moved) / SLOW_RATE;
    slowInARow = slow ? slowInARow + 1 : 0;
    if (slowInARow >= SLOW_CALLS) slowStorageSeen();
  }
}

export function readLocalFile(file: string): Promise<Buffer> {
  return localCall(
    () => readFileSync(file),
    () => readFile(file),
    (read) => read.length,
  );
}

/** A file's bytes in a buffer lent by the thread's pool: `release()` once nothing reads them any more. */
export interface LentBytes {
  bytes: Buffer;
  release(): void;
}

/**
 * Buffers a thread's file reads fill, given back by their readers: reading a stack's tiles into
 * fresh buffers (readFileSync) cost 115-160 ms of CPU per 1,025 tiles of 210 KiB on this
 * project's machines, into buffers taken again 50-60 ms, the rest being the kernel faulting in
 * new pages, and the garbage collector running for the memory outside its heap. Files larger
 * than POOLED_BYTES (a 4 MiB chunk and its header fit) are read into buffers of their own, which
 * are not kept, and a thread keeps at most LENDABLE_BYTES.
 */
const lendable: Buffer[] = [];
const POOLED_BYTES = 8 * 2 ** 20;
const LENDABLE_BYTES = 16 * 2 ** 20;
let lendableBytes = 0;

function borrow(size: number): Buffer {
  let best = -1;
  for (let i = 0; i < lendable.length; i++)
    if (lendable[i]!.length >= size && (best < 0 || lendable[i]!.length < lendable[best]!.length)) best = i;
  if (best >= 0) {
    const buffer = lendable.splice(best, 1)[0]!;
    lendableBytes -= buffer.length;
    return buffer;
  }
  // Rounded up, so that files of about one size share buffers.
  return Buffer.allocUnsafe(
    size > POOLED_BYTES ? size : Math.max(64 * 1024, Math.ceil(size / 65536) * 65536),
  );
}

function lend(buffer: Buffer, length: number): LentBytes {
  let returned = false;
  return {
    bytes: buffer.subarray(0, length),
    release: () => {
      if (returned) return;
      returned = true;
      if (buffer.length > POOLED_BYTES) return;
      // Smaller buffers make room (oldest first): this one serves their files too, and kept, a
      // pool full of an earlier stack's smaller tiles would leave every larger tile read afresh.
      for (let i = 0; lendableBytes + buffer.length > LENDABLE_BYTES && i < lendable.length;)
        if (lendable[i]!.length < buffer.length) lendableBytes -= lendable.splice(i, 1)[0]!.length;
        else i++;
      if (lendableBytes + buffer.length > LENDABLE_BYTES) return;
      lendable.push(buffer);
      lendableBytes += buffer.length;
    },
  };
}

/** The whole file, as readLocalFile reads it, into a buffer lent by the thread's pool. */
export function readLocalFileLent(file: string): Promise<LentBytes> {
  return inPhaseAsync('read', () => readLent(file));
}

function readLent(file: string): Promise<LentBytes> {
  return localCall(
    () => {
      const fd = openSync(file, 'r');
      try {
        const size = fstatSync(fd).size;
        const buffer = borrow(size);
        let at = 0;
        for (let n = 1; at < size && n > 0; at += n) n = readSync(fd, buffer, at, size - at, at);
        return lend(buffer, at);
      } finally {
        closeSync(fd);
      }
    },
    async () => {
      const handle = await open(file, 'r');
      try {
        const { size } = await handle.stat();
        const buffer = borrow(size);
        let at = 0;
        for (let n = 1; at < size && n > 0; at += n)
          n = (await handle.read(buffer, at, size - at, at)).bytesRead;
        return lend(buffer, at);
      } finally {
        await handle.close();
      }
    },
    (read) => read.bytes.length,
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
    length,
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
        // As statSync's throwIfNoEntry: false answers (a file on the path, ENOTDIR, throws).
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
  );
}
