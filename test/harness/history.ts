import { Client, Connection } from '@temporalio/client';

/** Worker identities that started the job's batch activities, across all its runs. */
export async function batchWorkers(address: string, jobId: string): Promise<Map<string, number>> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const identities = new Map<string, number>();
    let runId: string | undefined;
    for (;;) {
      const history = await client.workflow.getHandle(jobId, runId).fetchHistory();
      const scheduled = new Map<string, string>();
      let nextRun: string | undefined;
      for (const e of history.events ?? []) {
        const a = e.activityTaskScheduledEventAttributes;
        if (a) scheduled.set(String(e.eventId), a.activityType?.name ?? '');
        const s = e.activityTaskStartedEventAttributes;
        if (s && scheduled.get(String(s.scheduledEventId)) === 'ingestBatch') {
          identities.set(s.identity ?? '', (identities.get(s.identity ?? '') ?? 0) + 1);
        }
        nextRun = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? nextRun;
      }
      if (!nextRun) return identities;
      runId = nextRun;
    }
  } finally {
    await connection.close();
  }
}
