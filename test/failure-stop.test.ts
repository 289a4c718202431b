// The rule that stops a job whose chunks keep failing (src/job/failure-stop.ts).
import { strict as assert } from 'node:assert';
import { failureStopReason } from '../src/job/failure-stop.js';
import type { ChunkFailure } from '../src/job/types.js';

const missing = (chunk: number): ChunkFailure => ({
  chunk,
  file: `/data/stack/0/0_${chunk}_0.png`,
  reason: 'file not found',
});
const rule = { maxFailedFraction: 0.5, afterChunks: 16 };

describe('failure stop rule', () => {
  it('goes on until enough chunks were processed to judge', () => {
    const failures = Array.from({ length: 15 }, (_, i) => missing(i));
    assert.equal(failureStopReason(0, 15, failures, rule), undefined);
  });

  it('stops when every chunk so far failed, naming a missing file and root_dir', () => {
    const failures = Array.from({ length: 16 }, (_, i) => missing(i));
    const reason = failureStopReason(0, 16, failures, rule);
    assert.match(reason ?? '', /all 16 chunks processed so far failed/);
    assert.match(
      reason ?? '',
      /every tile so far is missing, e\.g\. \/data\/stack\/0\/0_0_0\.png: check root_dir/,
    );
  });

  it('stops past the fraction, with the most frequent reason', () => {
    const failures: ChunkFailure[] = [
      ...Array.from({ length: 9 }, (_, i) => ({
        chunk: i,
        file: `/t/${i}.png`,
        reason: 'is 100x100, expected 512x512',
      })),
      { chunk: 20, file: '/t/20.png', reason: 'cannot be decoded: bad CRC' },
    ];
    const reason = failureStopReason(8, 10, failures, rule);
    assert.match(reason ?? '', /10 of 18 chunks/);
    assert.match(
      reason ?? '',
      /9 of the 10 failures listed: is 100x100, expected 512x512, e\.g\. \/t\/0\.png/,
    );
  });

  it('does not stop at or below the fraction, nor ever with fraction 1 (sparse stacks)', () => {
    const failures = Array.from({ length: 10 }, (_, i) => missing(i));
    assert.equal(failureStopReason(10, 10, failures, rule), undefined);
    assert.equal(failureStopReason(0, 1000, failures, { ...rule, maxFailedFraction: 1 }), undefined);
  });
});
