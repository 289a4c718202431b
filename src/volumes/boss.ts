/**
 * Another Boss as a volume: the original's InternChunkProcessor (`uri`
 * bossdb://collection/experiment/channel[/resolution], `host`, `protocol`). Bounds come from the
 * experiment's coordinate frame at the resolution; boxes are read as cutout GETs of whole Boss
 * cuboids' worth, several in parallel, with the client's retries. The token is the worker's
 * (see boss/token.ts), never a config param.
 */
import { BossApi, resourcePaths } from '../boss/api.js';
import { decodeChunk } from '../destinations/codec.js';
import { PluginParamError, stringParam, type PluginParams } from '../plugins/types.js';
import { forEachLimited } from './parallel.js';
import {
  allocate,
  boxSize,
  checkInside,
  copyVoxels,
  fromBytes,
  VolumeError,
  BYTES_PER_VOXEL,
  type VolumeBox,
  type Volume,
  type VolumeData,
  type VolumeDatatype,
  type Xyz,
} from './volume.js';

export interface BossSourceParams {
  uri: string;
  host: string;
  protocol: 'http' | 'https';
  token: string;
  /** Cutouts in flight per box. */
  parallel?: number;
}

export interface BossUri {
  collection: string;
  experiment: string;
  channel: string;
  resolution: number;
}

export function parseBossUri(uri: string): BossUri {
  const m = /^bossdb:\/\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)(?:\/(\d+))?\/?$/.exec(uri);
  if (!m) throw new VolumeError(uri, 'a Boss source is bossdb://collection/experiment/channel[/resolution]');
  return { collection: m[1], experiment: m[2], channel: m[3], resolution: Number(m[4] ?? 0) };
}

/** Reads are cut into blocks of this many voxels: whole Boss cuboids, a few MB each. */
const BLOCK: Xyz = { x: 1024, y: 1024, z: 16 };

class BossVolume implements Volume {
  readonly chunk = { x: 512, y: 512, z: 16 };

  constructor(
    readonly source: string,
    private readonly api: BossApi,
    private readonly at: BossUri,
    readonly datatype: VolumeDatatype,
    readonly offset: Xyz,
    readonly size: Xyz,
    private readonly parallel: number,
  ) {}

  private blocks(box: VolumeBox): VolumeBox[] {
    const out: VolumeBox[] = [];
    const cuts = (a: 'x' | 'y' | 'z'): [number, number][] => {
      const r: [number, number][] = [];
      for (let s = box[a][0]; s < box[a][1]; s = (Math.floor(s / BLOCK[a]) + 1) * BLOCK[a]) {
        r.push([s, Math.min(box[a][1], (Math.floor(s / BLOCK[a]) + 1) * BLOCK[a])]);
      }
      return r;
    };
    for (const z of cuts('z')) for (const y of cuts('y')) for (const x of cuts('x')) out.push({ x, y, z });
    return out;
  }

  async readBox(box: VolumeBox): Promise<VolumeData> {
    checkInside(this, box);
    const size = boxSize(box);
    const out = allocate(this.datatype, size.x * size.y * size.z);
    await forEachLimited(this.blocks(box), this.parallel, async (block) => {
      let bytes: Uint8Array;
      try {
        const t: [number, number] | undefined = box.t === undefined ? undefined : [box.t, box.t + 1];
        const frame = await this.api.getCutout({ ...this.at, x: block.x, y: block.y, z: block.z, t });
        bytes = await decodeChunk('blosc', new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
      } catch (err) {
        const transient = (err as { transient?: boolean }).transient === true;
        throw new VolumeError(this.source, (err as Error).message, transient);
      }
      const s = boxSize(block);
      const expected = s.x * s.y * s.z * BYTES_PER_VOXEL[this.datatype];
      if (bytes.byteLength !== expected) {
        throw new VolumeError(
          this.source,
          `cutout of ${s.x} x ${s.y} x ${s.z} came back as ${bytes.byteLength} bytes, not ${expected}`,
        );
      }
      copyVoxels(fromBytes(bytes, this.datatype), block, out, box);
    });
    return out;
  }

  async close(): Promise<void> {}
}

const DATATYPES: readonly string[] = ['uint8', 'uint16', 'uint64'];

/** A source Boss's `host` and `protocol` params: api.bossdb.io over https unless they say otherwise. */
export function sourceBoss(params: PluginParams, where: string): Pick<BossSourceParams, 'host' | 'protocol'> {
  const protocol = params.protocol ?? 'https';
  if (protocol !== 'http' && protocol !== 'https')
    throw new PluginParamError(
      `${where}.params.protocol`,
      `must be http or https, not ${JSON.stringify(protocol)}`,
    );
  return { host: params.host === undefined ? 'api.bossdb.io' : stringParam(params, 'host', where), protocol };
}

export async function openBossVolume(params: BossSourceParams): Promise<Volume> {
  const at = parseBossUri(params.uri);
  const source = `${params.uri} at ${params.protocol}://${params.host}`;
  const api = new BossApi(`${params.protocol}://${params.host}`, params.token);
  const paths = resourcePaths(at.collection, at.experiment, at.channel);
  let channel: Record<string, unknown>;
  let experiment: Record<string, unknown>;
  let frame: Record<string, unknown>;
  try {
    channel = await api.getResource(paths.channel);
    experiment = await api.getResource(paths.experiment);
    frame = await api.getResource(paths.coord(String(experiment.coord_frame)));
  } catch (err) {
    throw new VolumeError(
      source,
      (err as Error).message,
      (err as { transient?: boolean }).transient === true,
    );
  }
  const datatype = String(channel.datatype);
  if (!DATATYPES.includes(datatype))
    throw new VolumeError(source, `channel datatype ${datatype} is not readable (uint8, uint16, uint64 are)`);
  const levels = Number(experiment.num_hierarchy_levels ?? 1);
  if (at.resolution >= levels)
    throw new VolumeError(
      source,
      `resolution ${at.resolution} does not exist (the experiment has ${levels} levels)`,
    );
  const f = 2 ** at.resolution;
  const fz = experiment.hierarchy_method === 'isotropic' ? f : 1;
  const range = (axis: string, by: number): [number, number] => [
    Math.floor(Number(frame[`${axis}_start`]) / by),
    Math.ceil(Number(frame[`${axis}_stop`]) / by),
  ];
  const [x, y, z] = [range('x', f), range('y', f), range('z', fz)];
  return new BossVolume(
    source,
    api,
    at,
    datatype as VolumeDatatype,
    { x: x[0], y: y[0], z: z[0] },
    { x: x[1] - x[0], y: y[1] - y[0], z: z[1] - z[0] },
    params.parallel ?? 4,
  );
}
