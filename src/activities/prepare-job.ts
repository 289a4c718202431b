import { ApplicationFailure } from '@temporalio/common';
import { jobExtent } from '../config/job.js';
import type { Datatype, JobConfig } from '../config/types.js';
import { ConfigError, validateConfig } from '../config/validate.js';
import {
  configuredDatatype,
  describeDestination,
  prepareDestination,
  resolveDestination,
  VolumeError,
} from '../destinations/index.js';
import { chunkCount, extentVoxels, formatExtent, type Grid } from '../extent/grid.js';
import type { JobPlan } from '../job/types.js';
import { createSource } from '../plugins/index.js';
import { PluginParamError } from '../plugins/types.js';
import { TileError } from '../tiles/tile.js';

/** Errors that retrying cannot cure: the job fails at once with the message. */
export function asJobFailure(err: unknown): unknown {
  if (err instanceof ConfigError || err instanceof PluginParamError || err instanceof VolumeError) {
    return ApplicationFailure.nonRetryable(err.message, err.name);
  }
  return err;
}

/** The destination's datatype, else the datatype of the source's first tile. */
async function jobDatatype(config: JobConfig): Promise<Datatype> {
  const configured = configuredDatatype(config);
  if (configured) return configured;
  const source = await createSource(config);
  const { extent, tile_size: size } = config.ingest_job;
  const [xi, yi, z, t] = [
    Math.floor(extent.x[0] / size!.x),
    Math.floor(extent.y[0] / size!.y),
    extent.z[0],
    extent.t?.[0] ?? 0,
  ];
  const file = source.path.process(xi, yi, z, t);
  try {
    return (await source.tile.process(file, xi, yi, z, t)).datatype;
  } catch (err) {
    if (!(err instanceof TileError)) throw err;
    throw new VolumeError(
      `cannot tell the datatype from the first tile: ${err.message}; set client.backend.datatype (or --datatype)`,
    );
  }
}

/** The job's first activity: checks the config, opens the destination, sizes the work. */
export async function prepareJob(raw: JobConfig): Promise<JobPlan> {
  try {
    const config = validateConfig(raw);
    await createSource(config);
    const extent = jobExtent(config);
    const destination = resolveDestination(config, await jobDatatype(config), extent);
    await prepareDestination(destination, extent);
    const grid: Grid = { extent, chunk: destination.chunk };
    return {
      job: { config, grid, destination },
      totalChunks: chunkCount(grid),
      totalVoxels: extentVoxels(extent),
      source: `${config.client.path_processor.class.split('.').pop()} ${JSON.stringify(config.client.path_processor.params ?? {})}`,
      destination: describeDestination(destination),
      extent: formatExtent(extent),
    };
  } catch (err) {
    throw asJobFailure(err);
  }
}
