/** What a job's activities and workflow exchange: small, serialisable, never pixels. */
import type { JobConfig } from '../config/types.js';
import type { DestinationSpec } from '../destinations/index.js';
import type { Grid } from '../extent/grid.js';
import type { PyramidJob } from '../pyramid/job.js';
import type { VoxelDifference } from '../verify/compare.js';

/** Everything a worker needs to process any chunk of the job. */
export interface JobSpec {
  config: JobConfig;
  grid: Grid;
  destination: DestinationSpec;
}

export interface JobPlan {
  job: JobSpec;
  totalChunks: number;
  /**
   * Batches start and end on multiples of this many chunks: a z-slab, when the source's files are
   * whole z slices, so that each file is read by one batch. Absent in plans made before it existed.
   */
  batchAlign?: number;
  /**
   * Chunks a batch holds unless the config's engine says: BATCH_BYTES of this job's chunks (see
   * defaultChunksPerBatch). In the plan, so that a run replays with the size it started with;
   * absent in plans made before it existed, whose batches hold 32 chunks.
   */
  chunksPerBatch?: number;
  totalVoxels: number;
  source: string;
  destination: string;
  extent: string;
}

export interface ChunkFailure {
  /** The chunk's index in its level's grid: the job's grid at level 0. */
  chunk: number;
  /** Verify: the pyramid level (1..top) of a chunk that differs; absent for level 0. */
  level?: number;
  file?: string;
  reason: string;
  /** Verify: the chunk as stored differs from the source, first at this voxel. */
  difference?: VoxelDifference;
}

export interface BatchInput {
  job: JobSpec;
  /** Chunks [first, end). */
  first: number;
  end: number;
  /**
   * The job's pyramid, its arrays open: once its chunks are written, the batch builds the level-1
   * chunks that only its chunks feed (see levelOneWithin).
   */
  pyramid?: PyramidJob;
}

export interface BatchResult {
  written: number;
  /** Chunks the destination chose not to store (all zeros, with skip_zero_chunks). */
  skipped: number;
  failed: number;
  voxels: number;
  /** Chunk writes repeated because an earlier attempt of this batch was interrupted. */
  rewritten: number;
  failures: ChunkFailure[];
  /** The batch stopped early because the job was cancelled; the counts cover what it wrote. */
  cancelled?: boolean;
  /** Pyramid chunks the batch built as it went (see levelOneWithin, buildEarly): their levels' batches need not run. */
  built?: LevelRange[];
}

/** Chunks [first, end) of pyramid level `level`'s grid. */
export interface LevelRange {
  level: number;
  first: number;
  end: number;
}

/** `downsampling`: every chunk is written and the Boss or the workers are building the lower resolutions. */
export type JobState =
  'running' | 'downsampling' | 'completed' | 'completed_with_errors' | 'cancelled' | 'failed';

export interface Progress {
  jobId: string;
  state: JobState;
  totalChunks: number;
  /** Chunks written. */
  doneChunks: number;
  /** Chunks the destination skipped (all zeros, with skip_zero_chunks): done, but not written. */
  skippedChunks: number;
  /** Chunks that could not be written (bad tiles); listed in `failures`. */
  failedChunks: number;
  /** Voxels of the chunks written (skipped chunks not included). */
  voxelsWritten: number;
  totalVoxels: number;
  rewrittenChunks: number;
  startedAt: string;
  updatedAt: string;
  /** Voxels per second since the job started. */
  rate: number;
  etaSeconds: number | null;
  source: string;
  destination: string;
  extent: string;
  cancelReason?: string;
  error?: string;
  /** The Boss's downsample status (NOT_DOWNSAMPLED, IN_PROGRESS, DOWNSAMPLED), when the job asked for one. */
  downsample?: string;
  /**
   * The pyramid's levels 1..top (zarr with multiscale): chunks built of those to build, or for a
   * verify, chunks checked of those to check.
   */
  pyramid?: LevelProgress[];
  /** Workflow runs so far (the job continues as new to keep its history small). */
  run: number;
}

export interface LevelProgress {
  level: number;
  done: number;
  total: number;
  /** Verify: chunks of the level that differ from the pyramid of the level below (or cannot be read). */
  failed?: number;
}

export interface JobResult extends Progress {
  failures: ChunkFailure[];
}

export const MAX_LISTED_FAILURES = 100;
