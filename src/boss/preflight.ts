/**
 * Checks before any write to a Boss: the collection, experiment and channel exist, the channel can
 * hold the data (its datatype takes the source's; not a CloudVolume channel, not a uint64 image
 * channel), the token may read and write them, the extent lies inside the coordinate frame (at
 * resolution 0, as the server checks), the Boss accepts writes at the resolution and the time
 * range is valid. Every finding names the resource.
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
export interface PreflightOptions {
  /** The CLI's token; without it the token comes from this process's environment. */
  token?: string;
  /**
   * Prove write permission by writing one voxel back as it was read. A job's own preflight does;
   * `validate` must not (every write resets the channel's downsample status and counts against
   * the user's quota).
   */
  writeProbe?: boolean;
}

export interface Preflight {
  /** The channel's datatype, which the job writes. */
  datatype: Datatype;
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

/** The server checks a cutout against the frame at resolution 0 whatever the resolution; so does this. */
function inside(extent: Extent, frame: Record<string, unknown>): string | undefined {
  for (const axis of ['x', 'y', 'z'] as const) {
    const lo = Number(frame[`${axis}_start`]);
    const hi = Number(frame[`${axis}_stop`]);
    if (extent[axis][0] < lo || extent[axis][1] > hi) {
      return `ingest_job.extent.${axis} [${extent[axis][0]}, ${extent[axis][1]}) lies outside the coordinate frame's [${lo}, ${hi})`;
    }
  }
  return undefined;
}

/**
 * Runs every check; `sourceDatatype` is the first tile's, when it could be read.
 */
export async function bossPreflight(
  config: JobConfig,
  backend: BossBackendConfig,
  extent: Extent,
  sourceDatatype: TileDatatype | undefined,
  options: PreflightOptions = {},
): Promise<Preflight> {
  const writeProbe = options.writeProbe ?? true;
  const token = options.token;
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

  const what = `channel ${collection}/${experiment}/${channel}`;
  const datatype = DATATYPES.find((d) => d === chan.datatype);
  if (!datatype)
    throw new PreflightError(
      `channel ${channel} has datatype ${String(chan.datatype)}, which boss-ingest cannot write`,
    );
  if (chan.storage_type === 'cloudvol')
    throw new PreflightError(
      `${what} has storage_type cloudvol: the Boss reads it from CloudVolume but stores cutout writes elsewhere, so nothing written could be read back`,
    );
  if (datatype === 'uint64' && chan.type !== 'annotation')
    throw new PreflightError(
      `${what} is a uint64 ${String(chan.type)} channel: the Boss drops rewrites of uint64 data unless the channel is an annotation channel`,
    );
  if (sourceDatatype && !fits(sourceDatatype, datatype)) {
    throw new PreflightError(
      `the source is ${sourceDatatype} but channel ${collection}/${experiment}/${channel} is ${datatype}: it would lose precision`,
    );
  }
  const levels = Number(exp.num_hierarchy_levels ?? 1);
  const base = Number(chan.base_resolution ?? 0);
  // Reads: [base, base + levels); writes: base or base + 1 only (else the store's "Resolution Mismatch").
  const writable = [base, base + 1].filter((r) => r < base + levels);
  if (!writable.includes(resolution)) {
    throw new PreflightError(
      `ingest_job.resolution ${resolution} is not accepted for writes by ${what}: the Boss writes at ` +
        `resolution ${writable.join(' or ')} (base_resolution ${base}, ${levels} level(s)); ` +
        `lower resolutions come from its downsampling (client.backend.downsample)`,
    );
  }
  const outside = inside(extent, frame);
  if (outside) throw new PreflightError(`${outside} (coordinate frame ${frameName})`);
  const samples = Number(exp.num_time_samples ?? 1);
  if (extent.t[1] > samples)
    throw new PreflightError(
      `ingest_job.extent.t stops at ${extent.t[1]} but experiment ${experiment} has ${samples} time sample(s)`,
    );

  // Every request carries its time range: without one the Boss uses the channel's default_time_sample.
  const probe = {
    collection,
    experiment,
    channel,
    resolution,
    x: [extent.x[0], extent.x[0] + 1] as [number, number],
    y: [extent.y[0], extent.y[0] + 1] as [number, number],
    z: [extent.z[0], extent.z[0] + 1] as [number, number],
    t: [extent.t[0], extent.t[0] + 1] as [number, number],
  };
  let voxel: Buffer;
  try {
    voxel = await api.getCutout(probe);
  } catch (err) {
    explain(err, what, host);
  }
  if (writeProbe) {
    // Proves the token may write without changing anything: the voxel written back as it was.
    try {
      await api.postCutout(probe, await encodeChunk('blosc', await decodeChunk('blosc', voxel)));
    } catch (err) {
      if (err instanceof BossError && err.status === 403)
        throw new PreflightError(`the API token may read but not write ${what} on ${host} (403)`);
      explain(err, what, host);
    }
  }

  return {
    datatype,
    checks: [
      `collection, experiment and channel exist`,
      writeProbe
        ? `token may read and write`
        : `token may read (write permission not checked: validate writes nothing)`,
      `channel datatype ${datatype}${sourceDatatype ? ` takes the source's ${sourceDatatype}` : ''}`,
      `extent inside coordinate frame ${frameName}`,
      `the Boss writes at resolution ${resolution}`,
    ],
  };
}

/** `{protocol}://{host}` of the Boss a backend config names. */
export function bossUrl(backend: BossBackendConfig): string {
  return `${backend.protocol}://${backend.host}`;
}
