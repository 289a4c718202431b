import { ApplicationFailure } from '@temporalio/common';
import { jobExtent } from '../config/job.js';
import type { Datatype, JobConfig } from '../config/types.js';
import { ConfigError, validateConfig } from '../config/validate.js';
import { BossError } from '../boss/api.js';
import { PreflightError } from '../boss/preflight.js';
import { MissingTokenError } from '../boss/token.js';
import {
  configuredDatatype,
  describeDestination,
  prepareDestination,
  resolveDestination,
  VolumeError,
} from '../destinations/index.js';
import { chunkCount, extentVoxels, formatExtent, type Grid } from '../extent/grid.js';
import type { JobPlan } from '../job/types.js';
import { createSource, firstTile } from '../plugins/index.js';
import { PluginParamError } from '../plugins/types.js';
import { TileError } from '../tiles/tile.js';

/** Errors that retrying cannot cure: the job fails at once with the message. */
export function asJobFailure(err: unknown): unknown {
  const fatal = [ConfigError, PluginParamError, VolumeError, PreflightError, MissingTokenError];
  if (fatal.some((type) => err instanceof type)) {
    return ApplicationFailure.nonRetryable((err as Error).message, (err as Error).name);
  }
  if (err instanceof BossError && err.endsJob)
    return ApplicationFailure.nonRetryable(err.message, 'BossError');
  return err;
}

/** The job's first activity: checks the config, the source and the destination, sizes the work. */
export async function prepareJob(raw: JobConfig): Promise<JobPlan> {
  try {
    const config = validateConfig(raw);
    const source = await createSource(config);
    const extent = jobExtent(config);
    const configured = configuredDatatype(config);
    let sourceDatatype: Datatype | undefined = configured;
    if (!configured || config.client.backend.name === 'boss') {
      const first = await firstTile(source, config);
      if (first instanceof TileError && !configured && config.client.backend.name !== 'boss') {
        throw new VolumeError(
          `cannot tell the datatype from the first tile: ${first.message}; set client.backend.datatype (or --datatype)`,
        );
      }
      if (!(first instanceof TileError)) sourceDatatype = first;
    }
    const { destination, checks } = await resolveDestination(config, sourceDatatype, extent);
    await prepareDestination(destination, extent);
    const grid: Grid = { extent, chunk: destination.chunk };
    return {
      job: { config, grid, destination },
      totalChunks: chunkCount(grid),
      totalVoxels: extentVoxels(extent),
      source: `${config.client.path_processor.class.split('.').pop()} ${JSON.stringify(config.client.path_processor.params ?? {})}`,
      destination:
        describeDestination(destination) +
        (checks.length > 0 ? `; preflight passed: ${checks.join(', ')}` : ''),
      extent: formatExtent(extent),
    };
  } catch (err) {
    throw asJobFailure(err);
  }
}
