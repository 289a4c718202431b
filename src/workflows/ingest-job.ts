/**
 * The ingest job: a sliding window of batch activities over the job's chunks. Deterministic:
 * imports only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import { engineSettings } from '../config/job.js';
import type { JobConfig } from '../config/types.js';
import { addBatch, finalState, initialProgress, progressMarkdown, toResult, touch } from '../job/progress.js';
import type { ChunkFailure, JobPlan, JobResult, Progress } from '../job/types.js';
import { MAX_LISTED_FAILURES } from '../job/types.js';
import { downsampleChannel, wantsDownsample } from './downsample.js';

export const cancelSignal = wf.defineSignal<[string?]>('cancel');
export const progressQuery = wf.defineQuery<JobResult>('progress');

const { prepareJob } = wf.proxyActivities<typeof activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
});

const { ingestBatch } = wf.proxyActivities<typeof activities>({
  startToCloseTimeout: '1 hour',
  // Short, so a killed worker's batch is retried within seconds and a cancel reaches activities fast.
  heartbeatTimeout: '10s',
  cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['JobError'],
  },
});

/** What one run hands to the next when the job continues as new. */
export interface JobCarry {
  plan: JobPlan;
  next: number;
  progress: Progress;
  failures: ChunkFailure[];
}

function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}

export async function ingestJob(config: JobConfig, carry?: JobCarry): Promise<JobResult> {
  const info = wf.workflowInfo();
  const progress = carry
    ? { ...carry.progress, run: carry.progress.run + 1 }
    : initialProgress(info.workflowId, undefined, new Date());
  const failures = carry?.failures ?? [];
  let cancelled = false;
  /** Temporal's own cancel ends the execution as Canceled; the bare signal ends it Completed, state cancelled. */
  let cancelledByTemporal = false;
  let inFlight = 0;
  let fatal: string | undefined;
  const batches = new wf.CancellationScope();

  const publish = () => {
    touch(progress, new Date());
    wf.setCurrentDetails(progressMarkdown(progress, failures));
  };
  wf.setHandler(progressQuery, () => toResult(progress, failures));
  wf.setHandler(cancelSignal, (reason?: string) => {
    if (cancelled) return;
    cancelled = true;
    progress.cancelReason = reason ?? 'cancel signal';
    batches.cancel();
  });

  let plan: JobPlan;
  try {
    plan = carry?.plan ?? (await prepareJob(config));
  } catch (err) {
    if (wf.isCancellation(err)) {
      progress.state = 'cancelled';
      throw err;
    }
    progress.state = 'failed';
    progress.error = rootMessage(err);
    throw wf.ApplicationFailure.nonRetryable(progress.error, 'JobFailed');
  }
  if (!carry) Object.assign(progress, initialProgress(info.workflowId, plan, new Date(progress.startedAt)));
  const settings = engineSettings(plan.job.config);
  let next = carry?.next ?? 0;
  publish();

  const launch = (first: number, end: number) => {
    inFlight++;
    const summary = `chunks ${first}-${end - 1} of ${plan.totalChunks}`;
    batches
      .run(() => ingestBatch.executeWithOptions({ summary }, [{ job: plan.job, first, end }]))
      .then((result) => addBatch(progress, failures, result, new Date()))
      .catch((err: unknown) => {
        if (wf.isCancellation(err)) return;
        const message = rootMessage(err);
        const type = (err as { cause?: { type?: string } }).cause?.type;
        if (type === 'JobError') {
          fatal ??= message;
          batches.cancel();
          return;
        }
        progress.failedChunks += end - first;
        if (failures.length < MAX_LISTED_FAILURES)
          failures.push({
            chunk: first,
            reason: `chunks ${first}-${end - 1} failed after retries: ${message}`,
          });
      })
      .finally(() => {
        inFlight--;
        publish();
      });
  };

  try {
    let launched = 0;
    const runStart = Date.now();
    const runFirst = next;
    while (next < plan.totalChunks && !cancelled && !fatal) {
      if (launched >= settings.batchesPerRun || wf.workflowInfo().continueAsNewSuggested) break;
      await wf.condition(() => inFlight < settings.window || cancelled || fatal !== undefined);
      if (cancelled || fatal) break;
      if (settings.rateLimit) {
        // One write per chunk: launch no faster than the rate limit allows, whatever the workers.
        const due = runStart + ((next - runFirst) * 1000) / settings.rateLimit - Date.now();
        if (due > 0) await wf.sleep(due);
      }
      const end = Math.min(next + settings.chunksPerBatch, plan.totalChunks);
      launch(next, end);
      launched++;
      next = end;
    }
    await wf.condition(() => inFlight === 0);
  } catch (err) {
    if (!wf.isCancellation(err)) throw err;
    // Cancelled from the Temporal UI or CLI: let in-flight batches stop, then end as cancelled.
    cancelled = true;
    cancelledByTemporal = true;
    progress.cancelReason ??= 'cancelled through Temporal';
    await wf.CancellationScope.nonCancellable(() => wf.condition(() => inFlight === 0));
  }

  if (fatal) {
    progress.state = 'failed';
    // Such errors (the Boss's quota, a revoked token) pass or get fixed outside the job.
    progress.error = `${fatal}; what was written is kept: once this is resolved, run the job again with -j ${info.workflowId}`;
    publish();
    throw wf.ApplicationFailure.nonRetryable(progress.error, 'JobFailed');
  }
  if (!cancelled && next < plan.totalChunks) {
    await wf.condition(wf.allHandlersFinished);
    return wf.continueAsNew<typeof ingestJob>(config, { plan, next, progress, failures });
  }
  progress.state = finalState(progress, cancelled);
  if (progress.state === 'completed' && wantsDownsample(plan.job))
    await downsampleChannel(plan.job, progress, publish, batches);
  publish();
  if (cancelledByTemporal) throw new wf.CancelledFailure(progress.cancelReason ?? 'cancelled');
  return toResult(progress, failures);
}
