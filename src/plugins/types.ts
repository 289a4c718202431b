/**
 * The source plugin interface, as in the original client: a path processor maps tile indices to a
 * file, a tile processor loads that file and returns the tile. Indices are tile indices (tile x
 * covers pixels [x * tile_size.x, (x + 1) * tile_size.x)), z the absolute slice, t the time point.
 */
import type { IngestJobSection } from '../config/types.js';
import type { Box } from '../extent/box.js';
import { tileBox } from '../extent/tiles.js';
import type { Tile, TilePlace } from '../tiles/tile.js';
import { PluginParamError } from '../errors.js';

/** A plugin's params from the config, plus the whole ingest_job section (plugins need the extent). */
export type PluginParams = Record<string, unknown> & { ingest_job: IngestJobSection };

/**
 * Maps tile indices to the file holding the tile. Plugins are set up once per job in each process
 * and thread that reads tiles, so `process` may be called many times, concurrently.
 */
export interface PathProcessor {
  /** Throw PluginParamError for params that are wrong: the job fails with its message. */
  setup(params: PluginParams): void | Promise<void>;
  process(x: number, y: number, z: number, t: number): string;
}

/**
 * Reads one tile: `tile_size` pixels, or at the right and bottom edges of the extent anything
 * from what the extent needs up to `tile_size`. Throw TileError for a missing or unusable file:
 * the chunks that need the tile fail and the job goes on. An I/O error with a transient code
 * (EIO, EAGAIN, ...) is retried.
 */
export interface TileProcessor {
  setup(params: PluginParams): void | Promise<void>;
  /**
   * `place`, when given, is where the tile's samples go in the chunk being assembled: a processor
   * that can decode straight there returns the tile `placed` (see TilePlace), and the copy is
   * spared. Ignoring it is always right.
   */
  process(file: string, x: number, y: number, z: number, t: number, place?: TilePlace): Promise<Tile>;
  /**
   * Optional: throws what `process` would when the tile's file is absent (a TileError saying
   * "file not found"), without decoding it. The extent's coverage check (coverage.ts) asks only
   * that; without this it decodes the tile, which for a whole z slice of 16k x 16k pixels costs
   * about a second on the main thread.
   */
  probe?(file: string, x: number, y: number, z: number, t: number): Promise<void>;
}

export interface Source {
  /** The config's class names, for messages. */
  pathClass: string;
  tileClass: string;
  path: PathProcessor;
  tile: TileProcessor;
}

export { PluginParamError };

/**
 * A source without time (a CATMAID or z-index stack) is one time point: a job may write it at any
 * time point k (`extent.t = [k, k + 1]`), one job per time point, as the original allowed. Throws
 * when the job spans several time points or `t` lies outside the job's.
 */
export function checkSingleTimePoint(job: IngestJobSection, source: string, t?: number): void {
  const [t0, t1] = job.extent.t ?? [0, 1];
  if (t1 - t0 > 1)
    throw new PluginParamError(
      'ingest_job.extent.t',
      `${source} have a single time point: the extent may span one time point [k, k+1], not [${t0}, ${t1})`,
    );
  if (t !== undefined && t !== t0)
    throw new PluginParamError(
      'ingest_job.extent.t',
      `${source} have a single time point, written at t=${t0}; t=${t} was asked for`,
    );
}

export function stringParam(params: PluginParams, key: string, where: string): string {
  const v = params[key];
  if (typeof v !== 'string' || v.length === 0) {
    throw new PluginParamError(
      `${where}.params.${key}`,
      `is required (a non-empty string), not ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** A param from a list, in any letter case; returned as written (it may be part of file names). */
export function choiceParam(
  params: PluginParams,
  key: string,
  where: string,
  allowed: readonly string[],
): string {
  const v = stringParam(params, key, where);
  if (!allowed.includes(v.toLowerCase())) {
    throw new PluginParamError(
      `${where}.params.${key}`,
      `must be one of ${allowed.join(', ')}, not ${JSON.stringify(params[key])}`,
    );
  }
  return v;
}

/** An integer param >= min (-Infinity: any); `fallback` when the config leaves it out. */
export function intParam(
  params: PluginParams,
  key: string,
  where: string,
  min: number,
  fallback?: number,
): number {
  const v = params[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new PluginParamError(
      `${where}.params.${key}`,
      `must be an integer${min > -Infinity ? ` >= ${min}` : ''}, not ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/**
 * The path processor of sources whose tile processor knows where each tile is (a URL, another
 * Boss): it names no file, as in the original.
 */
export class NoFilePathProcessor implements PathProcessor {
  setup(): void {}

  process(): string {
    return '';
  }
}

/** `x_tile`/`y_tile`, which the original duplicated from tile_size: if given, they must equal it. */
export function checkTileSizeParams(params: PluginParams, where: string): void {
  const size = params.ingest_job.tile_size;
  for (const axis of ['x', 'y'] as const) {
    const v = params[`${axis}_tile`];
    if (v !== undefined && v !== size?.[axis]) {
      throw new PluginParamError(
        `${where}.params.${axis}_tile`,
        `must equal ingest_job.tile_size.${axis} (${size?.[axis]}), not ${JSON.stringify(v)}`,
      );
    }
  }
}

/** The pixels tile (x, y) of slice z covers: tile_size, cut at the extent's right and bottom edges. */
export function tileWindow(job: IngestJobSection, x: number, y: number, z: number): Box {
  const size = job.tile_size!;
  const width = Math.min(size.x, job.extent.x[1] - x * size.x);
  const height = Math.min(size.y, job.extent.y[1] - y * size.y);
  return tileBox(x, y, z, 0, size, width, height);
}
