// The advisory lock behind shared-volume safety (src/destinations/lock.ts), across real processes.
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LockTimeoutError, withLock } from '../src/destinations/lock.js';
import { tempDir } from './harness/env.js';

const CHILD = fileURLToPath(new URL('./fixtures/lock-child.js', import.meta.url));

function child(args: string[]) {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, exited };
}

describe('file lock', () => {
  it('serializes read-modify-writes of three processes: no update is lost', async function () {
    this.timeout(60_000);
    const file = path.join(tempDir('lock'), 'counter');
    writeFileSync(file, '0');
    const codes = await Promise.all([1, 2, 3].map(() => child(['increment', file, '40']).exited));
    assert.deepEqual(codes, [0, 0, 0]);
    assert.equal(readFileSync(file, 'utf8'), '120');
    assert.equal(existsSync(`${file}.lock`), false, 'the lock is released');
  });

  it('a lock held by a killed process is taken over once it goes stale', async function () {
    this.timeout(30_000);
    const file = path.join(tempDir('lock'), 'counter');
    writeFileSync(file, '0');
    const holder = child(['hold', file]);
    await new Promise<void>((resolve) => holder.proc.stdout!.once('data', () => resolve()));
    holder.proc.kill('SIGKILL');
    await holder.exited;
    assert.equal(existsSync(`${file}.lock`), true, 'the killed holder left its lock');
    const started = Date.now();
    assert.equal(await child(['increment', file, '1']).exited, 0);
    const waited = Date.now() - started;
    assert.equal(readFileSync(file, 'utf8'), '1');
    assert.ok(waited >= 1500, `waited ${waited} ms: at least the TTL, not less`);
  });

  it('a live holder is never taken over, and a waiter gives up with a retryable error naming the lock', async () => {
    const file = path.join(tempDir('lock'), 'x.lock');
    const options = { ttlMs: 400, renewMs: 100, waitMs: 1200 };
    let release!: () => void;
    const held = withLock(file, () => new Promise<void>((r) => (release = r)), options);
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(
      withLock(file, async () => assert.fail('entered a held lock'), options),
      (err: unknown) => err instanceof LockTimeoutError && err.code === 'EBUSY' && err.message.includes(file),
    );
    release();
    await held;
    assert.equal(await withLock(file, async () => 'free again', options), 'free again');
  });

  it('a holder stalled past the TTL learns that it lost the lock before committing', async () => {
    const file = path.join(tempDir('lock'), 'y.lock');
    const options = { ttlMs: 300, renewMs: 10_000, waitMs: 5000 };
    const stalled = withLock(
      file,
      async (lease) => {
        await new Promise((r) => setTimeout(r, 900));
        await lease.assertHeld();
      },
      options,
    );
    await new Promise((r) => setTimeout(r, 20));
    const thief = withLock(file, async () => 'stolen', options);
    await assert.rejects(stalled, /lock lost/);
    assert.equal(await thief, 'stolen');
  });
});
