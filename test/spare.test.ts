// A thread's spare chunk buffers (src/chunks/spare.ts) serve the job at hand, whatever size an
// earlier job's chunks were.
import { strict as assert } from 'node:assert';
import { SpareBuffers } from '../src/chunks/spare.js';

const MiB = 2 ** 20;

describe("a thread's spare chunk buffers", function () {
  it("are taken again, zeroed unless asked not to be, and kept up to the pool's bound", () => {
    const pool = new SpareBuffers(8 * MiB);
    const given = [0, 1, 2].map(() => pool.take(4 * MiB).fill(7));
    for (const b of given) pool.give(b);
    const a = pool.take(4 * MiB);
    const b = pool.take(4 * MiB, false);
    assert.ok(given.includes(a) && given.includes(b) && a !== b, 'the two that fit were kept');
    assert.ok(
      a.every((v) => v === 0),
      'zeroed',
    );
    assert.ok(
      b.every((v) => v === 7),
      'as given back, when the caller writes every byte',
    );
    assert.ok(!given.includes(pool.take(4 * MiB)), 'the third was not kept');
  });

  it("a job of another size gets them back once the pool is full of an earlier job's", () => {
    const pool = new SpareBuffers(16 * MiB);
    // A 16-bit stack's 8 MiB chunks fill the pool.
    for (const b of [pool.take(8 * MiB), pool.take(8 * MiB)]) pool.give(b);
    // Then an 8-bit stack's 4 MiB chunks: the first ones are new; given back, they are kept.
    const first = [pool.take(4 * MiB), pool.take(4 * MiB)];
    for (const b of first) pool.give(b);
    const next = [pool.take(4 * MiB), pool.take(4 * MiB)];
    assert.ok(
      next.every((b) => first.includes(b)),
      'the 8-bit chunks reuse their buffers',
    );
  });
});
