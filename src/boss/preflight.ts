/**
 * Checks before any write to a Boss: the collection, experiment and channel exist, the token may
 * read and write them, the channel's datatype takes the source's, the extent lies inside the
 * coordinate frame and the resolution and time range are valid. Every finding names the resource.
 */
import { DATATYPES, type BossBackendConfig, type Datatype, type JobConfig } from '../config/types.js';
import { decodeChunk, encodeChunk } from '../destinations/codec.js';
import { fits } from '../destinations/datatype.js';
import type { Extent } from '../extent/grid.js';
import type { TileDatatype } from '../tiles/tile.js';
import { BossError, resourcePaths, type BossApi } from './api.js';
import { bossApi } from './client.js';
import { PreflightError } from '../errors.js';

export { PreflightError };

/** What the preflight found out: the destination module builds the job's spec from it. */
export interface Preflight {
  /** The channel's datatype, which the job writes. */
  datatype: Datatype;
  /** The job spans several time points, so writes carry a time range. */
  timeRange: boolean;
  /** What was checked, for the job's progress and `validate`. */
  checks: string[];
}

function explain(err: unknown, what: string, host: string): never {
  if (!(err instanceof BossError)) throw err;
  if (err.status === 401)
    throw new PreflightError(
      `the Boss at ${host} refused the API token (401) reading ${what}: check -a/--api-token, INTERN_TOKEN or ~/.intern/intern.cfg`,
    );
  if (err.status === 403)
    throw new PreflightError(`the API token may not access ${what} on ${host} (403: ${err.message})`);
  if (err.status === 404)
    throw new PreflightError(`${what} does not exist on ${host} (create it with boss-ingest prep)`);
  throw err;
}

async function get(api: BossApi, path: string, what: string, host: string): Promise<Record<string, unknown>> {
  try {
    return await api.getResource(path);
  } catch (err) {
    explain(err, what, host);
  }
}

function inside(extent: Extent, frame: Record<string, unknown>, resolution: number): string | undefined {
  // Coordinate frames are at resolution 0; x and y halve per level of an anisotropic hierarchy.
  const scale = 2 ** resolution;
  for (const axis of ['x', 'y', 'z'] as const) {
    const start = Number(frame[`${axis}_start`]);
    const stop = Number(frame[`${axis}_stop`]);
    const s = axis === 'z' ? 1 : scale;
    const [lo, hi] = [Math.floor(start / s), Math.ceil(stop / s)];
    if (extent[axis][0] < lo || extent[axis][1] > hi) {
      return `ingest_job.extent.${axis} [${extent[axis][0]}, ${extent[axis][1]}) lies outside the coordinate frame's [${lo}, ${hi})`;
    }
  }
  return undefined;
}

/**
 * Runs every check; `sourceDatatype` is the first tile's, when it could be read. `token` is the
 * CLI's; without it the token comes from this process's environment.
 */
export async function bossPreflight(
  config: JobConfig,
  backend: BossBackendConfig,
  extent: Extent,
  sourceDatatype: TileDatatype | undefined,
  token?: string,
): Promise<Preflight> {
  const host = bossUrl(backend);
  const { collection, experiment, channel } = config.database;
  const resolution = config.ingest_job.resolution;
  const api = bossApi(host, token);
  const paths = resourcePaths(collection, experiment, channel);
  await get(api, paths.collection, `collection ${collection}`, host);
  const exp = await get(api, paths.experiment, `experiment ${collection}/${experiment}`, host);
  const chan = await get(api, paths.channel, `channel ${collection}/${experiment}/${channel}`, host);
  const frameName = String(exp.coord_frame ?? '');
  const frame = await get(api, paths.coord(frameName), `coordinate frame ${frameName}`, host);

  const datatype = DATATYPES.find((d) => d === chan.datatype);
  if (!datatype)
    throw new PreflightError(
      `channel ${channel} has datatype ${String(chan.datatype)}, which boss-ingest cannot write`,
    );
  if (sourceDatatype && !fits(sourceDatatype, datatype)) {
    throw new PreflightError(
      `the source is ${sourceDatatype} but channel ${collection}/${experiment}/${channel} is ${datatype}: it would lose precision`,
    );
  }
  const levels = Number(exp.num_hierarchy_levels ?? 1);
  if (!Number.isInteger(resolution) || resolution < 0 || resolution > 9 || resolution >= levels) {
    throw new PreflightError(
      `ingest_job.resolution ${resolution} is not valid for experiment ${experiment} (${levels} resolution level(s))`,
    );
  }
  const outside = inside(extent, frame, resolution);
  if (outside) throw new PreflightError(`${outside} (coordinate frame ${frameName})`);
  const samples = Number(exp.num_time_samples ?? 1);
  if (extent.t[1] > samples)
    throw new PreflightError(
      `ingest_job.extent.t stops at ${extent.t[1]} but experiment ${experiment} has ${samples} time sample(s)`,
    );

  const timeRange = extent.t[1] - extent.t[0] > 1;
  // Proves the token may write without changing anything: one voxel read, then written back as it was.
  const probe = {
    collection,
    experiment,
    channel,
    resolution,
    x: [extent.x[0], extent.x[0] + 1] as [number, number],
    y: [extent.y[0], extent.y[0] + 1] as [number, number],
    z: [extent.z[0], extent.z[0] + 1] as [number, number],
    ...(timeRange ? { t: [extent.t[0], extent.t[0] + 1] as [number, number] } : {}),
  };
  const what = `channel ${collection}/${experiment}/${channel}`;
  let voxel: Buffer;
  try {
    voxel = await api.getCutout(probe);
  } catch (err) {
    explain(err, what, host);
  }
  try {
    await api.postCutout(probe, await encodeChunk('blosc', await decodeChunk('blosc', voxel)));
  } catch (err) {
    if (err instanceof BossError && err.status === 403)
      throw new PreflightError(`the API token may read but not write ${what} on ${host} (403)`);
    explain(err, what, host);
  }

  return {
    datatype,
    timeRange,
    checks: [
      `collection, experiment and channel exist`,
      `token may read and write`,
      `channel datatype ${datatype}${sourceDatatype ? ` takes the source's ${sourceDatatype}` : ''}`,
      `extent inside coordinate frame ${frameName}`,
      `resolution ${resolution} of ${levels}`,
    ],
  };
}

/** `{protocol}://{host}` of the Boss a backend config names. */
export function bossUrl(backend: BossBackendConfig): string {
  return `${backend.protocol}://${backend.host}`;
}
