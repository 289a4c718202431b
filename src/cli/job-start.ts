/** What starts a job, free of the Temporal SDK: a command that follows its job through the local service loads none of it. */
import type { JobConfig } from '../config/types.js';

/** An ingest writes the config's chunks; a verify compares them with what the destination holds. */
export type JobKindName = 'ingest' | 'verify';

/**
 * What starts a job, as data: a command hands it to its own client, or to the local service
 * (src/service), which starts and follows the job for a command that loads no Temporal client.
 */
export interface JobStart {
  /** By name: the workflow code itself is the worker's to load, not this process's. */
  workflowType: 'ingestJob' | 'verifyJob' | 'pyramidJob';
  workflowId: string;
  taskQueue: string;
  args: unknown[];
  /**
   * A finished ingest is not started again (its result is shown); one that failed or was
   * cancelled may be. A verify or a pyramid only reads what is there, so it may run again.
   */
  reuse: 'ALLOW_DUPLICATE' | 'ALLOW_DUPLICATE_FAILED_ONLY';
  staticSummary: string;
  staticDetails: string;
}

/** An ingest or verify job of the config. */
export function jobStart(
  config: JobConfig,
  jobId: string,
  taskQueue: string,
  kind: JobKindName = 'ingest',
): JobStart {
  const { collection, experiment, channel } = config.database;
  return {
    workflowType: kind === 'verify' ? 'verifyJob' : 'ingestJob',
    workflowId: jobId,
    taskQueue,
    args: [config],
    reuse: kind === 'verify' ? 'ALLOW_DUPLICATE' : 'ALLOW_DUPLICATE_FAILED_ONLY',
    staticSummary: `boss-ingest ${kind === 'verify' ? 'verify ' : ''}${collection}/${experiment}/${channel}`,
    staticDetails:
      `source: ${config.client.path_processor.class} ${JSON.stringify(config.client.path_processor.params ?? {})}\n` +
      `destination: ${JSON.stringify(config.client.backend)}\n` +
      `extent: ${JSON.stringify(config.ingest_job.extent)}`,
  };
}
