/** Progress bookkeeping of a job, shared by the workflow (pure, deterministic) and the CLI. */
import type { BatchResult, ChunkFailure, JobPlan, JobResult, Progress } from './types.js';
import { MAX_LISTED_FAILURES } from './types.js';

/** A job before its plan is known: nothing to do yet, nothing done. */
export function initialProgress(jobId: string, now: Date): Progress {
  return {
    jobId,
    state: 'running',
    totalChunks: 0,
    doneChunks: 0,
    skippedChunks: 0,
    failedChunks: 0,
    voxelsWritten: 0,
    totalVoxels: 0,
    rewrittenChunks: 0,
    startedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    rate: 0,
    etaSeconds: null,
    source: '',
    destination: '',
    extent: '',
    run: 1,
  };
}

/** The plan's totals and descriptions, once it is known. */
export function recordPlan(progress: Progress, plan: JobPlan): void {
  progress.totalChunks = plan.totalChunks;
  progress.totalVoxels = plan.totalVoxels;
  progress.source = plan.source;
  progress.destination = plan.destination;
  progress.extent = plan.extent;
}

/** What a finished batch did: every chunk of it counted once, written or failed. */
export function recordBatch(
  progress: Progress,
  failures: ChunkFailure[],
  batch: BatchResult,
  now: Date,
): void {
  progress.doneChunks += batch.written;
  // Absent from the results and progress of workers and runs older than the field.
  progress.skippedChunks = (progress.skippedChunks ?? 0) + (batch.skipped ?? 0);
  progress.failedChunks += batch.failed;
  progress.voxelsWritten += batch.voxels;
  progress.rewrittenChunks += batch.rewritten;
  for (const f of batch.failures) listFailure(failures, f);
  refreshRates(progress, now);
}

/** A batch that failed after its retries: all its chunks [first, end) count as failed. */
export function recordBatchFailure(
  progress: Progress,
  failures: ChunkFailure[],
  first: number,
  end: number,
  message: string,
): void {
  progress.failedChunks += end - first;
  listFailure(failures, {
    chunk: first,
    reason: `chunks ${first}-${end - 1} failed after retries: ${message}`,
  });
}

/** Lists the failure while the list has room: the counts hold them all. */
export function listFailure(failures: ChunkFailure[], failure: ChunkFailure): void {
  if (failures.length < MAX_LISTED_FAILURES) failures.push(failure);
}

/** Refreshes the derived fields: rate and time left. */
export function refreshRates(progress: Progress, now: Date): void {
  progress.updatedAt = now.toISOString();
  const seconds = (now.getTime() - Date.parse(progress.startedAt)) / 1000;
  progress.rate = seconds > 0 ? progress.voxelsWritten / seconds : 0;
  const finished = finishedChunks(progress);
  progress.etaSeconds =
    finished > 0 && progress.state === 'running'
      ? Math.round((seconds * (progress.totalChunks - finished)) / finished)
      : null;
}

/** Chunks the job is done with: written, skipped or failed. */
export function finishedChunks(p: Progress): number {
  return p.doneChunks + (p.skippedChunks ?? 0) + p.failedChunks;
}

/** ", N skipped", shown only for a job that skipped chunks. */
function skippedText(p: Progress): string {
  return p.skippedChunks ? `, ${p.skippedChunks} skipped` : '';
}

export function finalState(progress: Progress, cancelled: boolean): Progress['state'] {
  if (cancelled) return 'cancelled';
  return progress.failedChunks + levelFailures(progress) > 0 ? 'completed_with_errors' : 'completed';
}

/** A verify's chunks of pyramid levels 1..top that differ or cannot be read. */
export function levelFailures(progress: Progress): number {
  return (progress.pyramid ?? []).reduce((n, l) => n + (l.failed ?? 0), 0);
}

export function formatCount(n: number): string {
  if (n >= 1e12) return `${(n / 1e12).toFixed(2)} T`;
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return `${Math.round(n)}`;
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Each pyramid level's chunks: "level 1 4/4, level 2 0/1"; a verify's differing ones: "level 1 4/4 (1 differ)". */
export function pyramidText(p: Progress): string {
  return (p.pyramid ?? [])
    .map((l) => `level ${l.level} ${l.done}/${l.total}${l.failed ? ` (${l.failed} differ)` : ''}`)
    .join(', ');
}

/** One line for logs and non-terminal output. */
export function progressLine(p: Progress): string {
  const finished = finishedChunks(p);
  const pct = p.totalChunks > 0 ? ((100 * finished) / p.totalChunks).toFixed(1) : '0.0';
  return (
    `${p.state}: ${finished}/${p.totalChunks} chunks (${pct}%), ${formatCount(p.voxelsWritten)} voxels, ` +
    `${formatCount(p.rate)} voxels/s, ${p.failedChunks} failed${skippedText(p)}, ` +
    (p.downsample ? `downsample ${p.downsample}, ` : '') +
    (p.pyramid ? `pyramid ${pyramidText(p)}, ` : '') +
    (p.state === 'running'
      ? `ETA ${formatDuration(p.etaSeconds)}`
      : `took ${formatDuration((Date.parse(p.updatedAt) - Date.parse(p.startedAt)) / 1000)}`)
  );
}

/** The job's "Current Details" in the Temporal Web UI. */
export function progressMarkdown(p: Progress, failures: ChunkFailure[]): string {
  const finished = finishedChunks(p);
  const lines = [
    `### boss-ingest job \`${p.jobId}\`: ${p.state}`,
    '',
    `| | |`,
    `|---|---|`,
    `| chunks | ${finished} of ${p.totalChunks} (${p.doneChunks} written, ${p.failedChunks} failed${skippedText(p)}) |`,
    `| voxels | ${formatCount(p.voxelsWritten)} of ${formatCount(p.totalVoxels)} |`,
    `| rate | ${formatCount(p.rate)} voxels/s |`,
    `| ETA | ${formatDuration(p.etaSeconds)} |`,
    `| started | ${p.startedAt} (run ${p.run}) |`,
    `| source | ${p.source} |`,
    `| destination | ${p.destination} |`,
    `| extent | ${p.extent} |`,
  ];
  if (p.downsample) lines.push(`| downsample | ${p.downsample} |`);
  if (p.pyramid) lines.push(`| pyramid | ${pyramidText(p)} (chunks done per level) |`);
  if (failures.length > 0) {
    lines.push(
      '',
      `**Failures** (first ${Math.min(failures.length, 10)} of ${p.failedChunks + levelFailures(p)}):`,
      '',
    );
    for (const f of failures.slice(0, 10))
      lines.push(`- ${failureName(f)}: ${f.file ? `\`${f.file}\`: ` : ''}${f.reason}`);
  }
  return lines.join('\n');
}

/** "chunk 4" at level 0, "level 1 chunk 4" at a pyramid level. */
export function failureName(f: ChunkFailure): string {
  return f.level ? `level ${f.level} chunk ${f.chunk}` : `chunk ${f.chunk}`;
}

export function toResult(progress: Progress, failures: ChunkFailure[]): JobResult {
  // Batches (and a verify's levels, checked side by side) finish in any order: list by level, then chunk.
  const ordered = [...failures].sort((a, b) => (a.level ?? 0) - (b.level ?? 0) || a.chunk - b.chunk);
  return { ...progress, failures: ordered };
}
