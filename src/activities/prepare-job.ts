import { ApplicationFailure } from '@temporalio/common';
import { defaultChunksPerBatch, jobExtent } from '../config/job.js';
import type { JobConfig, PluginConfig } from '../config/types.js';
import { validateConfig } from '../config/validate.js';
import {
  checkReadable,
  describeDestination,
  prepareDestination,
  resolveDatatype,
  resolveDestination,
} from '../destinations/index.js';
import { classify, FAILURE, VolumeError as DestinationVolumeError } from '../errors.js';
import { chunkCount, extentVoxels, formatExtent, slabChunks, type Grid } from '../extent/grid.js';
import type { JobPlan } from '../job/types.js';
import { BYTES_PER_VOXEL } from '../destinations/datatype.js';
import { chunkBytes } from '../chunks/row-memory.js';
import { checkCoverage } from '../plugins/coverage.js';
import { createSource, firstTileDatatype } from '../plugins/index.js';
import { readsWholeSlices } from '../plugins/names.js';
import type { Source } from '../plugins/types.js';
import type { TileDatatype, TileError } from '../tiles/tile.js';
import { openJobVolume } from '../volumes/open.js';
import { checkVolumeCovers } from '../volumes/volume.js';

/**
 * Errors that retrying cannot cure end the job at once with the message: before any chunk, a
 * source that cannot be read as asked (a chunk's error) ends it too.
 */
export function asJobFailure(err: unknown): unknown {
  if (classify(err) === 'transient') return err;
  return ApplicationFailure.nonRetryable((err as Error).message, FAILURE.jobError);
}

function describeSource(plugin: PluginConfig): string {
  return `${plugin.class.split('.').pop()} ${JSON.stringify(plugin.params ?? {})}`;
}

/**
 * The job's first activity: checks the config, the source and the destination, sizes the work.
 * An ingest opens (or creates) the destination; a verify only reads it, so it must exist already.
 */
export async function prepareJob(raw: JobConfig, purpose: 'ingest' | 'verify' = 'ingest'): Promise<JobPlan> {
  try {
    const config = validateConfig(raw);
    const extent = jobExtent(config);
    const volumetric = config.ingest_job.ingest_type === 'volumetric';
    let probe: () => Promise<TileDatatype | TileError>;
    let source: Source | undefined;
    if (volumetric) {
      const volume = await openJobVolume(config);
      await volume.close();
      checkVolumeCovers(volume, extent);
      probe = async () => volume.datatype;
    } else {
      const tiles = await createSource(config);
      source = tiles;
      probe = () => firstTileDatatype(tiles, config);
    }
    const datatype = await resolveDatatype(config, probe);
    const { spec: resolved, checks } = await resolveDestination(config, {
      ...datatype,
      extent,
      readOnly: purpose === 'verify',
    });
    if (
      volumetric &&
      datatype.sourceDatatype &&
      BYTES_PER_VOXEL[datatype.sourceDatatype] > BYTES_PER_VOXEL[resolved.datatype]
    ) {
      throw new DestinationVolumeError(
        `the source's ${datatype.sourceDatatype} voxels do not fit the destination's ${resolved.datatype} without loss`,
      );
    }
    // After the destination's own checks (a Boss's frame), before anything is written.
    if (source) await checkCoverage(source, config);
    let destination = resolved;
    if (purpose === 'verify') await checkReadable(destination);
    else destination = await prepareDestination(destination, extent);
    const grid: Grid = { extent, chunk: destination.chunk };
    const totalChunks = chunkCount(grid);
    return {
      job: { config, grid, destination },
      totalChunks,
      ...(readsWholeSlices(config) ? { batchAlign: slabChunks(grid) } : {}),
      chunksPerBatch: defaultChunksPerBatch(totalChunks, chunkBytes(grid.chunk, destination.datatype)),
      totalVoxels: extentVoxels(extent),
      source: describeSource(volumetric ? config.client.chunk_processor! : config.client.path_processor),
      destination:
        (await describeDestination(destination)) +
        (checks.length > 0 ? `; preflight passed: ${checks.join(', ')}` : ''),
      extent: formatExtent(extent),
    };
  } catch (err) {
    throw asJobFailure(err);
  }
}
