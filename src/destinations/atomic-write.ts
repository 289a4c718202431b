/** Files of a volume replaced whole: readers see the old file or the new one, never half of one. */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { usesDirectIo, writeNewFileDirect } from '../objects/direct-io.js';
import { localCall } from '../objects/local-file.js';
import { inPhaseAsync } from '../metrics/phases.js';

/**
 * Bytes a write call hands the kernel at most, as writeFile does: on this project's machines one
 * 4 MiB write (or writev) into a new file cost 4-6 times the CPU of eight 512 KiB writes, in
 * about half the runs (48 chunk files: 840-870 against 180-190 ms).
 */
const PIECE = 512 * 1024;

/**
 * Writes through a temporary file and a rename, so a killed writer never leaves half a file;
 * several buffers are written one after the other without joining them first. A failed write
 * leaves no temporary file behind. The file's folder is created when it is missing (the first
 * write into it finds out), rather than asked for before every write: a mkdir cost about 150 us
 * of CPU on this project's machines, a fifth of a small file's whole write. A small file is
 * written, and any file renamed, on the calling thread while the volume answers fast (see
 * objects/local-file.ts and CALLING_THREAD_BYTES).
 */
export function writeAtomically(
  file: string,
  data: Uint8Array | string | Uint8Array[],
  /** The file's job writes past the page cache (objects/direct-io.ts), where it is large enough. */
  options: { directIo?: boolean } = {},
): Promise<void> {
  return inPhaseAsync('write', () => replaceFile(file, data, options.directIo ?? false));
}

async function replaceFile(
  file: string,
  data: Uint8Array | string | Uint8Array[],
  directIo: boolean,
): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const buffers = typeof data === 'string' ? [Buffer.from(data)] : Array.isArray(data) ? data : [data];
  try {
    try {
      await writeTemporary(tmp, buffers, directIo);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(path.dirname(file), { recursive: true });
      await writeTemporary(tmp, buffers, directIo);
    }
    await localCall(
      () => renameSync(tmp, file),
      () => rename(tmp, file),
    );
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Files up to this size (marks, locks, metadata, chunks, a shard of 16x1024x1024 uint8 or uint16
 * stored as is) are written on the calling thread while the volume answers fast; larger ones
 * through libuv's threads. There the kernel may hold a writer back
 * while the disk catches up with dirty pages (the bench writes 12 GiB a round on its 16k stack
 * alone), and the thread's other task keeps decoding meanwhile. With every file written on the
 * calling thread, the bench's full run gave sharded / plain ingest times of 1.53, 0.85, 0.92, 1.17
 * and 1.54; the next run, with a bound of 1 MiB, 1.05, 0.98, 0.98, 0.92 and 1.39. Six warm pairs
 * apart, every file on the calling thread, gave 1.02 on the 8-bit stack: what the full run adds
 * is, most likely, the disk catching up. A 2 MiB file through libuv is seven hops between the
 * threads (open, four pieces, close, rename): with the bound at 3 MiB the 100-page time series
 * took 0.549 s against 0.637 (best of 9; medians 0.664 against 0.783; 0.579 against 0.653 in a
 * second A/B), the 8-bit tile stack and the 16k z-index stack as before (medians 0.90 and 6.7 s).
 * From 3 to 5 MiB, so that a 4 MiB chunk stored as is skips the hops too: the 8-bit tile stack
 * 0.554 -> 0.527 s and 0.544 -> 0.526 s (medians of 12 and 10, interleaved, warm), the worker 0.94 ->
 * 0.92 CPU-s; the 4k z-index stack 1.128 -> 1.113 s. Then to 33 MiB, which the bench's full run
 * at 5 MiB asked for: plain jobs got faster and sharded ones did not (issue 12's sharded / plain
 * 1.11 -> 1.22). Interleaved, 10 each: the 8-bit stack sharded 16x1024x1024, 0.573 -> 0.533 s
 * (the worker 1.00 -> 0.94 CPU-s); the 16-bit stack's 8 MiB chunks, 0.537 -> 0.523 s (0.92 ->
 * 0.89). A slow volume still sends them through libuv (localCall).
 */
const CALLING_THREAD_BYTES = 33 * 1024 * 1024;

function writeTemporary(tmp: string, buffers: Uint8Array[], directIo: boolean): Promise<void> {
  const short = (length: number, written: number) =>
    new Error(`${tmp}: ${written} of ${length} bytes written`);
  const bytes = buffers.reduce((sum, b) => sum + b.length, 0);
  const viaLibuv = async () => {
    const handle = await open(tmp, 'wx');
    try {
      for (const buffer of buffers)
        for (let at = 0; at < buffer.length; at += PIECE) {
          const length = Math.min(PIECE, buffer.length - at);
          const { bytesWritten } = await handle.write(buffer, at, length);
          if (bytesWritten !== length) throw short(length, bytesWritten);
        }
    } finally {
      await handle.close();
    }
  };
  if (usesDirectIo(bytes, directIo)) return writeNewFileDirect(tmp, buffers);
  if (bytes > CALLING_THREAD_BYTES) return viaLibuv();
  return localCall(
    () => {
      const fd = openSync(tmp, 'wx');
      try {
        for (const buffer of buffers)
          for (let at = 0; at < buffer.length; at += PIECE) {
            const length = Math.min(PIECE, buffer.length - at);
            const written = writeSync(fd, buffer, at, length);
            if (written !== length) throw short(length, written);
          }
      } finally {
        closeSync(fd);
      }
    },
    viaLibuv,
    bytes,
  );
}
