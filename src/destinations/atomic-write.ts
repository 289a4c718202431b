/** Files of a volume replaced whole: readers see the old file or the new one, never half of one. */
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { localCall } from '../objects/local-file.js';

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
 * of CPU on this project's machines, a fifth of a small file's whole write. The temporary file is
 * written and renamed on the calling thread while the volume answers fast (see
 * objects/local-file.ts): a 4 MiB chunk then cost about 2.1 ms of CPU here, against 3.1 through
 * libuv's threads (11 hops).
 */
export async function writeAtomically(file: string, data: Uint8Array | string | Uint8Array[]): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const buffers = typeof data === 'string' ? [Buffer.from(data)] : Array.isArray(data) ? data : [data];
  try {
    try {
      await writeTemporary(tmp, buffers);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(path.dirname(file), { recursive: true });
      await writeTemporary(tmp, buffers);
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

function writeTemporary(tmp: string, buffers: Uint8Array[]): Promise<void> {
  const short = (length: number, written: number) =>
    new Error(`${tmp}: ${written} of ${length} bytes written`);
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
    async () => {
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
    },
    buffers.reduce((sum, b) => sum + b.length, 0),
  );
}
