// The worker's activity slots (src/worker/batch-slots.ts): two batches run, the next is polled once
// a thread of one of them finds no row left, and no more than one batch beyond the two is held.
import { strict as assert } from 'node:assert';
import { batchDrained, BatchSlots } from '../src/worker/batch-slots.js';

const settled = async (p: Promise<unknown>) => {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('the activity slots of a worker process', () => {
  it('two batches run; a third is taken once one finds no row left; never a fourth', async () => {
    const slots = new BatchSlots(2);
    const never = new AbortController().signal;
    await slots.reserveSlot({}, never);
    await slots.reserveSlot({}, never);
    const third = slots.reserveSlot({}, never);
    assert.equal(await settled(third), false, 'a third batch waits while both run rows');
    assert.equal(slots.tryReserveSlot(), null);
    const undrain = batchDrained();
    assert.equal(await settled(third), true, 'polled once a batch has no row left to hand out');
    const fourth = slots.reserveSlot({}, never);
    const undrainToo = batchDrained();
    assert.equal(await settled(fourth), false, 'at most one batch beyond the two running');
    // The drained batch ends: its slot is released; the fourth may come.
    undrain();
    undrain(); // twice is once
    slots.releaseSlot();
    assert.equal(await settled(fourth), true);
    undrainToo();
    slots.releaseSlot();
    slots.releaseSlot();
    slots.releaseSlot();
    assert.notEqual(slots.tryReserveSlot(), null, 'all released: a slot is free');
    slots.releaseSlot();
  });

  it('a reservation the SDK gives up on is rejected as an AbortError and holds nothing', async () => {
    const slots = new BatchSlots(1);
    await slots.reserveSlot({}, new AbortController().signal);
    const abort = new AbortController();
    const waiting = slots.reserveSlot({}, abort.signal);
    abort.abort();
    await assert.rejects(waiting, (err: Error) => err.name === 'AbortError');
    slots.releaseSlot();
    assert.notEqual(slots.tryReserveSlot(), null);
  });
});
