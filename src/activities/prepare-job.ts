import { ApplicationFailure } from '@temporalio/common';
import { jobExtent } from '../config/job.js';
import type { JobConfig } from '../config/types.js';
import { validateConfig } from '../config/validate.js';
import {
  describeDestination,
  prepareDestination,
  resolveDatatype,
  resolveDestination,
} from '../destinations/index.js';
import { classify, FAILURE } from '../errors.js';
import { chunkCount, extentVoxels, formatExtent, type Grid } from '../extent/grid.js';
import type { JobPlan } from '../job/types.js';
import { checkCoverage } from '../plugins/coverage.js';
import { createSource, firstTileDatatype } from '../plugins/index.js';

/** Errors that retrying cannot cure: the job fails at once with the message. */
export function asJobFailure(err: unknown): unknown {
  if (classify(err) !== 'job') return err;
  return ApplicationFailure.nonRetryable((err as Error).message, FAILURE.jobError);
}

/** The job's first activity: checks the config, the source and the destination, sizes the work. */
export async function prepareJob(raw: JobConfig): Promise<JobPlan> {
  try {
    const config = validateConfig(raw);
    const source = await createSource(config);
    const extent = jobExtent(config);
    const datatype = await resolveDatatype(config, () => firstTileDatatype(source, config));
    const { spec: destination, checks } = await resolveDestination(config, { ...datatype, extent });
    // After the destination's own checks (a Boss's frame), before anything is written.
    await checkCoverage(source, config);
    await prepareDestination(destination, extent);
    const grid: Grid = { extent, chunk: destination.chunk };
    return {
      job: { config, grid, destination },
      totalChunks: chunkCount(grid),
      totalVoxels: extentVoxels(extent),
      source: `${config.client.path_processor.class.split('.').pop()} ${JSON.stringify(config.client.path_processor.params ?? {})}`,
      destination:
        (await describeDestination(destination)) +
        (checks.length > 0 ? `; preflight passed: ${checks.join(', ')}` : ''),
      extent: formatExtent(extent),
    };
  } catch (err) {
    throw asJobFailure(err);
  }
}
