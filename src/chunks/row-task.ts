/**
 * Entry point of a chunk thread. Errors cross the thread boundary as data, because structured
 * cloning drops an Error's class and code, which decide whether a retry can help.
 */
import sharp from 'sharp';
import { BossError } from '../boss/api.js';
import { MissingTokenError } from '../boss/token.js';
import { ConfigError } from '../config/validate.js';
import { VolumeError } from '../destinations/index.js';
import type { JobSpec } from '../job/types.js';
import { PluginParamError } from '../plugins/types.js';
import { isTransient } from '../tiles/tile.js';
import { ingestRow, type RowResult } from './row.js';

// The pool runs one row per thread; libvips threads inside each decode would only compete.
sharp.concurrency(1);
sharp.cache(false);

export interface RowTask {
  job: JobSpec;
  first: number;
  end: number;
}

/** `job`: retrying cannot help (bad config, unusable destination); `retry`: anything else. */
export type RowOutcome =
  { ok: RowResult } | { error: { kind: 'job' | 'retry'; message: string; transient: boolean } };

export default async function runRowTask(task: RowTask): Promise<RowOutcome> {
  try {
    return { ok: await ingestRow(task.job, task.first, task.end) };
  } catch (err) {
    const fatal =
      err instanceof PluginParamError ||
      err instanceof VolumeError ||
      err instanceof ConfigError ||
      err instanceof MissingTokenError ||
      (err instanceof BossError && err.endsJob);
    const kind = fatal ? 'job' : 'retry';
    return { error: { kind, message: (err as Error).message ?? String(err), transient: isTransient(err) } };
  }
}
