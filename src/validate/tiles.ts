/** `boss-ingest validate`: reads every tile of a job, writes nothing, reports every problem. */
import { jobExtent } from '../config/job.js';
import type { Datatype, JobConfig } from '../config/types.js';
import { configuredDatatype } from '../destinations/index.js';
import { indices, tileCount, tileRange } from '../extent/tiles.js';
import { createSource } from '../plugins/index.js';
import { checkTile } from '../tiles/check.js';
import { classify, IngestError, isTransient, TileError } from '../errors.js';

export interface TileProblem {
  file: string;
  reason: string;
}

export interface TileReport {
  tiles: number;
  datatype?: Datatype;
  problems: TileProblem[];
}

export async function validateTiles(
  config: JobConfig,
  onProgress?: (checked: number, total: number) => void,
): Promise<TileReport> {
  const source = await createSource(config);
  const extent = jobExtent(config);
  const tiles = tileRange(extent, config.ingest_job.tile_size!);
  let datatype: Datatype | undefined = configuredDatatype(config);
  const xs = indices(tiles.x);
  const ys = indices(tiles.y);
  const total = tileCount(tiles);
  const problems: TileProblem[] = [];
  let checked = 0;
  for (let t = extent.t[0]; t < extent.t[1]; t++) {
    for (let z = extent.z[0]; z < extent.z[1]; z++) {
      for (const yi of ys) {
        await Promise.all(
          xs.map(async (xi) => {
            let file = `tile (x ${xi}, y ${yi}, z ${z}, t ${t})`;
            try {
              file = source.path.process(xi, yi, z, t);
              const tile = await source.tile.process(file, xi, yi, z, t);
              datatype ??= tile.datatype;
              checkTile(tile, file, config.ingest_job, datatype, xi, yi);
            } catch (err) {
              if (err instanceof TileError) problems.push({ file: err.file, reason: err.reason });
              else if (!reportable(err)) throw err;
              else problems.push({ file, reason: (err as Error).message });
            }
          }),
        );
        checked += xs.length;
        onProgress?.(checked, total);
      }
    }
  }
  return { tiles: total, datatype, problems };
}

/**
 * What `validate` lists as a tile's problem rather than stopping at: what would fail a job's
 * chunks, including errors we do not know (they would, after retries). What would end the job,
 * or may pass on a retry, stops it.
 */
function reportable(err: unknown): boolean {
  if (err instanceof IngestError) return classify(err) === 'chunk';
  return err instanceof Error && !isTransient(err);
}
