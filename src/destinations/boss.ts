/**
 * The Boss destination: one cutout POST per chunk, aligned to the 512x512x16 cuboid grid, with its
 * time range [t, t + 1), body blosc-compressed C-order (z, y, x) in the channel's datatype.
 */
import type { Datatype } from '../config/types.js';
import { BossApi, type CutoutBox } from '../boss/api.js';
import { requireToken } from '../boss/token.js';
import type { ChunkBox, ChunkShape } from '../extent/grid.js';
import { encodeChunk } from './codec.js';
import { BYTES_PER_VOXEL } from './datatype.js';

export interface BossChannel {
  name: 'boss';
  /** `{protocol}://{host}`. */
  baseUrl: string;
  collection: string;
  experiment: string;
  channel: string;
  resolution: number;
  datatype: Datatype;
  chunk: ChunkShape;
  skipZeroChunks: boolean;
}

/** One client per thread and Boss; the token comes from this worker's environment. */
const apis = new Map<string, BossApi>();

export function bossApi(baseUrl: string): BossApi {
  let api = apis.get(baseUrl);
  if (!api) {
    api = new BossApi(baseUrl, requireToken(baseUrl));
    apis.set(baseUrl, api);
  }
  return api;
}

/** The box's voxels out of a whole chunk's (z, y, x) samples. */
function boxSamples(box: ChunkBox, chunk: ChunkShape, bytes: number, samples: Uint8Array): Uint8Array {
  const w = box.x[1] - box.x[0];
  const h = box.y[1] - box.y[0];
  const d = box.z[1] - box.z[0];
  if (w === chunk.x && h === chunk.y && d === chunk.z) return samples;
  const out = new Uint8Array(w * h * d * bytes);
  const x0 = box.x[0] - box.coord.x * chunk.x;
  const y0 = box.y[0] - box.coord.y * chunk.y;
  const z0 = box.z[0] - box.coord.z * chunk.z;
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) {
      const from = (((z0 + z) * chunk.y + (y0 + y)) * chunk.x + x0) * bytes;
      out.set(samples.subarray(from, from + w * bytes), (z * h + y) * w * bytes);
    }
  }
  return out;
}

/** Writes the box of one chunk; false when skipped as all zeros. */
export async function writeBossChunk(
  spec: BossChannel,
  box: ChunkBox,
  samples: Uint8Array,
): Promise<boolean> {
  const body = boxSamples(box, spec.chunk, BYTES_PER_VOXEL[spec.datatype], samples);
  if (spec.skipZeroChunks && body.every((v) => v === 0)) return false;
  const cutout: CutoutBox = {
    collection: spec.collection,
    experiment: spec.experiment,
    channel: spec.channel,
    resolution: spec.resolution,
    x: box.x,
    y: box.y,
    z: box.z,
    // Always: without a time range the Boss writes to the channel's default_time_sample.
    t: [box.t, box.t + 1],
  };
  await bossApi(spec.baseUrl).postCutout(cutout, await encodeChunk('blosc', body));
  return true;
}
