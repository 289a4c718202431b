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
import { progressLine } from '../job/progress.js';
import type { JobResult } from '../job/types.js';
import type * as workflows from '../workflows/index.js';
import { progressQuery } from '../workflows/messages.js';
import { EXIT } from './exit.js';
import type { JobStart } from './job-start.js';
import { progressView, type Outcome, type ProgressView } from './progress-view.js';

/** How long a command keeps waiting for an unreachable server before giving up. */
const SERVER_PATIENCE_MS = 10 * 60_000;

export async function connectClient(address: string, namespace: string): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
}

export type JobHandle = WorkflowHandle<typeof workflows.ingestJob>;

/** Starts the job, or attaches to the running job with its id. */
export async function startJob(client: Client, start: JobStart): Promise<JobHandle> {
  try {
    return await client.workflow.start<typeof workflows.ingestJob>(start.workflowType, {
      workflowId: start.workflowId,
      taskQueue: start.taskQueue,
      args: start.args as Parameters<typeof workflows.ingestJob>,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: start.reuse,
      staticSummary: start.staticSummary,
      staticDetails: start.staticDetails,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return client.workflow.getHandle(start.workflowId);
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

export type { Outcome } from './progress-view.js';

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
export async function followJob(handle: JobHandle, view: ProgressView = progressView()): Promise<Outcome> {
  const poll = setInterval(async () => {
    const p = await queryProgress(handle);
    if (p) view.update(p);
  }, 1000);
  try {
    return await jobOutcome(handle);
  } finally {
    clearInterval(poll);
    view.stop();
  }
}
