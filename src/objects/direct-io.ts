/**
 * Files written past the page cache (O_DIRECT), for jobs that write more than the kernel lets wait
 * in memory before it starts writing back.
 *
 * A write into the page cache returns once the bytes are copied there; the disk gets them later.
 * That is the fastest way to write a job that fits: it ends with its chunks in memory. A job that
 * writes more than the kernel's background threshold (`vm.dirty_background_bytes`, else
 * `vm.dirty_background_ratio` of the available memory, a tenth by default) reaches the disk while
 * it runs anyway: through the page cache each chunk then also pays the copy into fresh pages, the
 * kernel's writeback, and past the dirty limit the kernel holds the writers back. Such a job's
 * chunk files go to the disk straight from a staging buffer each of direct-io.c's writer threads
 * keeps. On the bench's 16k z-index stack (4 GiB a job, 2.4 GB the threshold here) in the bench's
 * own sequence: 14.6 and 12.9 s through the page cache, 9.7 and 10.1 s with this rule. Written on
 * writer threads of their own rather than libuv's four, which the slices' decodes share: 9.47 ->
 * 9.13 s (medians of 6 interleaved jobs, best 9.20 -> 8.98). Smaller jobs stay in the page cache: direct
 * I/O made the JPEG tile stack (256 MiB) 0.58 -> 0.65 s and the 4k z-index stack (512 MiB) 1.10 ->
 * 1.31 s, the disk's latency on the threads' path instead of a copy.
 *
 * BOSS_INGEST_DIRECT_IO in a worker's environment: `auto` (the default, as above), `always` or
 * `never`. Where the addon is not built, or the filesystem refuses O_DIRECT, files go through the
 * page cache.
 */
import { readFileSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { nativeAddon } from '../native.js';

const addon = nativeAddon<{ writeNew(file: string, buffers: Uint8Array[]): Promise<void> }>(
  import.meta.url,
  './direct-io.node',
);

/** Files smaller than this always go through the page cache: metadata, locks, marks. */
const DIRECT_IO_MIN_BYTES = 1024 * 1024;

type Mode = 'auto' | 'always' | 'never';

/**
 * BOSS_INGEST_DIRECT_IO, checked: a worker checks it as it starts; it is read again at every
 * large write (cheap next to one), so that a test may set it.
 */
export function directIoMode(): Mode {
  const value = process.env.BOSS_INGEST_DIRECT_IO ?? 'auto';
  if (value === 'auto' || value === 'always' || value === 'never') return value;
  throw new Error(`BOSS_INGEST_DIRECT_IO is "${value}": it must be auto, always or never`);
}

function readNumber(file: string): number | undefined {
  try {
    const value = Number(readFileSync(file, 'latin1').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Bytes this node's kernel lets wait in the page cache before it starts writing them back, as it
 * counts them (dirty_background_bytes, else its ratio of the memory free or holding files);
 * undefined where there is no /proc/sys/vm (not Linux).
 */
export function writebackThreshold(): number | undefined {
  const bytes = readNumber('/proc/sys/vm/dirty_background_bytes');
  if (bytes) return bytes;
  const ratio = readNumber('/proc/sys/vm/dirty_background_ratio');
  if (ratio === undefined) return undefined;
  let meminfo: string;
  try {
    meminfo = readFileSync('/proc/meminfo', 'latin1');
  } catch {
    return undefined;
  }
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(meminfo)?.[1] ?? 0);
  return ((kib('MemFree') + kib('Active\\(file\\)') + kib('Inactive\\(file\\)')) * 1024 * ratio) / 100;
}

/** Whether a job writing `bytes` should write its chunks past the page cache (see above), on this node. */
export function jobWantsDirectIo(bytes: number): boolean {
  const threshold = writebackThreshold();
  return threshold !== undefined && bytes > threshold;
}

/**
 * Whether a new file of `bytes` goes past the page cache: `wanted` says its job's choice (the
 * destination's, made when the job was planned), the environment may override it.
 */
export function usesDirectIo(bytes: number, wanted: boolean): boolean {
  if (!addon || bytes < DIRECT_IO_MIN_BYTES) return false;
  const mode = directIoMode();
  return mode === 'always' || (mode === 'auto' && wanted);
}

/**
 * Creates `file` (it must not exist) holding `buffers` one after the other, past the page cache
 * but for its last partial 4 KiB. Fails as fs does (`code`, `errno`, `syscall`, `path`), ENOENT
 * when the folder is missing. The buffers must not change until it settles.
 */
export async function writeNewFileDirect(file: string, buffers: Uint8Array[]): Promise<void> {
  if (!addon) throw new Error('direct I/O is not built (scripts/build-native.mjs)');
  try {
    await addon.writeNew(file, buffers);
  } catch (raw) {
    if (raw instanceof Error) throw raw;
    const { errno, syscall } = raw as { errno: number; syscall: string };
    const code = getSystemErrorName(-errno);
    throw Object.assign(new Error(`${code}: ${syscall} '${file}'`), {
      errno: -errno,
      code,
      syscall,
      path: file,
    });
  }
}
