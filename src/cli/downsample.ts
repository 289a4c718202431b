/** `boss-ingest downsample VOLUME`: builds or rebuilds the pyramid of an existing zarr volume as a job. */
import path from 'node:path';
import { existingZarrVolume } from '../destinations/zarr-existing.js';
import {
  MAX_LEVEL,
  resolveMultiscale,
  type DownsampleMethod,
  type MultiscaleConfig,
} from '../pyramid/levels.js';
import { withLocalWorkers, workerCounts, type ConnectionOpts } from './commands.js';
import { UsageError } from './exit.js';
import { printOutcome } from './progress-view.js';

export interface DownsampleOpts extends ConnectionOpts {
  levels: string;
  method: DownsampleMethod;
  isotropic?: boolean;
  jobId?: string;
  taskQueue: string;
  processes: string;
}

function levels(value: string): MultiscaleConfig['levels'] {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_LEVEL)
    throw new UsageError(
      `--levels must be "auto" or a whole number from 0 to ${MAX_LEVEL}, not ${JSON.stringify(value)}`,
    );
  return n;
}

export async function downsampleCommand(volumePath: string, opts: DownsampleOpts): Promise<number> {
  const workers = workerCounts(opts);
  const multiscale = resolveMultiscale({
    levels: levels(opts.levels),
    method: opts.method,
    downsample: opts.isotropic ? 'isotropic' : 'anisotropic',
  });
  const volume = path.resolve(volumePath);
  // Refuses what is not a boss-ingest zarr volume here, before a server or worker starts.
  await existingZarrVolume(volume);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');
  const jobId =
    opts.jobId ?? `downsample-${path.basename(volume)}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
  console.log(`job id: ${jobId}`);
  return withLocalWorkers(opts, workers, async (follow) => {
    const outcome = await follow(`boss-ingest downsample ${volumePath} -j ${jobId}`, {
      workflowType: 'pyramidJob',
      workflowId: jobId,
      taskQueue: opts.taskQueue,
      args: [{ path: volume, multiscale }],
      // Rebuilding a pyramid only reads the volume's level 0: it may run again.
      reuse: 'ALLOW_DUPLICATE',
      staticSummary: `boss-ingest downsample ${volume}`,
      staticDetails: `pyramid: ${JSON.stringify(multiscale)}`,
    });
    printOutcome(jobId, outcome);
    return outcome.code;
  });
}
