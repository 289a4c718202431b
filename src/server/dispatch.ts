/**
 * Dynamic config every Temporal server of ours runs with: the embedded dev server, the cluster,
 * and docker-compose.yml (temporal/dynamicconfig.yaml, checked against this by
 * test/compose.test.ts).
 *
 * One partition per task queue. With the server's default of four, a batch scheduled while every
 * worker slot is busy waits in one partition until a poll happens to land there: on the bench
 * stack, 0.2-1.2 s with both worker slots idle and batches queued, in most jobs, against none with
 * one partition (2.25 s plain ingest went to 1.85 s). A partition matches about a thousand tasks a
 * second; a job launches a few batches a second (README, "A petabyte on paper").
 */
export const DISPATCH_CONFIG: Readonly<Record<string, number>> = {
  'matching.numTaskqueueReadPartitions': 1,
  'matching.numTaskqueueWritePartitions': 1,
};

/** The same, as `temporal server start-dev` flags. */
export const DISPATCH_FLAGS: readonly string[] = Object.entries(DISPATCH_CONFIG).flatMap(([key, value]) => [
  '--dynamic-config-value',
  `${key}=${value}`,
]);
