// Whole-file writes (src/destinations/atomic-write.ts): several buffers, larger than one write
// call hands the kernel, land in order; a failed write leaves neither the file nor a temporary one.
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeAtomically } from '../src/destinations/atomic-write.js';
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

  it('a write that fails leaves no temporary file, and the file as it was', async () => {
    const file = path.join(dir, 'missing-folder', 'chunk');
    await assert.rejects(writeAtomically(file, [new Uint8Array(10)]), /ENOENT/);
    assert.ok(!existsSync(path.dirname(file)));
    assert.deepEqual(readdirSync(dir), ['chunk']);
  });
});
