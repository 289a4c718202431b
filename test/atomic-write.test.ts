// Whole-file writes (src/destinations/atomic-write.ts): several buffers, larger than one write
// call hands the kernel, land in order; a failed write leaves neither the file nor a temporary one;
// missing folders are made.
import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeAtomically } from '../src/destinations/atomic-write.js';
import { slowStorageSeen } from '../src/objects/local-file.js';
import { tempDir } from './harness/env.js';

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
