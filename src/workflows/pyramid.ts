/**
 * The pyramid stage of a job with a zarr destination and `multiscale`, and of `downsample VOLUME`:
 * levels 1..top as batches of chunk ranges over the workers, each once the chunks under its chunks
 * are done (during an ingest, its own batches build most of them first: see LevelZero.early); a
 * verify checks the levels through the same batches. Its position is carried
 * across continue-as-new, so history stays bounded.
 * Workflow code: deterministic, only @temporalio/workflow and pure modules.
 */
import * as wf from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type { EngineSettings } from '../config/job.js';
import type { ZarrVolume } from '../destinations/zarr.js';
import { FAILURE } from '../errors.js';
import type { Extent } from '../extent/grid.js';
import { finalState, listFailure } from '../job/progress.js';
import type { ChunkFailure, JobSpec, LevelRange, Progress } from '../job/types.js';
import { levelGrid, readyUpTo, type PyramidJob } from '../pyramid/job.js';
import type { Grid } from '../extent/grid.js';
import { failed } from './downsample.js';
import { BATCH_OPTIONS, DonePrefix, rootMessage } from './window.js';

/** The stage's own activities (plan, open, finish): short, retried a few times. */
const STAGE_OPTIONS: wf.ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '1s',
    maximumInterval: '30s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [FAILURE.jobError],
  },
};

const stageActivities = wf.proxyActivities<typeof activities>(STAGE_OPTIONS);

const { pyramidCheckPlan } = stageActivities;

/** The patch under which a verify of a volume without a pyramid asks no plan of its levels. */
const NO_CHECK_PLAN_WITHOUT_PYRAMID = 'no-check-plan-without-pyramid';

/**
 * Plan, open and finish as local activities, on the worker that runs the workflow (every worker
 * sees the volume): the ingest's batches wait for the pyramid's arrays, and the job's end for
 * the finish, so a round trip through the task queue would delay both.
 */
const early = wf.proxyLocalActivities<typeof activities>(STAGE_OPTIONS);

const { pyramidBatch } = wf.proxyActivities<typeof activities>(BATCH_OPTIONS);

/** Where the stage stands: handed to the next run when the job continues as new. */
export interface PyramidCarry {
  job: PyramidJob;
  /** The level being built and its first chunk not yet launched. */
  level: number;
  next: number;
}

/**
 * Level 0 as the ingest writes it, when the levels are built meanwhile: a level-1 chunk starts
 * once every chunk under it is written.
 */
export interface LevelZero {
  /** The ingest's chunk grid. */
  grid: Grid;
  /** Chunks [0, done()) of the grid are written (or failed for good). */
  done(): number;
  /** The ingest continues as new: stop launching, and return where to resume. */
  pausing(): boolean;
  /**
   * The ingest's batches build the level-1 chunks only their own chunks feed (see
   * levelOneWithin): they wait for the pyramid's arrays, and `opened` hands them the pyramid.
   */
  early?: {
    opened(job: PyramidJob): void;
    /** The chunks of levels 1.. that the ingest's batches built (each batch's result says). */
    built(): readonly LevelRange[];
  };
}

/** Whether `ranges` cover chunks [first, end) of level `level`. */
function covered(ranges: readonly LevelRange[], level: number, first: number, end: number): boolean {
  const mine = ranges.filter((r) => r.level === level).sort((a, b) => a.first - b.first);
  let at = first;
  for (const r of mine) if (r.first <= at && r.end > at) at = r.end;
  return at >= end;
}

/** The job's zarr volume when it asks for a pyramid. */
export function pyramidOf(job: JobSpec): (ZarrVolume & Required<Pick<ZarrVolume, 'multiscale'>>) | undefined {
  const d = job.destination;
  return d.name === 'zarr' && d.multiscale ? { ...d, multiscale: d.multiscale } : undefined;
}

/**
 * Builds the pyramid above `changed` (the whole pyramid when absent), or resumes it from `carry`;
 * with `zero`, while level 0 is written, each chunk as soon as the chunks under it are.
 * Returns where to resume when the run has done enough to continue as new, undefined when done.
 * Throws JobFailed when a batch fails after its retries; a cancel is rethrown once the batches in
 * flight have stopped and reported what they built.
 */
export async function buildPyramidStage(
  volume: ZarrVolume & Required<Pick<ZarrVolume, 'multiscale'>>,
  changed: Extent | undefined,
  carry: PyramidCarry | undefined,
  progress: Progress,
  settings: StageSettings,
  publish: () => void,
  zero?: LevelZero,
): Promise<PyramidCarry | undefined> {
  const at = carry ?? (await start(volume, changed, progress, zero?.early !== undefined));
  zero?.early?.opened(at.job);
  if (!zero) progress.state = 'downsampling';
  const more = await runLevels(at, undefined, progress, settings, publish, zero);
  if (!more) await (zero?.early ? early : stageActivities).pyramidFinish(at.job);
  return more;
}

/**
 * A verify's stage after level 0: each level of the zarr volume's pyramid checked against the
 * pyramid of the level below as stored, in the same batches as a build, never writing. Chunks
 * that differ are counted in their level's progress and listed in `failures`. Returns as
 * buildPyramidStage does; a volume without a pyramid (or another destination) has nothing to check.
 */
export async function checkPyramidStage(
  job: JobSpec,
  carry: PyramidCarry | undefined,
  progress: Progress,
  failures: ChunkFailure[],
  settings: StageSettings,
  publish: () => void,
): Promise<PyramidCarry | undefined> {
  let at = carry;
  if (!at) {
    const volume = job.destination;
    if (volume.name !== 'zarr') return undefined;
    // The destination resolved `multiscale` from the config or, when it asks for none, from the
    // volume's record (see planPyramidCheck): without one there is no pyramid, and no activity
    // need say so (one round trip at the end of every verify).
    if (!volume.multiscale && wf.patched(NO_CHECK_PLAN_WITHOUT_PYRAMID)) return undefined;
    let plan;
    try {
      plan = await pyramidCheckPlan(volume);
    } catch (err) {
      if (wf.isCancellation(err)) throw err;
      return stageFailed(progress, publish, 'verified', rootMessage(err));
    }
    if (!plan) return undefined;
    progress.pyramid = plan.counts.map((total, i) => ({ level: i + 1, done: 0, total, failed: 0 }));
    at = { job: plan.job, level: 1, next: 0 };
  }
  progress.state = 'running';
  return runLevels(at, failures, progress, settings, publish);
}

type StageSettings = Pick<EngineSettings, 'window' | 'chunksPerBatch' | 'batchesPerRun'>;

/**
 * Levels from `at` in turn, a level's batches through a window, each batch once the chunks under
 * it are done (level 1's: written by the ingest, `zero`, when it still runs). A check reads only
 * what is stored, so its batches wait on nothing. `findings`: check the chunks (a verify) and list
 * the differing ones there; build otherwise.
 */
async function runLevels(
  at: PyramidCarry,
  findings: ChunkFailure[] | undefined,
  progress: Progress,
  settings: StageSettings,
  publish: () => void,
  zero?: LevelZero,
): Promise<PyramidCarry | undefined> {
  const check = findings !== undefined;
  publish();
  const { job } = at;
  const levels = progress.pyramid!;
  // What is done at each level: those below the one resumed at are complete.
  const done = levels.map(
    (l, i) => new DonePrefix(i + 1 < at.level ? l.total : i + 1 === at.level ? at.next : 0),
  );
  const doneBelow = (level: number) => (level === 1 ? (zero?.done() ?? Infinity) : done[level - 2]!.prefix);
  // The end of the run of chunks that can start, kept per level: it only grows.
  const ready = levels.map(() => 0);
  const readyEnd = (level: number): number => {
    const total = levels[level - 1]!.total;
    if (check || (level === 1 && !zero) || doneBelow(level) === Infinity) return total;
    const below = level === 1 ? zero!.grid : levelGrid(job, level - 1);
    ready[level - 1] = readyUpTo(job, level, Math.max(ready[level - 1]!, at.next), below, doneBelow(level));
    return ready[level - 1]!;
  };
  let inFlight = 0;
  let failure: string | undefined;
  const launch = async (level: number, first: number, end: number) => {
    inFlight++;
    try {
      const summary = `pyramid level ${level}: ${check ? 'check ' : ''}chunks ${first}-${end - 1} of ${levels[level - 1]!.total}`;
      const input = { job, level, first, end, ...(check ? { check } : {}) };
      const result = await pyramidBatch.executeWithOptions({ summary }, [input]);
      const counts = levels[level - 1]!;
      counts.done += result.built;
      if (check) {
        counts.failed = (counts.failed ?? 0) + result.failed;
        for (const f of result.failures) listFailure(findings, f);
      }
      done[level - 1]!.add({ first, end });
    } catch (err) {
      if (!wf.isCancellation(err)) failure ??= rootMessage(err);
    } finally {
      inFlight--;
      publish();
    }
  };
  const verb = check ? 'verified' : 'built';
  const pause = async () => {
    await wf.condition(() => inFlight === 0);
    return failure === undefined ? at : stageFailed(progress, publish, verb, failure);
  };
  try {
    let launched = 0;
    for (; at.level < job.extents.length; at.level++, at.next = 0) {
      const total = levels[at.level - 1]!.total;
      while (at.next < total && failure === undefined) {
        if (launched >= settings.batchesPerRun || wf.workflowInfo().continueAsNewSuggested || zero?.pausing())
          return await pause();
        const end = Math.min(at.next + settings.chunksPerBatch, total);
        // Chunks the ingest's batches built need no batch of their level.
        const built = () => zero?.early !== undefined && covered(zero.early.built(), at.level, at.next, end);
        await wf.condition(
          () =>
            (inFlight < settings.window && readyEnd(at.level) >= end) ||
            built() ||
            failure !== undefined ||
            (zero?.pausing() ?? false),
        );
        if (failure !== undefined) break;
        if (zero?.pausing()) continue;
        if (built()) {
          levels[at.level - 1]!.done += end - at.next;
          done[at.level - 1]!.add({ first: at.next, end });
          at.next = end;
          publish();
          continue;
        }
        void launch(at.level, at.next, end);
        launched++;
        at.next = end;
      }
      if (failure !== undefined) break;
    }
    await wf.condition(() => inFlight === 0);
    if (failure !== undefined) return stageFailed(progress, publish, verb, failure);
  } catch (err) {
    if (wf.isCancellation(err)) {
      await wf.CancellationScope.nonCancellable(() => wf.condition(() => inFlight === 0));
      progress.cancelReason ??= `cancelled while the pyramid was ${verb}`;
    }
    throw err;
  }
  // Built while level 0 was written, the job's end is the ingest's to say.
  if (!zero) progress.state = finalState(progress, false);
  publish();
  return undefined;
}

/** Plans the stage and opens the pyramid's arrays (`local`: as local activities): level 1, chunk 0. */
async function start(
  volume: ZarrVolume & Required<Pick<ZarrVolume, 'multiscale'>>,
  changed: Extent | undefined,
  progress: Progress,
  local: boolean,
): Promise<PyramidCarry> {
  const { pyramidPlan, pyramidOpen } = local ? early : stageActivities;
  const { job, counts } = await pyramidPlan({
    volume,
    multiscale: volume.multiscale,
    ...(changed ? { changed } : {}),
  });
  progress.pyramid = counts.map((total, i) => ({ level: i + 1, done: 0, total }));
  await pyramidOpen(job);
  return { job, level: 1, next: 0 };
}

function stageFailed(progress: Progress, publish: () => void, verb: string, message: string): never {
  throw failed(progress, publish, `the pyramid could not be ${verb}: ${message}`);
}
