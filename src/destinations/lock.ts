/**
 * Advisory file locks that serialize read-modify-write of one file (a Zarr chunk, an array's
 * metadata) across threads, processes and nodes sharing a filesystem.
 *
 * A lock is a file created with O_EXCL holding a random token. Its holder touches it every
 * `renewMs`; a waiter treats it as abandoned (a killed worker) once it has seen neither its mtime
 * nor its token change for `ttlMs` of the waiter's own clock, so clocks of different nodes never
 * need to agree. An abandoned lock is stolen by renaming it aside (only one waiter's rename can
 * succeed) and checking that what was renamed is the lock judged abandoned; a live lock renamed by
 * mistake is put back with link(), which fails rather than replace a newer one. The holder checks
 * its token before it commits (`lease.assertHeld()`), so a holder stalled past the TTL finds out
 * and retries instead of overwriting the thief's work.
 *
 * O_EXCL create, rename and link are atomic on local filesystems and on NFSv3 and later.
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync, writeFileSync } from 'node:fs';
import { link, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { localCall, readLocalFile } from '../objects/local-file.js';

export interface LockOptions {
  /** A lock untouched for this long (by the waiter's clock) is abandoned. */
  ttlMs: number;
  /** How often the holder touches its lock. */
  renewMs: number;
  /** Give up (a transient error: the batch is retried) after waiting this long. */
  waitMs: number;
}

export const LOCK_DEFAULTS: LockOptions = { ttlMs: 15_000, renewMs: 3_000, waitMs: 120_000 };

/** The lock could not be had in time, or was lost: a retry may succeed. */
export class LockTimeoutError extends Error {
  readonly code = 'EBUSY';
  constructor(message: string) {
    super(message);
    this.name = 'LockTimeoutError';
  }
}

export interface Lease {
  /** Throws when the lock has been stolen: the caller must not commit. */
  assertHeld(): Promise<void>;
}

interface Holder {
  token: string;
  pid: number;
  host: string;
}

/** A chunk write reads its lock twice: on the calling thread while that is fast (see objects/local-file.ts). */
async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    return JSON.parse((await readLocalFile(file)).toString('utf8')) as Holder;
  } catch {
    // Missing, or caught between create and write: treated as "someone holds it" by the caller.
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function tryCreate(file: string, holder: Holder): Promise<boolean> {
  const text = JSON.stringify(holder);
  try {
    await localCall(
      () => writeFileSync(file, text, { flag: 'wx' }),
      () => writeFile(file, text, { flag: 'wx' }),
    );
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Renames an abandoned lock aside; puts it back if it turns out to be another, live one. */
async function steal(file: string, judged: Holder | undefined, me: Holder): Promise<void> {
  const aside = `${file}.stale.${me.token}`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const taken = await readHolder(aside);
  if (judged && taken?.token !== judged.token) {
    await link(aside, file).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

/** Runs `fn` holding the lock `file`; the lock is released whatever `fn` does. */
export async function withLock<T>(
  file: string,
  fn: (lease: Lease) => Promise<T>,
  options: LockOptions = LOCK_DEFAULTS,
): Promise<T> {
  const me: Holder = { token: randomBytes(12).toString('hex'), pid: process.pid, host: os.hostname() };
  const started = Date.now();
  let seen: { mtimeMs: number; token?: string; since: number } | undefined;
  let pause = 2;
  while (!(await tryCreate(file, me))) {
    const now = Date.now();
    const info = await stat(file).catch(() => undefined);
    if (!info) continue;
    const holder = await readHolder(file);
    if (!seen || seen.mtimeMs !== info.mtimeMs || seen.token !== holder?.token) {
      seen = { mtimeMs: info.mtimeMs, token: holder?.token, since: now };
    } else if (now - seen.since >= options.ttlMs) {
      await steal(file, holder, me);
      seen = undefined;
      continue;
    }
    if (now - started > options.waitMs) {
      const who = holder ? `process ${holder.pid} on ${holder.host}` : 'another writer';
      throw new LockTimeoutError(
        `${file}: still locked by ${who} after ${Math.round(options.waitMs / 1000)} s`,
      );
    }
    await sleep(pause + Math.random() * pause);
    pause = Math.min(pause * 2, 200);
  }

  const renew = setInterval(() => {
    const t = new Date();
    utimes(file, t, t).catch(() => undefined);
  }, options.renewMs);
  renew.unref?.();
  const lease: Lease = {
    assertHeld: async () => {
      const holder = await readHolder(file);
      if (holder?.token !== me.token)
        throw new LockTimeoutError(
          `${file}: lock lost (taken over after ${options.ttlMs} ms without renewal)`,
        );
    },
  };
  try {
    return await fn(lease);
  } finally {
    clearInterval(renew);
    if ((await readHolder(file))?.token === me.token)
      await localCall(
        () => unlinkSync(file),
        () => unlink(file),
      ).catch(() => undefined);
  }
}
