// Whole-file writes (src/destinations/atomic-write.ts): several buffers, larger than one write
// call hands the kernel, land in order; a failed write leaves neither the file nor a temporary one;
// missing folders are made.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeAtomically } from '../src/destinations/atomic-write.js';
import { slowStorageSeen } from '../src/objects/local-file.js';
import { setEnv, tempDir } from './harness/env.js';

describe('files written whole', function () {
  let dir: string;
  before(() => (dir = tempDir('atomic')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('several buffers, one of them over a MiB and not a multiple of the write size, land in order', async () => {
    const head = Uint8Array.from([1, 2, 3]);
    const body = new Uint8Array(1.5 * 1024 * 1024 + 7).map((_, i) => (i * 31 + 5) & 0xff);
    const tail = new Uint8Array(0);
    const file = path.join(dir, 'chunk');
    writeFileSync(file, 'what was there before');
    await writeAtomically(file, [head, body, tail]);
    assert.deepEqual(new Uint8Array(readFileSync(file)), Uint8Array.from([...head, ...body]));
    assert.deepEqual(readdirSync(dir), ['chunk'], 'no temporary file left');
  });

  it('a write that fails leaves no temporary file, and what was there as it was', async () => {
    // A rename onto a folder fails once the temporary file is written whole.
    const taken = path.join(dir, 'taken');
    mkdirSync(path.join(taken, 'inside'), { recursive: true });
    await assert.rejects(writeAtomically(taken, [new Uint8Array(10)]), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.deepEqual(readdirSync(dir).sort(), ['chunk', 'taken']);
    assert.deepEqual(readdirSync(taken), ['inside']);
  });

  it("creates the file's missing folders", async () => {
    const file = path.join(dir, 'new', 'folder', 'chunk');
    await writeAtomically(file, [Uint8Array.from([7, 8])]);
    await writeAtomically(path.join(dir, 'new', 'text'), 'a string');
    assert.deepEqual(new Uint8Array(readFileSync(file)), Uint8Array.from([7, 8]));
    assert.equal(readFileSync(path.join(dir, 'new', 'text'), 'utf8'), 'a string');
    assert.deepEqual(readdirSync(path.dirname(file)), ['chunk'], 'no temporary file left');
    rmSync(path.join(dir, 'new'), { recursive: true });
  });

  it('through libuv after slow storage: the same bytes, the same clean failure', async () => {
    slowStorageSeen();
    const file = path.join(dir, 'slow');
    const body = new Uint8Array(1024 * 1024 + 3).map((_, i) => (i * 7) & 0xff);
    await writeAtomically(file, [body, Uint8Array.from([9])]);
    assert.deepEqual(new Uint8Array(readFileSync(file)), Uint8Array.from([...body, 9]));
    await assert.rejects(writeAtomically(path.join(dir, 'taken'), 'text'), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.deepEqual(readdirSync(dir).sort(), ['chunk', 'slow', 'taken']);
  });
});

describe('files written past the page cache (direct I/O)', function () {
  let dir: string;
  let restore: () => void;
  before(() => {
    dir = tempDir('direct-io');
    restore = setEnv('BOSS_INGEST_DIRECT_IO', 'always');
  });
  after(() => {
    restore();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Bytes of `file` in the page cache (util-linux's fincore). */
  const cached = (file: string) =>
    Number(
      execFileSync('fincore', ['--bytes', '--noheadings', '--raw', '-o', 'RES', file], { encoding: 'utf8' }),
    );

  const pattern = (length: number, seed: number) =>
    new Uint8Array(length).map((_, i) => (i * seed + 11) & 0xff);

  it('a chunk-sized file: the same bytes, its tail at most left in the page cache', async () => {
    const head = pattern(16, 3);
    const body = pattern(4 * 1024 * 1024, 7);
    const file = path.join(dir, 'chunk');
    await writeAtomically(file, [head, body]);
    assert.deepEqual(readdirSync(dir), ['chunk'], 'no temporary file left');
    assert.ok(cached(file) <= 64 * 1024, `${cached(file)} bytes of ${file} in the page cache`);
    assert.deepEqual(new Uint8Array(readFileSync(file)), Uint8Array.from([...head, ...body]));
  });

  it('files larger than the staging buffer, of many parts, empty ones among them, whole blocks or not', async () => {
    for (const [name, lengths] of [
      ['parts', [1, 0, 9 * 1024 * 1024 + 5, 3, 0, 8 * 1024 * 1024 - 1, 4096]],
      ['blocks', [16 * 1024 * 1024 + 4096]],
      ['one-block-short', [2 * 1024 * 1024 - 1]],
    ] as const) {
      const parts = lengths.map((length, i) => pattern(length, 2 * i + 5));
      const file = path.join(dir, name);
      await writeAtomically(file, parts);
      const expected = Buffer.concat(parts);
      const read = readFileSync(file);
      assert.equal(read.length, expected.length, name);
      assert.ok(read.equals(expected), `${name}: the bytes read back differ`);
    }
  });

  it('many files at once from two worker threads, more than the writer threads: each holds its own bytes', async () => {
    // The writer threads are the process's, shared by every thread's calls (direct-io.c).
    const module = new URL('../src/destinations/atomic-write.js', import.meta.url).href;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const path = require('node:path');
      import(workerData.module).then(async ({ writeAtomically }) => {
        const pattern = (length, seed) => new Uint8Array(length).map((_, i) => (i * seed + 11) & 0xff);
        await Promise.all(Array.from({ length: 12 }, (_, i) =>
          writeAtomically(path.join(workerData.dir, workerData.name + i), [pattern(16, i + 1), pattern(2 * 1024 * 1024 + 512 * i, workerData.seed + i)])));
        parentPort.postMessage('done');
      });`;
    const threads = ['a', 'b'].map(
      (name, t) =>
        new Worker(code, {
          eval: true,
          workerData: { module, dir, name, seed: 3 + 20 * t },
          env: { ...process.env, BOSS_INGEST_DIRECT_IO: 'always' },
        }),
    );
    await Promise.all(
      threads.map(
        (thread) =>
          new Promise((resolve, reject) => {
            thread.once('message', resolve);
            thread.once('error', reject);
          }),
      ),
    );
    await Promise.all(threads.map((thread) => thread.terminate()));
    for (const [t, name] of ['a', 'b'].entries()) {
      for (let i = 0; i < 12; i++) {
        const expected = Buffer.concat([
          pattern(16, i + 1),
          pattern(2 * 1024 * 1024 + 512 * i, 3 + 20 * t + i),
        ]);
        assert.ok(cached(path.join(dir, name + i)) <= 64 * 1024, `${name}${i} went through the page cache`);
        assert.ok(
          readFileSync(path.join(dir, name + i)).equals(expected),
          `${name}${i}: the bytes read back differ`,
        );
      }
    }
  });

  it('replaces a file already there, makes missing folders, and fails as the page cache path does', async () => {
    const file = path.join(dir, 'new', 'folder', 'chunk');
    await writeAtomically(file, [pattern(1024 * 1024, 13)]);
    await writeAtomically(file, [pattern(3 * 1024 * 1024 + 1, 17)]);
    assert.ok(readFileSync(file).equals(Buffer.from(pattern(3 * 1024 * 1024 + 1, 17))));
    const taken = path.join(dir, 'taken');
    mkdirSync(path.join(taken, 'inside'), { recursive: true });
    await assert.rejects(writeAtomically(taken, [pattern(2 * 1024 * 1024, 3)]), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.deepEqual(readdirSync(taken), ['inside']);
    assert.deepEqual(readdirSync(path.dirname(file)), ['chunk'], 'no temporary file left');
  });

  it('refuses a BOSS_INGEST_DIRECT_IO it does not know, naming it', async () => {
    const back = setEnv('BOSS_INGEST_DIRECT_IO', 'sometimes');
    try {
      await assert.rejects(
        writeAtomically(path.join(dir, 'x'), [pattern(2 * 1024 * 1024, 1)]),
        /BOSS_INGEST_DIRECT_IO is "sometimes": it must be auto, always or never/,
      );
    } finally {
      back();
    }
  });
});
