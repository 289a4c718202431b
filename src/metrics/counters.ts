/**
 * boss-ingest's own Prometheus counters. Chunks are written on the chunk threads and Boss requests
 * made on both the threads and the main thread, so the counts live in one SharedArrayBuffer: the
 * main thread creates it, hands it to the chunk threads in their workerData, and every thread adds
 * to it atomically. The /metrics endpoint on the main thread reads it without messages or delays.
 */
import { isMainThread, workerData } from 'node:worker_threads';

interface CounterSpec {
  help: string;
  /** One label with a fixed set of values, so that every series has a slot in the buffer. */
  label?: { name: string; values: readonly string[] };
}

/** Boss HTTP statuses counted one by one; any other lands in `other`, no answer in `error`. */
const BOSS_STATUSES = [
  '200',
  '201',
  '204',
  '400',
  '401',
  '403',
  '404',
  '409',
  '429',
  '500',
  '502',
  '503',
  '504',
];

export const COUNTERS = {
  boss_ingest_chunks_written_total: {
    help: 'Chunks written to the destination (rewrites of a retried batch included).',
  },
  boss_ingest_chunks_failed_total: { help: 'Chunks given up on: recorded as failures of the job.' },
  boss_ingest_source_bytes_read_total: { help: 'Bytes of source tiles read.' },
  boss_ingest_destination_bytes_written_total: { help: 'Bytes written to the destination (encoded chunks).' },
  boss_ingest_tiles_decoded_total: { help: 'Source tiles decoded.' },
  boss_ingest_slices_decoded_total: {
    help: 'Z-index slices decoded (or streamed) whole, each once per job when batches cover whole z-slabs.',
  },
  boss_ingest_boss_requests_total: {
    help: 'HTTP requests to the Boss, by response status.',
    label: { name: 'status', values: [...BOSS_STATUSES, 'other', 'error'] },
  },
  boss_ingest_boss_retries_total: { help: 'Boss requests retried after a transient failure.' },
  boss_ingest_batch_resumes_total: {
    help: 'Batches resumed from a heartbeat checkpoint of an earlier attempt.',
  },
} satisfies Record<string, CounterSpec>;

export type CounterName = keyof typeof COUNTERS;

/** Each counter's first slot; a labelled counter has one slot per label value. */
const SLOTS = new Map<CounterName, number>();
let size = 0;
for (const [name, spec] of Object.entries(COUNTERS) as [CounterName, CounterSpec][]) {
  SLOTS.set(name, size);
  size += spec.label?.values.length ?? 1;
}

const WORKER_DATA_KEY = 'bossIngestMetrics';

function sharedCounts(): BigInt64Array {
  const given = (workerData as Record<string, unknown> | null)?.[WORKER_DATA_KEY];
  // A thread started without the buffer (not one of our pools) counts into its own, unread.
  if (!isMainThread && given instanceof SharedArrayBuffer) return new BigInt64Array(given);
  return new BigInt64Array(new SharedArrayBuffer(size * 8));
}

const counts = sharedCounts();

/** Add to `workerData` of a thread pool so that its threads count into this process's counters. */
export function metricsWorkerData(): Record<string, SharedArrayBuffer> {
  return { [WORKER_DATA_KEY]: counts.buffer as SharedArrayBuffer };
}

function slot(name: CounterName, labelValue?: string): number {
  const spec: CounterSpec = COUNTERS[name];
  const base = SLOTS.get(name)!;
  if (!spec.label) return base;
  const values = spec.label.values;
  const i = values.indexOf(labelValue ?? 'other');
  return base + (i >= 0 ? i : values.indexOf('other'));
}

/** Adds `by` (a whole number) to a counter, from any thread. */
export function count(name: CounterName, by = 1, labelValue?: string): void {
  if (by > 0) Atomics.add(counts, slot(name, labelValue), BigInt(Math.round(by)));
}

/** The Boss request counter's label for an HTTP status, or for a request that got no answer. */
export function countBossRequest(status: number | undefined): void {
  count('boss_ingest_boss_requests_total', 1, status === undefined ? 'error' : String(status));
}

/** The counters in Prometheus' text exposition format. */
export function renderCounters(): string {
  const lines: string[] = [];
  for (const [name, spec] of Object.entries(COUNTERS) as [CounterName, CounterSpec][]) {
    lines.push(`# HELP ${name} ${spec.help}`, `# TYPE ${name} counter`);
    const at = (i: number) => Atomics.load(counts, SLOTS.get(name)! + i).toString();
    if (!spec.label) lines.push(`${name} ${at(0)}`);
    else spec.label.values.forEach((v, i) => lines.push(`${name}{${spec.label!.name}="${v}"} ${at(i)}`));
  }
  return `${lines.join('\n')}\n`;
}
