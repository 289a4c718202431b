/** Entry point of a pyramid thread: builds one chunk of a level from the stored chunks under it. */
import { threadError } from '../chunks/row-task.js';
import { buildPyramidChunk, type PyramidJob } from './build.js';

export interface PyramidChunkTask {
  job: PyramidJob;
  level: number;
  /** The chunk's index in the level's grid (see levelGrid). */
  index: number;
}

export type PyramidChunkOutcome = { ok: true } | ReturnType<typeof threadError>;

export default async function runPyramidChunk(task: PyramidChunkTask): Promise<PyramidChunkOutcome> {
  try {
    await buildPyramidChunk(task.job, task.level, task.index);
    return { ok: true };
  } catch (err) {
    return threadError(err);
  }
}
