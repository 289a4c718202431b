/**
 * The job's messages, typed: the workflow sets their handlers, the CLI and the tests send them
 * (`handle.query(progressQuery)`), so a renamed message breaks the build, not a running job.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { JobResult } from '../job/types.js';

/** Stops the job: no new batch starts, in-flight batches stop, what was written stays. Arg: the reason. */
export const cancelSignal = defineSignal<[string?]>('cancel');
/** The job's progress and the failures listed so far. */
export const progressQuery = defineQuery<JobResult>('progress');
