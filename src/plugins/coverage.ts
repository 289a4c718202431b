/**
 * Does a tile source cover the job's extent? A few tiles are read before any chunk is written (see
 * extent/coverage.ts), so a wrong root_dir or an extent with zeros too many is refused in seconds,
 * naming the part of the extent without data, instead of failing chunk after chunk for hours.
 */
import { jobExtent } from '../config/job.js';
import type { JobConfig } from '../config/types.js';
import { chunkReason, classify, ExtentError } from '../errors.js';
import { coverageProblems, type TileIndex } from '../extent/coverage.js';
import { tileRange } from '../extent/tiles.js';
import type { Source } from './types.js';

/** Only an absent tile says the extent is wrong; a tile that is there but bad fails its own chunks. */
const MISSING = 'file not found';

/** What part of the extent has no data; empty when the corners and a sample between them read. */
export async function extentGaps(source: Source, config: JobConfig): Promise<string[]> {
  const extent = jobExtent(config);
  const size = config.ingest_job.tile_size!;
  const span = tileRange(extent, size);
  const probe = async (at: TileIndex): Promise<string | undefined> => {
    let file = `tile (x ${at.x}, y ${at.y}, z ${at.z}, t ${at.t})`;
    try {
      file = source.path.process(at.x, at.y, at.z, at.t);
      if (source.tile.probe) await source.tile.probe(file, at.x, at.y, at.z, at.t);
      else await source.tile.process(file, at.x, at.y, at.z, at.t);
      return undefined;
    } catch (err) {
      if (classify(err) !== 'chunk') throw err;
      const reason = chunkReason(err);
      return reason === MISSING ? `${file}: ${reason}` : undefined;
    }
  };
  return coverageProblems(
    span,
    { x: size.x, y: size.y, z: 1, t: 1 },
    { x: extent.x[1], y: extent.y[1], z: extent.z[1], t: extent.t[1] },
    probe,
  );
}

/** Refuses a job whose extent the source does not cover, unless it is declared sparse. */
export async function checkCoverage(source: Source, config: JobConfig): Promise<void> {
  if ((config.engine?.max_failed_fraction ?? 0) >= 1) return;
  const gaps = await extentGaps(source, config);
  if (gaps.length > 0)
    throw new ExtentError(
      `ingest_job.extent does not fit the source (no tile was written):\n  ${gaps.join('\n  ')}\n` +
        "check ingest_job.extent and the path processor's root_dir; for a sparse stack set engine.max_failed_fraction to 1",
    );
}
