// Local reads (src/objects/local-file.ts) give the same bytes, stats and errors on the calling
// thread as through libuv's threads, which a thread uses for a while after a slow call.
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import {
  localCall,
  readLocalFile,
  readLocalFileLent,
  readLocalRange,
  slowStorageSeen,
  statLocal,
} from '../src/objects/local-file.js';
import { tempDir } from './harness/env.js';

describe('local files read on the calling thread or through libuv', function () {
  let dir: string;
  before(() => (dir = tempDir('local-file')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('two slow calls in a row send the next calls through libuv; one alone does not', async () => {
    const busy = (ms: number) => () => {
      const end = performance.now() + ms;
      while (performance.now() < end);
      return 'direct';
    };
    const via = async () => 'libuv';
    // Whatever an earlier test left: calls through libuv until the calling thread is tried again.
    while ((await localCall(busy(0), via)) === 'libuv');
    assert.equal(await localCall(busy(6), via), 'direct');
    assert.equal(await localCall(busy(0), via), 'direct', 'one slow call alone');
    assert.equal(await localCall(busy(6), via), 'direct');
    assert.equal(await localCall(busy(6), via), 'direct');
    assert.equal(await localCall(busy(0), via), 'libuv', 'after two slow calls in a row');
    // A call is allowed its bytes' time: 4 MiB in 6 ms is not slow.
    while ((await localCall(busy(0), via)) === 'libuv');
    assert.equal(await localCall(busy(6), via, 4 * 2 ** 20), 'direct');
    assert.equal(await localCall(busy(6), via, 4 * 2 ** 20), 'direct');
    assert.equal(await localCall(busy(0), via), 'direct');
  });

  for (const slow of [false, true]) {
    it(`${slow ? 'after a slow call' : 'while calls are fast'}: whole files, ranges, stats and missing files`, async () => {
      const bytes = new Uint8Array(300_000).map((_, i) => (i * 13 + 1) & 0xff);
      const file = path.join(dir, `f${slow}`);
      writeFileSync(file, bytes);
      if (slow) slowStorageSeen();
      assert.deepEqual(new Uint8Array(await readLocalFile(file)), bytes);
      const handle = await open(file, 'r');
      try {
        const into = new Uint8Array(1000);
        assert.equal(await readLocalRange(handle, into, 1000, 299_500), 500, 'the file ends first');
        assert.deepEqual(into.subarray(0, 500), bytes.subarray(299_500));
      } finally {
        await handle.close();
      }
      const st = await statLocal(file);
      assert.equal(st?.size, 300_000n);
      assert.equal(await statLocal(path.join(dir, 'missing')), undefined);
      await assert.rejects(statLocal(path.join(file, 'below')), { code: 'ENOTDIR' }, 'a file on the path');
      await assert.rejects(readLocalFile(path.join(dir, 'missing')), { code: 'ENOENT' });
    });

    it(`${slow ? 'after a slow call' : 'while calls are fast'}: files read into lent buffers hold their own bytes, whatever was read into the buffer before`, async () => {
      const sizes = [300_000, 1000, 0, 299_999, 5 * 2 ** 20];
      const files = sizes.map((size, k) => {
        const file = path.join(dir, `lent-${slow}-${k}`);
        writeFileSync(
          file,
          new Uint8Array(size).map((_, i) => (i * 7 + k) & 0xff),
        );
        return file;
      });
      if (slow) slowStorageSeen();
      const held = await readLocalFileLent(files[0]!);
      for (const [k, file] of files.entries()) {
        const lent = await readLocalFileLent(file);
        assert.deepEqual(new Uint8Array(lent.bytes), new Uint8Array(readFileSync(file)), `file ${k}`);
        lent.release();
      }
      // A buffer still lent is not lent again: the first file's bytes are as read.
      assert.deepEqual(new Uint8Array(held.bytes), new Uint8Array(readFileSync(files[0]!)));
      held.release();
      await assert.rejects(readLocalFileLent(path.join(dir, 'missing')), { code: 'ENOENT' });
    });
  }

  it("a larger file's buffer is kept when the pool is full of an earlier stack's smaller ones", async () => {
    const small = path.join(dir, 'small-tile');
    const large = path.join(dir, 'large-tile');
    writeFileSync(small, new Uint8Array(64 * 1024).fill(1));
    writeFileSync(
      large,
      new Uint8Array(7.5 * 2 ** 20).map((_, i) => i & 0xff),
    );
    // 300 small tiles held at once take every buffer the pool had; given back, they fill it.
    const tiles = await Promise.all(Array.from({ length: 300 }, () => readLocalFileLent(small)));
    for (const tile of tiles) tile.release();
    const first = await readLocalFileLent(large);
    const buffer = first.bytes.buffer;
    first.release();
    const again = await readLocalFileLent(large);
    assert.equal(
      again.bytes.buffer,
      buffer,
      "the second read of the large tile reuses the first one's buffer",
    );
    assert.deepEqual(new Uint8Array(again.bytes), new Uint8Array(readFileSync(large)));
    again.release();
  });
});
