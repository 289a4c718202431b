/**
 * `boss-ingest validate`: reads every tile of a job, writes nothing, reports the problems. The
 * extent is checked against the source first (a few tiles), so an extent with zeros too many is
 * refused in seconds; then tiles are read a few at a time in order, so memory stays bounded
 * whatever the extent, and the first problems are listed as they are found.
 */
import { jobExtent } from '../config/job.js';
import type { Datatype, JobConfig } from '../config/types.js';
import { configuredDatatype } from '../destinations/index.js';
import { INSIDE } from '../extent/coverage.js';
import { tileCount, tileRange, type TileRange } from '../extent/tiles.js';
import { extentGaps } from '../plugins/coverage.js';
import { createSource } from '../plugins/index.js';
import type { Source } from '../plugins/types.js';
import { checkTile } from '../tiles/check.js';
import { classify, IngestError, isTransient, TileError } from '../errors.js';
import { storedDatatype } from '../volumes/volume.js';

export interface TileProblem {
  file: string;
  reason: string;
}

export interface TileReport {
  tiles: number;
  checked: number;
  datatype?: Datatype;
  /** The first MAX_LISTED_PROBLEMS problems. */
  problems: TileProblem[];
  problemCount: number;
  /**
   * Where the extent reaches past the source's data: the tiles were then not read one by one.
   * (A hole inside an extent whose edges read is listed with the other problems instead.)
   */
  gaps: string[];
}

export const MAX_LISTED_PROBLEMS = 100;
/** Tiles read at once. */
const CONCURRENCY = 16;

export interface ValidateHooks {
  onProblem?(problem: TileProblem): void;
  onProgress?(checked: number, total: number): void;
}

function* tileIndices(tiles: TileRange): Generator<[number, number, number, number]> {
  for (let t = tiles.t[0]; t < tiles.t[1]; t++)
    for (let z = tiles.z[0]; z < tiles.z[1]; z++)
      for (let yi = tiles.y[0]; yi < tiles.y[1]; yi++)
        for (let xi = tiles.x[0]; xi < tiles.x[1]; xi++) yield [xi, yi, z, t];
}

export async function validateTiles(config: JobConfig, hooks: ValidateHooks = {}): Promise<TileReport> {
  const source = await createSource(config);
  const tiles = tileRange(jobExtent(config), config.ingest_job.tile_size!);
  const report: TileReport = {
    tiles: tileCount(tiles),
    checked: 0,
    datatype: configuredDatatype(config),
    problems: [],
    problemCount: 0,
    gaps: [],
  };
  if ((config.engine?.max_failed_fraction ?? 0) < 1)
    report.gaps = (await extentGaps(source, config)).filter((gap) => !gap.startsWith(INSIDE));
  if (report.gaps.length > 0) return report;
  const next = tileIndices(tiles);
  const reader = async () => {
    for (let r = next.next(); !r.done; r = next.next()) {
      const problem = await checkOne(source, config, report, ...r.value);
      if (problem) {
        report.problemCount++;
        if (report.problems.length < MAX_LISTED_PROBLEMS) {
          report.problems.push(problem);
          hooks.onProblem?.(problem);
        }
      }
      report.checked++;
      hooks.onProgress?.(report.checked, report.tiles);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, reader));
  return report;
}

async function checkOne(
  source: Source,
  config: JobConfig,
  report: TileReport,
  xi: number,
  yi: number,
  z: number,
  t: number,
): Promise<TileProblem | undefined> {
  let file = `tile (x ${xi}, y ${yi}, z ${z}, t ${t})`;
  try {
    file = source.path.process(xi, yi, z, t);
    const tile = await source.tile.process(file, xi, yi, z, t);
    report.datatype ??= storedDatatype(tile.datatype);
    checkTile(tile, file, config.ingest_job, report.datatype, xi, yi);
    return undefined;
  } catch (err) {
    if (err instanceof TileError) return { file: err.file, reason: err.reason };
    if (!reportable(err)) throw err;
    return { file, reason: (err as Error).message };
  }
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
