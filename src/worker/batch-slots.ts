/**
 * The activity slots of a worker process. A batch holds its slot while it runs; once one of its
 * threads finds no row left to take (the batch's last rows are on the threads, and a thread is
 * about to idle) it stops counting against the batches a worker runs at once, and the next batch
 * is polled then, so its rows are ready when the thread is. With a fixed number of slots the
 * threads waited a poll's round trip between batches: about 10 ms a batch, a tenth of a
 * time-series batch's time. At most one batch more than that number is held.
 */
import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit } from '@temporalio/worker';

let drained = 0;
const wakers = new Set<() => void>();

function wake(): void {
  for (const w of [...wakers]) w();
}

/**
 * Called by a batch when a thread of it finds no row left; the returned function, when the batch
 * ends (whatever the outcome), before its slot is released.
 */
export function batchDrained(): () => void {
  drained++;
  wake();
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    drained--;
  };
}

export class BatchSlots implements CustomSlotSupplier<ActivitySlotInfo> {
  readonly type = 'custom';
  private held = 0;

  /** `running`: batches whose rows are not all on the threads; one more may be held beside them. */
  constructor(private readonly running: number) {}

  private free(): boolean {
    return this.held - Math.min(drained, this.held) < this.running && this.held < this.running + 1;
  }

  reserveSlot(_ctx: unknown, abortSignal: AbortSignal): Promise<SlotPermit> {
    return new Promise<SlotPermit>((resolve, reject) => {
      const attempt = () => {
        if (abortSignal.aborted) {
          wakers.delete(attempt);
          reject(new DOMException('slot reservation aborted', 'AbortError'));
        } else if (this.free()) {
          wakers.delete(attempt);
          this.held++;
          resolve({});
        }
      };
      wakers.add(attempt);
      abortSignal.addEventListener('abort', attempt, { once: true });
      attempt();
    });
  }

  tryReserveSlot(): SlotPermit | null {
    if (!this.free()) return null;
    this.held++;
    return {};
  }

  markSlotUsed(): void {}

  releaseSlot(): void {
    this.held--;
    wake();
  }
}
