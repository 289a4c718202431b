/**
 * Verifies one row of chunks: reads each as stored, then compares every tile of the source with
 * the part of the stored chunks it covers, where it lies in them, as the ingest would have copied
 * it there. Runs inside a chunk thread (see verify-task.ts). A chunk that differs (or was never
 * stored, or whose tiles are not samples of the stored width) is then assembled whole from the
 * source, as the ingest does, to report its first differing voxel in z, y, x order. Counted like
 * the ingest's rows, so the engine's batches, checkpoints and progress serve verify unchanged:
 * `written` counts the chunks found equal, `failures` the ones that differ or could not be read.
 */
import { Buffer } from 'node:buffer';
import { BossError } from '../errors.js';
import {
  assembleRow,
  fillFromTiles,
  sourceFor,
  tilePlacement,
  type Failures,
  type TilePlacement,
  type RowChunk,
  type RowResult,
} from '../chunks/row.js';
import { openDestination, type OpenDestination } from '../destinations/index.js';
import { boxVoxels, checkBuffers, sharedRuns } from '../extent/box.js';
import { chunkBox } from '../extent/grid.js';
import { indices } from '../extent/tiles.js';
import type { ChunkFailure, JobSpec } from '../job/types.js';
import { describeChunk, firstDifference, formatDifference } from './compare.js';

export async function verifyRow(job: JobSpec, first: number, end: number): Promise<RowResult> {
  const destination = await openDestination(job.destination);
  const failed: Failures = new Map();
  const result: RowResult = { written: 0, skipped: 0, voxels: 0, failures: [] };
  // Chunks to assemble whole from the source and compare as such, and those already read.
  const whole = new Set<number>();
  const read = new Map<number, Uint8Array | undefined>();
  if (job.config.ingest_job.ingest_type === 'volumetric') {
    for (const index of indices([first, end])) whole.add(index);
  } else {
    // The stored chunks stand where the ingest's chunk buffers stood: no chunk is assembled and no
    // tile copied for the chunks found equal, which most are.
    const stored: RowChunk[] = [];
    await Promise.all(
      indices([first, end]).map(async (index) => {
        const box = chunkBox(job.grid, index);
        const got = await readStored(destination, { index, box });
        if ('failure' in got) {
          failed.set(index, got.failure);
          return;
        }
        read.set(index, got.samples);
        if (got.samples) stored.push({ index, box, samples: got.samples });
        else whole.add(index); // never stored: the source decides whether zeros are right
      }),
    );
    stored.sort((a, b) => a.index - b.index);
    // Voxels found stored as the tiles give them, a chunk's tiles all told: a chunk whose box the
    // tiles do not cover whole is compared after assembly too, where the rest reads as zeros.
    const compared = new Map<number, number>();
    if (stored.length > 0)
      await fillFromTiles(job, await sourceFor(job.config), stored, failed, (tile, at, jobSpec, chunk) => {
        if (whole.has(chunk.index)) return;
        const voxels = tileStored(tilePlacement(tile, at, jobSpec, chunk), chunk);
        if (voxels < 0) whole.add(chunk.index);
        else compared.set(chunk.index, (compared.get(chunk.index) ?? 0) + voxels);
      });
    for (const c of stored) {
      if (failed.has(c.index) || whole.has(c.index)) continue;
      if (compared.get(c.index) !== boxVoxels(c.box)) {
        whole.add(c.index);
        continue;
      }
      result.written++;
      result.voxels += boxVoxels(c.box);
    }
  }
  // Consecutive chunks are assembled together, so each tile or source block is read once.
  for (const [from, to] of runsOf([...whole].filter((i) => !failed.has(i)).sort((a, b) => a - b))) {
    const { chunks, failed: failedHere } = await assembleRow(job, from, to);
    for (const [i, f] of failedHere) failed.set(i, f);
    for (const c of chunks.filter((c) => !failedHere.has(c.index))) {
      const failure = await verifyChunk(job, destination, c, read);
      if (failure) failed.set(c.index, failure);
      else {
        result.written++;
        result.voxels += boxVoxels(c.box);
      }
    }
  }
  result.failures = [...failed.values()].sort((a, b) => a.chunk - b.chunk);
  return result;
}

/**
 * The voxels of the chunk's box a tile covers when they are stored as the tile gives them, -1 when
 * they are not (or when the tile's samples are narrower than the stored ones: uint8 tiles into
 * uint16, compared after assembly).
 */
function tileStored(p: TilePlacement, chunk: RowChunk): number {
  if (p.tileBytesPerVoxel !== p.bytesPerVoxel) return -1;
  const b = p.bytesPerVoxel;
  checkBuffers(p.tile, p.tileBox, b, chunk.samples, p.chunkBox, b);
  let voxels = 0;
  sharedRuns(p.tileBox, p.chunkBox, chunk.box, (from, at, n) => {
    const tile = p.tile.subarray(from * b, (from + n) * b);
    if (Buffer.compare(tile, chunk.samples.subarray(at * b, (at + n) * b)) !== 0) voxels = -1;
    else voxels += n;
    return voxels >= 0;
  });
  return voxels;
}

/** A stored chunk's samples, undefined when it was never stored, or why it cannot be read. */
async function readStored(
  destination: OpenDestination,
  chunk: Pick<RowChunk, 'index' | 'box'>,
): Promise<{ samples: Uint8Array | undefined } | { failure: ChunkFailure }> {
  try {
    return { samples: await destination.read(chunk.box) };
  } catch (err) {
    // A Boss's answer decides for the whole job (retry, or a token that cannot read); a stored
    // chunk that cannot be decoded is this chunk's finding.
    if (err instanceof BossError) throw err;
    const reason = `${describeChunk(chunk.box)}: cannot be read: ${(err as Error).message}`;
    return { failure: { chunk: chunk.index, reason } };
  }
}

/** [first, end) ranges of consecutive indices, ascending. */
function runsOf(sorted: number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const i of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else runs.push([i, i + 1]);
  }
  return runs;
}

/**
 * The chunk's difference or read failure, or undefined when it is stored as the source gives it;
 * `read` holds the stored samples of chunks read already.
 */
async function verifyChunk(
  job: JobSpec,
  destination: OpenDestination,
  chunk: RowChunk,
  read: Map<number, Uint8Array | undefined>,
): Promise<ChunkFailure | undefined> {
  const got = read.has(chunk.index)
    ? { samples: read.get(chunk.index) }
    : await readStored(destination, chunk);
  if ('failure' in got) return got.failure;
  const difference = firstDifference(
    chunk.box,
    job.grid.chunk,
    job.destination.datatype,
    chunk.samples,
    got.samples,
  );
  if (!difference) return undefined;
  return {
    chunk: chunk.index,
    reason: `${describeChunk(chunk.box)}: ${formatDifference(difference)}`,
    difference,
  };
}
