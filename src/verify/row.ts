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
import type { LentSamples } from '../destinations/types.js';
import { boxVoxels } from '../extent/box.js';
import type { ChunkFailure, JobSpec } from '../job/types.js';
import { describeChunk, firstDifference, formatDifference } from './compare.js';

export async function verifyRow(job: JobSpec, first: number, end: number): Promise<RowResult> {
  const destination = await openDestination(job.destination);
  const result: RowResult = { written: 0, skipped: 0, voxels: 0, failures: [] };
  // Comparing each tile where it lies in the stored chunk spared assembling a chunk, while that
  // cost a copy of every tile; decoded in place, a chunk costs what its tiles' decoding does.
  const { chunks, failed } = await assembleRow(job, first, end);
  const findings = await Promise.all(
    chunks.map((c) => (failed.has(c.index) ? undefined : verifyChunk(job, destination, c))),
  );
  for (const [i, c] of chunks.entries()) {
    if (failed.has(c.index)) continue;
    const failure = findings[i];
    if (failure) failed.set(c.index, failure);
    else {
      result.written++;
      result.voxels += boxVoxels(c.box);
    }
  }
  releaseRow(chunks);
  result.failures = [...failed.values()].sort((a, b) => a.chunk - b.chunk);
  return result;
}

/** A stored chunk's samples (lent: see Destination.readLent), undefined when it was never stored, or why it cannot be read. */
async function readStored(
  destination: OpenDestination,
  chunk: Pick<RowChunk, 'index' | 'box'>,
): Promise<{ stored: LentSamples | undefined } | { failure: ChunkFailure }> {
  try {
    return { stored: await destination.readLent(chunk.box) };
  } catch (err) {
    // A Boss's answer decides for the whole job (retry, or a token that cannot read); a stored
    // chunk that cannot be decoded is this chunk's finding.
    if (err instanceof BossError) throw err;
    const reason = `${describeChunk(chunk.box)}: cannot be read: ${(err as Error).message}`;
    return { failure: { chunk: chunk.index, reason } };
  }
}

/** The chunk's difference or read failure, or undefined when it is stored as the source gives it. */
async function verifyChunk(
  job: JobSpec,
  destination: OpenDestination,
  chunk: RowChunk,
): Promise<ChunkFailure | undefined> {
  const got = await readStored(destination, chunk);
  if ('failure' in got) return got.failure;
  let difference;
  try {
    difference = firstDifference(
      chunk.box,
      job.grid.chunk,
      job.destination.datatype,
      chunk.samples,
      got.stored?.samples,
    );
  } finally {
    got.stored?.release();
  }
  if (!difference) return undefined;
  return {
    chunk: chunk.index,
    reason: `${describeChunk(chunk.box)}: ${formatDifference(difference)}`,
    difference,
  };
}
