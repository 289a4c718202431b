/** Submitting, attaching to, following and describing jobs from the command line. */
import {
  Client,
  ServiceError,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import cliProgress from 'cli-progress';
import type { JobConfig } from '../config/types.js';
import {
  failureName,
  finishedChunks,
  formatCount,
  formatDuration,
  levelFailures,
  progressLine,
  pyramidText,
} from '../job/progress.js';
import type { JobResult } from '../job/types.js';
import type * as workflows from '../workflows/index.js';
import { progressQuery } from '../workflows/messages.js';
import { EXIT } from './exit.js';

/** How long a command keeps waiting for an unreachable server before giving up. */
const SERVER_PATIENCE_MS = 10 * 60_000;

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
}

export type JobHandle = WorkflowHandle<typeof workflows.ingestJob>;

/** An ingest writes the config's chunks; a verify compares them with what the destination holds. */
export type JobKindName = 'ingest' | 'verify';

/**
 * Starts the job, or attaches to the running job with that id. An ingest that already completed
 * is not started again (its result is shown instead); one that failed or was cancelled may be. A
 * verify only reads, so a finished one with the id is verified again.
 */
export async function submitJob(
  client: Client,
  config: JobConfig,
  jobId: string,
  taskQueue: string,
  kind: JobKindName = 'ingest',
): Promise<JobHandle> {
  const { collection, experiment, channel } = config.database;
  try {
    // By name: the workflow code itself is the worker's to load, not this process's.
    const workflow = (kind === 'verify' ? 'verifyJob' : 'ingestJob') satisfies keyof typeof workflows;
    return await client.workflow.start<typeof workflows.ingestJob>(workflow, {
      workflowId: jobId,
      taskQueue,
      args: [config],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: kind === 'verify' ? 'ALLOW_DUPLICATE' : 'ALLOW_DUPLICATE_FAILED_ONLY',
      staticSummary: `boss-ingest ${kind === 'verify' ? 'verify ' : ''}${collection}/${experiment}/${channel}`,
      staticDetails:
        `source: ${config.client.path_processor.class} ${JSON.stringify(config.client.path_processor.params ?? {})}\n` +
        `destination: ${JSON.stringify(config.client.backend)}\n` +
        `extent: ${JSON.stringify(config.ingest_job.extent)}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(jobId);
    throw err;
  }
}

export async function queryProgress(handle: JobHandle): Promise<JobResult | undefined> {
  try {
    return await handle.query(progressQuery);
  } catch {
    return undefined;
  }
}

export interface Outcome {
  code: number;
  result?: JobResult;
  message: string;
}

/** Waits for the job's end; its result decides the exit code. */
export async function jobOutcome(handle: JobHandle): Promise<Outcome> {
  let unreachableSince: number | undefined;
  for (;;) {
    try {
      const result = await handle.result();
      const code =
        result.state === 'completed'
          ? EXIT.completed
          : result.state === 'cancelled'
            ? EXIT.cancelled
            : EXIT.errors;
      return {
        code,
        result,
        message: progressLine(result) + (result.cancelReason ? ` (${result.cancelReason})` : ''),
      };
    } catch (err) {
      if (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure) {
        const result = await queryProgress(handle);
        return {
          code: EXIT.cancelled,
          result,
          message: `cancelled: ${result?.cancelReason ?? err.cause.message}`,
        };
      }
      if (err instanceof WorkflowFailedError) {
        return { code: EXIT.errors, message: `failed: ${err.cause?.message ?? err.message}` };
      }
      // The server is unreachable (restarting, network): the job lives on in it, so keep waiting a while.
      if (!(err instanceof ServiceError)) throw err;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > SERVER_PATIENCE_MS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

/** Shows progress until the job ends: a bar on a terminal, a line every few seconds otherwise. */
export async function followJob(handle: JobHandle): Promise<Outcome> {
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format:
            ' {bar} {percentage}% | {value}/{total} chunks | {voxels} voxels | {rate} voxels/s | ETA {eta_text} | {failed} failed{pyramid}',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  let lastLine = 0;
  const poll = setInterval(async () => {
    const p = await queryProgress(handle);
    if (!p || (p.totalChunks === 0 && !p.pyramid)) return;
    // A pyramid-only job (downsample) counts its levels' chunks.
    const levels = p.totalChunks === 0 ? (p.pyramid ?? []) : [];
    const total = p.totalChunks + levels.reduce((n, l) => n + l.total, 0);
    const finished = finishedChunks(p) + levels.reduce((n, l) => n + l.done, 0);
    if (bar) {
      const payload = {
        voxels: formatCount(p.voxelsWritten),
        rate: formatCount(p.rate),
        eta_text: formatDuration(p.etaSeconds),
        failed: p.failedChunks,
        pyramid: p.pyramid ? ` | pyramid ${pyramidText(p)}` : '',
      };
      if (!started) bar.start(total, finished, payload);
      else bar.update(finished, payload);
      started = true;
    } else if (Date.now() - lastLine >= 5000) {
      lastLine = Date.now();
      console.log(progressLine(p));
    }
  }, 1000);
  try {
    return await jobOutcome(handle);
  } finally {
    clearInterval(poll);
    bar?.stop();
  }
}

export function printOutcome(jobId: string, outcome: Outcome, kind: JobKindName = 'ingest'): void {
  const verify = kind === 'verify';
  console.log(`${verify ? 'verify ' : ''}job ${jobId} ${outcome.message}`);
  const result = outcome.result;
  if (verify && result?.state === 'completed') {
    const levels = result.pyramid ?? [];
    const above = levels.reduce((n, l) => n + l.done, 0);
    console.log(
      `verified: all ${result.doneChunks} chunks as stored equal the source` +
        (levels.length > 0
          ? `, and the ${above} chunks of levels 1-${levels.length} equal the pyramid of the level below`
          : ''),
    );
  }
  const failures = result?.failures ?? [];
  if (failures.length > 0) {
    const inLevels = levelFailures(result!);
    const failed = result!.failedChunks + inLevels;
    const what = !verify
      ? 'failed'
      : inLevels > 0
        ? 'differ from the source or from the pyramid of the level below, or could not be read'
        : 'differ from the source or could not be read';
    console.log(`${failed} chunk(s) ${what}:`);
    for (const f of failures) console.log(`  ${failureName(f)}: ${f.file ? `${f.file}: ` : ''}${f.reason}`);
    const more = failed - failures.length;
    if (more > 0) console.log(`  ... and ${more} more not listed`);
  }
}
