/**
 * Entry point of a pyramid thread: builds one chunk of a level from the stored chunks under it,
 * or for a verify, checks the stored chunk against the one the level below gives (never writes).
 */
import { threadError } from '../chunks/row-task.js';
import type { ChunkFailure } from '../job/types.js';
import { buildEarly, buildPyramidChunk } from './build.js';
import type { PyramidJob } from './job.js';
import { checkPyramidChunk } from './check.js';
import type { HeldParts } from './staging.js';

export interface PyramidChunkTask {
  job: PyramidJob;
  level: number;
  /** The chunk's index in the level's grid (see levelGrid). */
  index: number;
  /** Verify: compare instead of write. */
  check?: boolean;
  /** Built by the ingest batch that wrote every chunk under it, and the levels above as they can be (see buildEarly). */
  early?: boolean;
  /** Early: the chunk's samples as the batch wrote its inputs' parts into them (see PartStage.hold). */
  held?: HeldParts;
}

/** `failure`: a checked chunk that differs or cannot be read; `built`: an early build's chunks, as (level, index). */
export type PyramidChunkOutcome =
  | { ok: true; failure?: ChunkFailure; built?: [level: number, index: number][] }
  | ReturnType<typeof threadError>;

export default async function runPyramidChunk(task: PyramidChunkTask): Promise<PyramidChunkOutcome> {
  try {
    if (!task.check) {
      if (task.early)
        return { ok: true, built: await buildEarly(task.job, task.level, task.index, task.held) };
      await buildPyramidChunk(task.job, task.level, task.index);
      return { ok: true };
    }
    const failure = await checkPyramidChunk(task.job, task.level, task.index);
    return failure ? { ok: true, failure } : { ok: true };
  } catch (err) {
    return threadError(err);
  }
}
