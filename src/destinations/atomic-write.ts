/** Files of a volume replaced whole: readers see the old file or the new one, never half of one. */
import { open, rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes through a temporary file and a rename, so a killed writer never leaves half a file;
 * several buffers are written one after the other without joining them first. A failed write
 * leaves no temporary file behind.
 */
export async function writeAtomically(file: string, data: Uint8Array | string | Uint8Array[]): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    if (Array.isArray(data)) {
      const handle = await open(tmp, 'w');
      try {
        const length = data.reduce((sum, d) => sum + d.length, 0);
        const { bytesWritten } = await handle.writev(data);
        if (bytesWritten !== length) throw new Error(`${tmp}: ${bytesWritten} of ${length} bytes written`);
      } finally {
        await handle.close();
      }
    } else {
      await writeFile(tmp, data);
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
