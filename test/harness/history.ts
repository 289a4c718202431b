import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { ingestBatch } from '../../src/activities/ingest-batch.js';

type History = temporal.api.history.v1.IHistory;

/** Every run of a job, first to last: the latest run names the first, and each run the next. */
export async function jobHistories(client: Client, jobId: string): Promise<History[]> {
  const latest = await client.workflow.getHandle(jobId).fetchHistory();
  let runId: string | undefined =
    latest.events?.[0]?.workflowExecutionStartedEventAttributes?.firstExecutionRunId ?? undefined;
  const runs: History[] = [];
  while (runId) {
    const history = await client.workflow.getHandle(jobId, runId).fetchHistory();
    runs.push(history);
    const last = history.events?.[history.events.length - 1];
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

/** Worker identities that started the job's batch activities, across all its runs. */
export async function batchWorkers(address: string, jobId: string): Promise<Map<string, number>> {
  const connection = await Connection.connect({ address });
  try {
    const identities = new Map<string, number>();
    for (const history of await jobHistories(new Client({ connection }), jobId)) {
      const scheduled = new Map<string, string>();
      for (const e of history.events ?? []) {
        const a = e.activityTaskScheduledEventAttributes;
        if (a) scheduled.set(String(e.eventId), a.activityType?.name ?? '');
        const s = e.activityTaskStartedEventAttributes;
        if (s && scheduled.get(String(s.scheduledEventId)) === ingestBatch.name) {
          identities.set(s.identity ?? '', (identities.get(s.identity ?? '') ?? 0) + 1);
        }
      }
    }
    return identities;
  } finally {
    await connection.close();
  }
}
