/**
 * The machine brought to the same state before every timed measurement, whoever runs next.
 *
 * First `sync`: what the contender before wrote goes to the disk first, so none starts under
 * another's writeback (a 16k z-index job, or the script's, writes 4 GiB, about what the kernel
 * lets wait dirty here before it throttles the writer to the disk's pace).
 *
 * Then memory the guest holds. This machine is a Firecracker VM whose balloon reports free
 * memory to the host (virtio-balloon's free page reporting: memory free for 2 s is handed back);
 * the guest's next touch of it waits for the host to back it again. 64 files of 4 MiB written into
 * the page cache: 80-160 ms right after other memory was freed, 810-880 ms when the last free
 * was 4 s before. A job writing into the page cache (every contender but the decoders) thus took
 * the time of whatever ran before it: the contenders' rotation kept the script always right after
 * a sharded ingest had deleted its 256 MiB volume, and our ingest always after the decoders,
 * which free nothing (the 8-bit stack on a warm worker, interleaved: 0.66 s a job, 0.81 s after a
 * 3 s pause, 0.66 s after the pause and this). A machine without such a balloon (bare metal,
 * most clouds' VMs) has nothing to back again, so every contender starts as it would there:
 * another process touches, then frees, as much memory as the job writes within its first
 * seconds, and the job's page cache is taken from it.
 */
import { execFileSync } from 'node:child_process';
import { MiB } from './workers.js';

/** More than any job here writes before the balloon would take back what it did not use. */
const MOST = 1024 * MiB;

/** Syncs, then leaves about `bytes` (the job's writes) of memory free and backed. */
export function settle(bytes: number): void {
  execFileSync('sync');
  const touch = Math.min(MOST, Math.ceil(bytes + 64 * MiB));
  execFileSync(process.execPath, ['-e', `Buffer.alloc(${touch}, 1)`]);
}
