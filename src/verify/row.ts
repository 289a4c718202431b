/**
 * Verifies one row of chunks: assembles them from the source as the ingest does (tiles decoded
 * straight into the chunks where they lie inside them, see TilePlace), reads each as stored, and
 * compares them whole, reporting a chunk's first differing voxel in z, y, x order. Runs inside a
 * chunk thread (see verify-task.ts). Counted like the ingest's rows, so the engine's batches,
 * checkpoints and progress serve verify unchanged: `written` counts the chunks found equal,
 * `failures` the ones that differ or could not be read.
 */
import { BossError } from '../errors.js';
import { assembleRow, releaseRow, type RowChunk, type RowResult } from '../chunks/row.js';
import { openDestination, type OpenDestination } from '../destinations/index.js';
import { boxVoxels } from '../extent/box.js';
import type { ChunkFailure, JobSpec } from '../job/types.js';
import { describeChunk, firstDifference, formatDifference } from './compare.js';

export async function verifyRow(job: JobSpec, first: number, end: number): Promise<RowResult> {
  const destination = await openDestination(job.destination);
  const { chunks, failed } = await assembleRow(job, first, end);
  const result: RowResult = { written: 0, skipped: 0, voxels: 0, failures: [] };
  await Promise.all(
    chunks
      .filter((c) => !failed.has(c.index))
      .map(async (c) => {
        const failure = await verifyChunk(job, destination, c);
        if (failure) failed.set(c.index, failure);
        else {
          result.written++;
          result.voxels += boxVoxels(c.box);
        }
      }),
  );
  releaseRow(chunks);
  result.failures = [...failed.values()].sort((a, b) => a.chunk - b.chunk);
  return result;
}

/** The chunk's difference or read failure, or undefined when it is stored as the source gives it. */
async function verifyChunk(
  job: JobSpec,
  destination: OpenDestination,
  chunk: RowChunk,
): Promise<ChunkFailure | undefined> {
  const name = describeChunk(chunk.box);
  let stored;
  try {
    stored = await destination.readLent(chunk.box);
  } catch (err) {
    // A Boss's answer decides for the whole job (retry, or a token that cannot read); a stored
    // chunk that cannot be decoded is this chunk's finding.
    if (err instanceof BossError) throw err;
    return { chunk: chunk.index, reason: `${name}: cannot be read: ${(err as Error).message}` };
  }
  let difference;
  try {
    difference = firstDifference(
      chunk.box,
      job.grid.chunk,
      job.destination.datatype,
      chunk.samples,
      stored?.samples,
    );
  } finally {
    stored?.release();
  }
  if (!difference) return undefined;
  return { chunk: chunk.index, reason: `${name}: ${formatDifference(difference)}`, difference };
}
