/**
 * The ingest job: a sliding window of batch activities over the job's chunks. Deterministic:
 * imports only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import { engineSettings, type EngineSettings } from '../config/job.js';
import type { JobConfig } from '../config/types.js';
import { FAILURE } from '../errors.js';
import { batchEnd } from '../extent/grid.js';
import {
  finalState,
  initialProgress,
  progressMarkdown,
  recordPlan,
  refreshRates,
  toResult,
} from '../job/progress.js';
import type { ChunkFailure, JobPlan, JobResult, LevelRange, Progress } from '../job/types.js';
import { cancelSignal, progressQuery } from './messages.js';
import { BATCH_OPTIONS, BatchWindow, DonePrefix, rootMessage, type BatchRange } from './window.js';
import { downsampleChannel, wantsDownsample } from './downsample.js';
import { buildPyramidStage, pyramidOf, type LevelZero, type PyramidCarry } from './pyramid.js';
import type { PyramidJob } from '../pyramid/job.js';

export { cancelSignal, progressQuery };

/** The patch under which ingest batches build level 1 as they go (see LevelZero.early). */
const EARLY_LEVEL_ONE = 'level-one-in-ingest-batches';
/** The patch under which the levels' batches whose chunks the ingest's batches built are not run. */
const SKIP_BUILT = 'skip-level-batches-built-early';

/**
 * The patch under which a job's plan (prepareJob) runs as a local activity: on the worker that
 * runs the job's first workflow task, within it, which spares the round trip of an activity task
 * and a second workflow task before the first batches are scheduled (tens of ms of every job).
 */
const LOCAL_PLAN = 'plan-as-local-activity';

const PLAN_OPTIONS = {
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5 },
} as const;
const remotePlan = wf.proxyActivities<typeof activities>(PLAN_OPTIONS);
const localPlan = wf.proxyLocalActivities<typeof activities>(PLAN_OPTIONS);

/** The plan activity (prepareJob) of every kind of job: local, except in runs started before LOCAL_PLAN. */
export function planActivities(): typeof remotePlan {
  return wf.patched(LOCAL_PLAN) ? localPlan : remotePlan;
}

/** The batch activities (ingestBatch, verifyBatch) of every kind of job. */
export const batchActivities = wf.proxyActivities<typeof activities>(BATCH_OPTIONS);

/**
 * What makes a job an ingest or a verify: its plan and its batches. The engine (window,
 * checkpoints, continue-as-new, cancel) is the same for both.
 */
export interface JobKind {
  plan(config: JobConfig): Promise<JobPlan>;
  batch: typeof batchActivities.ingestBatch;
  /**
   * The job writes: the stages after its chunks (the Boss's downsample) are its to run, and its
   * levels are built while level 0 is written, each chunk once the chunks under it are.
   */
  writes: boolean;
  /**
   * The stage over a zarr volume's pyramid (an ingest builds it, a verify checks it), started or
   * resumed from `carry`: returns where to resume after continue-as-new, undefined when done.
   * `zero`: level 0 is still being written (a job that writes).
   */
  levels(
    plan: JobPlan,
    carry: PyramidCarry | undefined,
    progress: Progress,
    failures: ChunkFailure[],
    settings: EngineSettings,
    publish: () => void,
    zero?: LevelZero,
  ): Promise<PyramidCarry | undefined>;
}

const INGEST: JobKind = {
  plan: (config) => planActivities().prepareJob(config),
  batch: batchActivities.ingestBatch,
  writes: true,
  // The pyramid above what the job wrote, when it asks for one.
  levels: async (plan, carry, progress, _failures, settings, publish, zero) => {
    const pyramid = pyramidOf(plan.job);
    if (!pyramid) return undefined;
    return buildPyramidStage(pyramid, plan.job.grid.extent, carry, progress, settings, publish, zero);
  },
};

/** The workflow's input: the validated-at-submit config, and what the previous run hands on. */
export type IngestJobInput = [config: JobConfig, carry?: JobCarry];

/** What one run hands to the next when the job continues as new. */
export interface JobCarry {
  plan: JobPlan;
  next: number;
  progress: Progress;
  failures: ChunkFailure[];
  /** Where the pyramid stage stands, once it has started. */
  pyramid?: PyramidCarry;
}

/** The state of one run: what the query shows, and where the next batch starts. */
interface RunState {
  progress: Progress;
  failures: ChunkFailure[];
  /** First chunk not yet launched. */
  next: number;
  /** The chunks whose batches are done (written, or failed for good). */
  written: DonePrefix;
  /** The job's pyramid once its arrays are open, when its batches build level 1 (LevelZero.early). */
  pyramid?: PyramidJob;
  /** The pyramid chunks this run's batches built (LevelZero.early.built). */
  built: LevelRange[];
}

export function ingestJob(...[config, carry]: IngestJobInput): Promise<JobResult> {
  return runJob(INGEST, config, carry);
}

/** A job of any kind, in one workflow run; it continues as new (as the same workflow) while work is left. */
export async function runJob(kind: JobKind, config: JobConfig, carry?: JobCarry): Promise<JobResult> {
  const state: RunState = {
    progress: carry
      ? { ...carry.progress, run: carry.progress.run + 1 }
      : initialProgress(wf.workflowInfo().workflowId, new Date()),
    failures: carry?.failures ?? [],
    next: carry?.next ?? 0,
    // The previous run drained its batches before it continued as new.
    written: new DonePrefix(carry?.next ?? 0),
    built: [],
  };
  // The one cancel path: the cancel signal cancels this scope; Temporal's cancel (UI, CLI) cancels
  // the workflow's root scope, and with it this one. Either way the work stops in `stopped`.
  const work = new wf.CancellationScope();
  wf.setHandler(progressQuery, () => toResult(state.progress, state.failures));
  wf.setHandler(cancelSignal, (reason?: string) => {
    state.progress.cancelReason ??= reason ?? 'cancel signal';
    work.cancel();
  });

  let plan: JobPlan;
  try {
    plan = await work.run(() => planJob(kind, config, carry, state));
  } catch (err) {
    if (!wf.isCancellation(err)) throw failJob(state, rootMessage(err));
    return stopped(state);
  }
  const settings = engineSettings(plan.job.config, plan.totalChunks, plan.chunksPerBatch);
  const window = new BatchWindow(settings.window, state.progress, state.failures, settings.failureStop);
  const publishing = () => publish(state);
  // A job that writes builds its levels meanwhile; the scope stops them when level 0 fails the job.
  let pausing = false;
  let levelScope: wf.CancellationScope | undefined;
  const concurrent = state.next < plan.totalChunks && kind.writes;
  // Batches that build level 1 as they go need its arrays open first (new in this version: a
  // job started before it replays without). A run after level 0 has no batches to wait.
  const early = concurrent && pyramidOf(plan.job) !== undefined && wf.patched(EARLY_LEVEL_ONE);
  const zero: LevelZero = {
    grid: plan.job.grid,
    done: () => state.written.prefix,
    pausing: () => pausing,
    ...(early
      ? { early: { opened: (job: PyramidJob) => void (state.pyramid = job), built: () => state.built } }
      : {}),
  };
  const levels = concurrent
    ? work.run(() => {
        levelScope = new wf.CancellationScope();
        return levelScope.run(() =>
          kind.levels(plan, carry?.pyramid, state.progress, state.failures, settings, publishing, zero),
        );
      })
    : undefined;
  // Settled (its failure or cancel handled below), so that waiting on it never throws unhandled.
  const levelsSettled = levels?.then(
    (more) => ({ more }),
    (err: unknown) => ({ err }),
  );
  let levelsEnded = false;
  void levelsSettled?.then(() => {
    levelsEnded = true;
  });
  try {
    await work.run(async () => {
      if (early) await wf.condition(() => state.pyramid !== undefined || levelsEnded);
      await runBatches(kind, plan, settings, state, window);
    });
  } catch (err) {
    if (!wf.isCancellation(err)) throw err;
    // Let in-flight batches stop and report what they wrote, so the counts match the volume.
    await wf.CancellationScope.nonCancellable(async () => {
      await wf.condition(() => window.drained);
      await levelsSettled;
    });
    return stopped(state);
  }
  if (window.fatal) {
    // The job fails, it is not cancelled: the levels' stop is not a cancel reason.
    const { cancelReason } = state.progress;
    levelScope?.cancel();
    await wf.CancellationScope.nonCancellable(async () => {
      await levelsSettled;
    });
    state.progress.cancelReason = cancelReason;
    // What ends a job mid-run (the Boss's quota, a revoked token, chunks that keep failing) passes
    // or gets fixed outside the job; the chunks written stay.
    throw failJob(
      state,
      `${window.fatal}; what was written stays: once this is resolved, run the job again with -j ${wf.workflowInfo().workflowId}`,
    );
  }
  if (state.next < plan.totalChunks) {
    pausing = true;
    const outcome = await levelsSettled;
    if (outcome && 'err' in outcome) {
      if (!wf.isCancellation(outcome.err)) throw outcome.err;
      return stopped(state);
    }
    await wf.condition(wf.allHandlersFinished);
    const next: JobCarry = {
      plan,
      next: state.next,
      progress: state.progress,
      failures: state.failures,
      ...(outcome?.more ? { pyramid: outcome.more } : {}),
    };
    return wf.continueAsNew<typeof ingestJob>(config, next);
  }
  state.progress.state = finalState(state.progress, false);
  let more: PyramidCarry | undefined;
  if (levelsSettled) {
    // Level 0 is written: what is left of the levels is the job's last stage.
    if (state.progress.pyramid) state.progress.state = 'downsampling';
    publish(state);
    const outcome = await levelsSettled;
    if ('err' in outcome) {
      if (!wf.isCancellation(outcome.err)) throw outcome.err;
      return stopped(state);
    }
    more = outcome.more;
    // The levels may have ended before level 0 did (a pyramid with no level above it).
    if (!more) state.progress.state = finalState(state.progress, false);
  } else {
    try {
      more = await work.run(() =>
        kind.levels(plan, carry?.pyramid, state.progress, state.failures, settings, publishing),
      );
    } catch (err) {
      if (!wf.isCancellation(err)) throw err;
      return stopped(state);
    }
  }
  if (more) {
    await wf.condition(wf.allHandlersFinished);
    const { progress, failures } = state;
    return wf.continueAsNew<typeof ingestJob>(config, {
      plan,
      next: state.next,
      progress,
      failures,
      pyramid: more,
    });
  }
  if (state.progress.state === 'completed' && kind.writes && wantsDownsample(plan.job)) {
    try {
      await work.run(() => downsampleChannel(plan.job, state.progress, () => publish(state)));
    } catch (err) {
      if (!wf.isCancellation(err)) throw err;
      return stopped(state);
    }
  }
  publish(state);
  wf.log.info('job finished', { state: state.progress.state, failedChunks: state.progress.failedChunks });
  return toResult(state.progress, state.failures);
}

/** The plan: the previous run's, or a new one from the prepare activity. */
async function planJob(
  kind: JobKind,
  config: JobConfig,
  carry: JobCarry | undefined,
  state: RunState,
): Promise<JobPlan> {
  if (carry) return carry.plan;
  const plan = await kind.plan(config);
  recordPlan(state.progress, plan);
  publish(state);
  wf.log.info('job planned', { totalChunks: plan.totalChunks, destination: plan.destination });
  return plan;
}

/**
 * Launches the run's batches through the window, then waits for them. Ends early when a batch
 * fails the job, or when the run has done enough to continue as new.
 */
async function runBatches(
  kind: JobKind,
  plan: JobPlan,
  settings: EngineSettings,
  state: RunState,
  window: BatchWindow,
): Promise<void> {
  // A failure that ends the job stops the batches in flight, not the job's cancel handling.
  const batches = new wf.CancellationScope();
  const pace = launchPacer(settings.rateLimit, state.next);
  for (let launched = 0; state.next < plan.totalChunks && !window.fatal; launched++) {
    if (launched >= settings.batchesPerRun || wf.workflowInfo().continueAsNewSuggested) break;
    await wf.condition(() => window.hasRoom || window.fatal !== undefined);
    if (window.fatal) break;
    await pace(state.next);
    const range = {
      first: state.next,
      end: batchEnd(state.next, settings.chunksPerBatch, plan.totalChunks, plan.batchAlign),
    };
    window.launch(range);
    void batches.run(() => runBatch(kind, plan, range, state, window, batches));
    state.next = range.end;
  }
  await wf.condition(() => window.drained);
}

/** One launched batch activity, its outcome recorded in the window. Never throws. */
async function runBatch(
  kind: JobKind,
  plan: JobPlan,
  range: BatchRange,
  state: RunState,
  window: BatchWindow,
  batches: wf.CancellationScope,
): Promise<void> {
  const summary = `chunks ${range.first}-${range.end - 1} of ${plan.totalChunks}`;
  try {
    const { pyramid } = state;
    const input = { job: plan.job, ...range, ...(pyramid ? { pyramid } : {}) };
    const result = await kind.batch.executeWithOptions({ summary }, [input]);
    if (result.built && wf.patched(SKIP_BUILT)) state.built.push(...result.built);
    state.written.add(range);
    if (window.onResult(range, result, new Date())) {
      wf.log.warn('the job stops: its chunks keep failing', { ...range, reason: window.fatal });
      batches.cancel();
    }
  } catch (err) {
    if (wf.isCancellation(err)) {
      window.onCancelled(range);
    } else {
      state.written.add(range);
      if (window.onFailure(range, err)) {
        wf.log.warn('batch failed the job', { ...range, reason: window.fatal });
        batches.cancel();
      } else {
        wf.log.warn('batch failed after retries; its chunks are counted as failed', {
          ...range,
          reason: rootMessage(err),
        });
      }
    }
  }
  publish(state);
}

/**
 * Spaces launches so the job writes no faster than `rateLimit` chunks per second (one write per
 * chunk), whatever the number of workers. Counted from the run's start and first chunk.
 */
function launchPacer(rateLimit: number | undefined, runFirst: number): (next: number) => Promise<void> {
  const runStart = Date.now();
  return async (next) => {
    if (!rateLimit) return;
    const due = runStart + ((next - runFirst) * 1000) / rateLimit - Date.now();
    if (due > 0) await wf.sleep(due);
  };
}

function publish(state: RunState): void {
  refreshRates(state.progress, new Date());
  wf.setCurrentDetails(progressMarkdown(state.progress, state.failures));
}

/** The job cannot go on: it fails with the message. */
function failJob(state: RunState, message: string): wf.ApplicationFailure {
  state.progress.state = 'failed';
  state.progress.error = message;
  publish(state);
  wf.log.error('job failed', { reason: message });
  return wf.ApplicationFailure.nonRetryable(message, FAILURE.jobFailed);
}

/**
 * The end of a cancelled job. Temporal's cancel ends the execution Canceled; the bare signal
 * cannot (only Temporal cancels an execution), so it ends Completed with state cancelled.
 */
function stopped(state: RunState): JobResult {
  const byTemporal = wf.CancellationScope.current().consideredCancelled;
  state.progress.cancelReason ??= 'cancelled through Temporal';
  state.progress.state = finalState(state.progress, true);
  publish(state);
  wf.log.info('job cancelled', { reason: state.progress.cancelReason });
  if (byTemporal) throw new wf.CancelledFailure(state.progress.cancelReason);
  return toResult(state.progress, state.failures);
}
