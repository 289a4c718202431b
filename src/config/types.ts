/** The job configuration file of the original client (schemas boss-v0.1 and boss-v0.2), plus our optional fields. */

import type { SpaceUnit } from '../destinations/zarr-metadata.js';
import type { MultiscaleConfig } from '../pyramid/levels.js';
import type { VoxelSize } from '../pyramid/multiscales.js';

export type Range = [number, number];

export interface PluginConfig {
  class: string;
  params?: Record<string, unknown>;
}

export type Datatype = 'uint8' | 'uint16' | 'uint64';
export const DATATYPES: readonly Datatype[] = ['uint8', 'uint16', 'uint64'];

export type Compressor = 'none' | 'zstd' | 'blosc';
export const COMPRESSORS: readonly Compressor[] = ['none', 'zstd', 'blosc'];

export interface BossBackendConfig {
  name: 'boss';
  class?: string;
  host: string;
  protocol: 'http' | 'https';
  /** Ours: requests per second to this Boss across all workers. */
  rate_limit?: number;
  /**
   * Ours: skip all-zero chunks (like intern). Default true: the Boss never overwrites stored voxels
   * with 0, so writing them would only spend quota and time.
   */
  skip_zero_chunks?: boolean;
  /** Ours: after the last chunk, with no failures, run the Boss's downsample and wait for it. */
  downsample?: boolean;
}

/** Our local destination: an OME-Zarr 0.5 volume. */
export interface ZarrBackendConfig {
  name: 'zarr';
  path: string;
  /** Omitted: taken from the source's first tile. */
  datatype?: Datatype;
  compressor?: Compressor;
  /** Chunk shape in (z, y, x); defaults to the Boss cuboid (16, 512, 512). */
  chunk_size?: { x: number; y: number; z: number };
  /** A multiscale pyramid (arrays 1, 2, ...) above level 0; omitted fields take their defaults. */
  multiscale?: Partial<MultiscaleConfig>;
  /** Zarr v3 shards of this many voxels, a multiple of chunk_size on each axis. */
  shard_size?: { x: number; y: number; z: number };
  /** Level 0's physical voxel size, for the OME-Zarr coordinate transformations (1 otherwise). */
  voxel_size?: VoxelSize;
  voxel_unit?: SpaceUnit;
}

/** Writes nothing: for benchmarks and scale tests of the engine itself. */
export interface DiscardBackendConfig {
  name: 'discard';
  datatype?: Datatype;
  chunk_size?: { x: number; y: number; z: number };
}

export type BackendConfig = BossBackendConfig | ZarrBackendConfig | DiscardBackendConfig;

export interface IngestJobSection {
  resolution: number;
  ingest_type?: 'tile' | 'volumetric';
  extent: { x: Range; y: Range; z: Range; t?: Range };
  tile_size?: { x: number; y: number; z?: number; t?: number };
  chunk_size?: { x: number; y: number; z: number };
}

/** Our own tuning knobs; every field is optional. */
export interface EngineSection {
  /** Chunks per activity (batch). */
  chunks_per_batch?: number;
  /** Batches in flight per job. */
  window?: number;
  /** Batches per workflow run before continue-as-new. */
  batches_per_run?: number;
  /** Stop the job once more than this fraction of its processed chunks failed; 1 never stops (sparse stacks). */
  max_failed_fraction?: number;
  /** ...judged once this many chunks were processed. */
  failure_check_after?: number;
}

export interface JobConfig {
  schema: { name: string; validator: string };
  client: {
    backend: BackendConfig;
    path_processor: PluginConfig;
    tile_processor?: PluginConfig;
    chunk_processor?: PluginConfig;
  };
  database: { collection: string; experiment: string; channel: string };
  ingest_job: IngestJobSection;
  engine?: EngineSection;
}
