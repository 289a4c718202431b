/**
 * The end of a job that asked for the Boss's downsample (`client.backend.downsample`): after the
 * last chunk, with no failures, the Boss builds the lower resolutions and the job waits for it.
 * Workflow code: deterministic, only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type { JobSpec, Progress } from '../job/types.js';

const { bossDownsample } = wf.proxyActivities<typeof activities>({
  // A large channel takes the Boss hours or days; the heartbeat, not this, notices a lost worker.
  startToCloseTimeout: '7 days',
  heartbeatTimeout: '10s',
  // The activity cancels the Boss's downsample before it ends.
  cancellationType: wf.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '2s',
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['DownsampleFailed', 'BossError'],
  },
});

export function wantsDownsample(job: JobSpec): boolean {
  const backend = job.config.client.backend;
  return job.destination.name === 'boss' && backend.name === 'boss' && backend.downsample === true;
}

/**
 * Runs the downsample in `scope` (the job's cancellable work). Ends with `progress.state`
 * completed, failed (then throws JobFailed with the server's message) or cancelled (rethrown
 * when Temporal itself cancelled the job).
 */
export async function downsampleChannel(
  job: JobSpec,
  progress: Progress,
  publish: () => void,
  scope: wf.CancellationScope,
): Promise<void> {
  const d = job.destination;
  if (d.name !== 'boss') return;
  const channel = {
    baseUrl: d.baseUrl,
    collection: d.collection,
    experiment: d.experiment,
    channel: d.channel,
  };
  progress.state = 'downsampling';
  progress.downsample = 'starting';
  publish();
  try {
    progress.downsample = await scope.run(() => bossDownsample({ ...channel, phase: 'start' }));
    publish();
    progress.downsample = await scope.run(() => bossDownsample({ ...channel, phase: 'wait' }));
  } catch (err) {
    if (wf.isCancellation(err)) {
      progress.state = 'cancelled';
      progress.cancelReason ??= 'cancelled while the Boss was downsampling';
      publish();
      if (wf.CancellationScope.current().consideredCancelled) throw err;
      return;
    }
    const cause = (err as { cause?: { message?: string } }).cause;
    progress.state = 'failed';
    progress.error = cause?.message ?? String(err);
    publish();
    throw wf.ApplicationFailure.nonRetryable(progress.error, 'JobFailed');
  }
  // Not DOWNSAMPLED: someone wrote to the channel or cancelled the downsample meanwhile.
  progress.state = progress.downsample === 'DOWNSAMPLED' ? 'completed' : 'failed';
  if (progress.state === 'failed') {
    progress.error = `the Boss's downsample of ${d.collection}/${d.experiment}/${d.channel} ended ${progress.downsample}, not DOWNSAMPLED`;
    publish();
    throw wf.ApplicationFailure.nonRetryable(progress.error, 'JobFailed');
  }
  publish();
}
