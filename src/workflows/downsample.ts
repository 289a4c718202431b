/**
 * The end of a job that asked for the Boss's downsample (`client.backend.downsample`): after the
 * last chunk, with no failures, the Boss builds the lower resolutions and the job waits for it.
 * Workflow code: deterministic, only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import { FAILURE } from '../errors.js';
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
    nonRetryableErrorTypes: [FAILURE.jobError],
  },
});

export function wantsDownsample(job: JobSpec): boolean {
  const backend = job.config.client.backend;
  return job.destination.name === 'boss' && backend.name === 'boss' && backend.downsample === true;
}

/**
 * Runs the downsample and waits for it. Ends with `progress.state` completed, or failed (then
 * throws JobFailed with the server's message); a cancel of the job reaches the activity, which
 * cancels the Boss's downsample, and the cancellation is rethrown for the job to end cancelled.
 */
export async function downsampleChannel(
  job: JobSpec,
  progress: Progress,
  publish: () => void,
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
    progress.downsample = await bossDownsample({ ...channel, phase: 'start' });
    publish();
    progress.downsample = await bossDownsample({ ...channel, phase: 'wait' });
  } catch (err) {
    if (wf.isCancellation(err)) {
      progress.cancelReason ??= 'cancelled while the Boss was downsampling';
      throw err;
    }
    const cause = (err as { cause?: { message?: string } }).cause;
    throw failed(progress, publish, cause?.message ?? String(err));
  }
  // Not DOWNSAMPLED: someone wrote to the channel or cancelled the downsample meanwhile.
  if (progress.downsample !== 'DOWNSAMPLED')
    throw failed(
      progress,
      publish,
      `the Boss's downsample of ${d.collection}/${d.experiment}/${d.channel} ended ${progress.downsample}, not DOWNSAMPLED`,
    );
  progress.state = 'completed';
  publish();
}

/** Ends the job failed with the message: the failure to throw. */
export function failed(progress: Progress, publish: () => void, message: string): wf.ApplicationFailure {
  progress.state = 'failed';
  progress.error = message;
  publish();
  return wf.ApplicationFailure.nonRetryable(message, FAILURE.jobFailed);
}
