/**
 * How a command shows a job it follows: a bar on a terminal, a line every few seconds otherwise.
 * Free of the Temporal SDK, so that a command following a job through the local service
 * (src/service) loads none of it.
 */
import cliProgress from 'cli-progress';
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
import type { JobKindName } from './job-start.js';

/** How a job ended, for the command's exit code and last lines. */
export interface Outcome {
  code: number;
  result?: JobResult;
  message: string;
}

export interface ProgressView {
  update(progress: JobResult): void;
  stop(): void;
}

export function progressView(): ProgressView {
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
  return {
    update(p) {
      if (p.totalChunks === 0 && !p.pyramid) return;
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
    },
    stop() {
      bar?.stop();
    },
  };
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
