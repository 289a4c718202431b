import { ApplicationFailure } from '@temporalio/common';
import { jobExtent } from '../config/job.js';
import type { JobConfig, PluginConfig } from '../config/types.js';
import { ConfigError, validateConfig } from '../config/validate.js';
import { BossError } from '../boss/api.js';
import { PreflightError } from '../boss/preflight.js';
import { MissingTokenError } from '../boss/token.js';
import {
  describeDestination,
  prepareDestination,
  resolveDatatype,
  resolveDestination,
  VolumeError,
} from '../destinations/index.js';
import { chunkCount, extentVoxels, formatExtent, type Grid } from '../extent/grid.js';
import type { JobPlan } from '../job/types.js';
import { createSource, firstTile } from '../plugins/index.js';
import { BYTES_PER_VOXEL } from '../destinations/datatype.js';
import type { TileDatatype, TileError } from '../tiles/tile.js';
import { openJobVolume } from '../volumes/open.js';
import { checkVolumeCovers, storedDatatype, VolumeError as SourceVolumeError } from '../volumes/volume.js';
import { PluginParamError } from '../plugins/types.js';

/** Errors that retrying cannot cure: the job fails at once with the message. */
export function asJobFailure(err: unknown): unknown {
  const fatal = [
    ConfigError,
    PluginParamError,
    VolumeError,
    SourceVolumeError,
    PreflightError,
    MissingTokenError,
  ];
  if (fatal.some((type) => err instanceof type)) {
    return ApplicationFailure.nonRetryable((err as Error).message, (err as Error).name);
  }
  if (err instanceof BossError && !err.transient)
    return ApplicationFailure.nonRetryable(err.message, 'BossError');
  return err;
}

function describeSource(plugin: PluginConfig): string {
  return `${plugin.class.split('.').pop()} ${JSON.stringify(plugin.params ?? {})}`;
}

/** The job's first activity: checks the config, the source and the destination, sizes the work. */
export async function prepareJob(raw: JobConfig): Promise<JobPlan> {
  try {
    const config = validateConfig(raw);
    const extent = jobExtent(config);
    const volumetric = config.ingest_job.ingest_type === 'volumetric';
    let probe: () => Promise<TileDatatype | TileError>;
    if (volumetric) {
      const volume = await openJobVolume(config);
      await volume.close();
      checkVolumeCovers(volume, extent);
      // The source's datatype as the destination stores it (uint32 labels widen to uint64).
      probe = async () => storedDatatype(volume.datatype) as TileDatatype;
    } else {
      const source = await createSource(config);
      probe = () => firstTile(source, config);
    }
    const datatype = await resolveDatatype(config, probe);
    const { spec: destination, checks } = await resolveDestination(config, { ...datatype, extent });
    await prepareDestination(destination, extent);
    if (
      volumetric &&
      datatype.sourceDatatype &&
      BYTES_PER_VOXEL[datatype.sourceDatatype] > BYTES_PER_VOXEL[destination.datatype]
    ) {
      throw new VolumeError(
        `the source's ${datatype.sourceDatatype} voxels do not fit the destination's ${destination.datatype} without loss`,
      );
    }
    const grid: Grid = { extent, chunk: destination.chunk };
    return {
      job: { config, grid, destination },
      totalChunks: chunkCount(grid),
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
