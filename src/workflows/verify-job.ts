/**
 * The verify job: the ingest's engine over the same chunks, each compared with the destination
 * instead of written; then a zarr volume's pyramid, each level against the level below. Deterministic: imports only @temporalio/workflow and pure modules.
 */
import type { JobConfig } from '../config/types.js';
import type { JobResult } from '../job/types.js';
import { checkPyramidStage } from './pyramid.js';
import { batchActivities, planActivities, runJob, type IngestJobInput, type JobKind } from './ingest-job.js';

/** A verify compares every chunk: differing chunks do not stop it early as failing chunks stop an ingest. */
function verifyConfig(config: JobConfig): JobConfig {
  return { ...config, engine: { ...config.engine, max_failed_fraction: 1 } };
}

const VERIFY: JobKind = {
  plan: (config) => planActivities().prepareJob(config, 'verify'),
  batch: batchActivities.verifyBatch,
  writes: false,
  levels: (plan, carry, progress, failures, settings, publish) =>
    checkPyramidStage(plan.job, carry, progress, failures, settings, publish),
};

export function verifyJob(...[config, carry]: IngestJobInput): Promise<JobResult> {
  return runJob(VERIFY, verifyConfig(config), carry);
}
