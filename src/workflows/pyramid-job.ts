/**
 * `boss-ingest downsample VOLUME`: the pyramid of an existing zarr volume built or rebuilt as a
 * job of its own, through the same stage as an ingest's. Workflow code: deterministic.
 */
import * as wf from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import { ENGINE_DEFAULTS } from '../config/job.js';
import { FAILURE } from '../errors.js';
import { finalState, initialProgress, progressMarkdown, refreshRates, toResult } from '../job/progress.js';
import type { JobResult, Progress } from '../job/types.js';
import type { MultiscaleConfig } from '../pyramid/levels.js';
import { cancelSignal, progressQuery } from './messages.js';
import { buildPyramidStage, type PyramidCarry } from './pyramid.js';
import { rootMessage } from './window.js';

const { pyramidVolume } = wf.proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: [FAILURE.jobError] },
});

export interface PyramidJobInput {
  /** The volume's absolute path. */
  path: string;
  multiscale: MultiscaleConfig;
}

export async function pyramidJob(
  input: PyramidJobInput,
  carry?: { progress: Progress; pyramid: PyramidCarry },
): Promise<JobResult> {
  const progress = carry
    ? { ...carry.progress, run: carry.progress.run + 1 }
    : { ...initialProgress(wf.workflowInfo().workflowId, new Date()), destination: input.path };
  const publish = () => {
    refreshRates(progress, new Date());
    wf.setCurrentDetails(progressMarkdown(progress, []));
  };
  const work = new wf.CancellationScope();
  wf.setHandler(progressQuery, () => toResult(progress, []));
  wf.setHandler(cancelSignal, (reason?: string) => {
    progress.cancelReason ??= reason ?? 'cancel signal';
    work.cancel();
  });
  // The engine's defaults: a volume has no job config to set them.
  const settings = ENGINE_DEFAULTS;
  let more: PyramidCarry | undefined;
  try {
    more = await work.run(async () => {
      const volume = carry ? carry.pyramid.job.volume : await pyramidVolume(input);
      const multiscale = input.multiscale;
      return buildPyramidStage(
        { ...volume, multiscale },
        undefined,
        carry?.pyramid,
        progress,
        settings,
        publish,
      );
    });
  } catch (err) {
    if (!wf.isCancellation(err)) {
      if (progress.state !== 'failed') {
        progress.state = 'failed';
        progress.error = rootMessage(err);
        publish();
      }
      throw wf.ApplicationFailure.nonRetryable(progress.error ?? rootMessage(err), FAILURE.jobFailed);
    }
    const byTemporal = wf.CancellationScope.current().consideredCancelled;
    progress.cancelReason ??= 'cancelled through Temporal';
    progress.state = finalState(progress, true);
    publish();
    if (byTemporal) throw new wf.CancelledFailure(progress.cancelReason);
    return toResult(progress, []);
  }
  if (more) {
    await wf.condition(wf.allHandlersFinished);
    return wf.continueAsNew<typeof pyramidJob>(input, { progress, pyramid: more });
  }
  publish();
  return toResult(progress, []);
}
