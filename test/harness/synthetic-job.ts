/**
 * A job over the synthetic source, as the durability tests submit it, and a user's checks of its
 * end: the volume read back with zarr-python equals the source voxel for voxel, and
 * `boss-ingest status --json` counts every chunk once.
 */
import { strict as assert } from 'node:assert';
import type { JobConfig } from '../../src/config/types.js';
import type { JobResult } from '../../src/job/types.js';
import { syntheticVoxel } from '../../src/plugins/synthetic.js';
import { batchesPerWorker } from '../../src/worker/worker.js';
import { FLAKY_TILES_CLASS } from '../doubles/flaky-tiles.js';
import { syntheticConfig as harnessConfig } from './config.js';
import { assertVolume, readWithZarrPython } from './env.js';

/** Chunk threads per worker process (BOSS_INGEST_THREADS), fixed so bounds do not depend on the machine. */
export const THREADS = 2;
/** Batch activities one worker process runs at once. */
export const BATCHES_PER_WORKER = batchesPerWorker(THREADS);

type Range = [number, number];
export interface Extent {
  x: Range;
  y: Range;
  z: Range;
}

export interface SyntheticJob {
  out: string;
  extent: Extent;
  tile: { x: number; y: number };
  chunk: { x: number; y: number; z: number };
  bits: 8 | 16;
  delayMs: number;
  engine: { chunks_per_batch: number; window?: number; batches_per_run?: number };
  flaky?: { tiles: number[][]; markerDir: string };
}

/** The harness's one synthetic config; a flaky job reads its tiles through the test-only flaky plugin. */
export function syntheticConfig(job: SyntheticJob): JobConfig {
  return harnessConfig({
    ...job,
    ...(job.flaky
      ? {
          tileClass: FLAKY_TILES_CLASS,
          tileParams: { flaky_tiles: job.flaky.tiles, flaky_marker_dir: job.flaky.markerDir },
        }
      : {}),
  });
}

export function chunkTotal(job: SyntheticJob): number {
  const n = (r: Range, size: number) => Math.ceil(r[1] / size) - Math.floor(r[0] / size);
  return n(job.extent.x, job.chunk.x) * n(job.extent.y, job.chunk.y) * n(job.extent.z, job.chunk.z);
}

export function voxelTotal(e: Extent): number {
  return (e.x[1] - e.x[0]) * (e.y[1] - e.y[0]) * (e.z[1] - e.z[0]);
}

export async function assertSameAsSource(job: SyntheticJob): Promise<void> {
  const read = await readWithZarrPython(job.out);
  assert.deepEqual(read.shape, [job.extent.z[1], job.extent.y[1], job.extent.x[1]]);
  assert.equal(read.dtype, job.bits === 16 ? 'uint16' : 'uint8');
  assertVolume(read, job.extent, (x, y, z) => syntheticVoxel(job.bits, x, y, z, 0));
}

export interface Status {
  status: string;
  progress: JobResult;
}

/** A user's checks of a finished job that ran cleanly: every chunk written once, nothing failed. */
export function assertCompleted(status: Status, job: SyntheticJob): void {
  const p = status.progress;
  assert.equal(status.status, 'COMPLETED', JSON.stringify(status));
  assert.equal(p.state, 'completed', JSON.stringify(p));
  assert.equal(p.totalChunks, chunkTotal(job));
  assert.equal(p.failedChunks, 0, JSON.stringify(p.failures));
  assert.equal(
    p.doneChunks,
    p.totalChunks,
    `doneChunks ${p.doneChunks} of ${p.totalChunks} (rewrittenChunks ${p.rewrittenChunks}): every chunk is counted exactly once`,
  );
  assert.equal(p.voxelsWritten, voxelTotal(job.extent), 'voxelsWritten is the extent, counted once');
  assert.equal(p.totalVoxels, voxelTotal(job.extent));
}
