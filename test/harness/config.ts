/** Job configs for tests: one builder for the generated (synthetic) source, and writing configs to disk. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EngineSection, JobConfig, Range } from '../../src/config/types.js';

export interface SyntheticJob {
  /** The OME-Zarr volume written. */
  out: string;
  extent: { x: Range; y: Range; z: Range };
  tile: { x: number; y: number };
  chunk: { x: number; y: number; z: number };
  bits?: 8 | 16;
  /** Per tile read. */
  delayMs?: number;
  engine?: EngineSection;
  /** Replaces the synthetic tile processor (e.g. the test-only flaky one), keeping its params. */
  tileClass?: string;
  /** More tile processor params. */
  tileParams?: Record<string, unknown>;
}

/** A v0.2 config of a synthetic source written to a local Zarr volume. */
export function syntheticConfig(job: SyntheticJob): JobConfig {
  return {
    schema: { name: 'boss-v0.2-schema', validator: 'BossValidatorV02' },
    client: {
      backend: { name: 'zarr', path: job.out, chunk_size: job.chunk },
      path_processor: { class: 'boss_ingest.plugins.synthetic.SyntheticPathProcessor' },
      tile_processor: {
        class: job.tileClass ?? 'boss_ingest.plugins.synthetic.SyntheticTileProcessor',
        params: { bits: job.bits ?? 8, delay_ms: job.delayMs ?? 0, ...job.tileParams },
      },
    },
    database: { collection: 'test', experiment: 'e', channel: 'ch' },
    ingest_job: {
      resolution: 0,
      ingest_type: 'tile',
      extent: { ...job.extent, t: [0, 1] },
      tile_size: { x: job.tile.x, y: job.tile.y, z: 1, t: 1 },
    },
    ...(job.engine ? { engine: job.engine } : {}),
  };
}

/** Writes `config` as `<dir>/<name>.json` and returns the file. */
export function writeConfig(dir: string, name: string, config: object): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * A v0.2 volumetric config (a chunk processor) into a local Zarr volume with chunks of 16x16x8
 * unless `backend` says otherwise.
 */
export function volumetricConfig(
  chunkProcessor: object,
  extent: { x: Range; y: Range; z: Range },
  out: string,
  pathClass: string,
  backend: Record<string, unknown> = {},
): object {
  return {
    schema: { name: 'boss-v0.2-schema', validator: 'BossValidatorV02' },
    client: {
      backend: { name: 'zarr', path: out, chunk_size: { x: 16, y: 16, z: 8 }, ...backend },
      path_processor: { class: pathClass, params: {} },
      chunk_processor: chunkProcessor,
    },
    database: { collection: 'c', experiment: 'e', channel: 'ch' },
    ingest_job: {
      ingest_type: 'volumetric',
      resolution: 0,
      extent: { ...extent, t: [0, 1] },
      chunk_size: { x: 512, y: 512, z: 16 },
    },
  };
}
