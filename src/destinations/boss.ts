/**
 * The Boss destination: one cutout POST per chunk, aligned to the 512x512x16 cuboid grid, with its
 * time range [t, t + 1), body blosc-compressed C-order (z, y, x) in the channel's datatype.
 */
import { BossError, cutoutPath, type CutoutBox } from '../boss/api.js';
import { bossApi } from '../boss/client.js';
import { bossPreflight, bossUrl, PreflightError } from '../boss/preflight.js';
import { copyBox, boxVoxels } from '../extent/box.js';
import { BOSS_CUBOID, wholeChunk, type ChunkBox } from '../extent/grid.js';
import { decodeChunk, encodeChunk } from './codec.js';
import { allZero, BYTES_PER_VOXEL } from './datatype.js';
import type { Destination, DestinationSpecBase } from './types.js';

export interface BossChannel extends DestinationSpecBase {
  name: 'boss';
  /** `{protocol}://{host}`. */
  baseUrl: string;
  collection: string;
  experiment: string;
  channel: string;
  resolution: number;
  skipZeroChunks: boolean;
}

/** The box's voxels out of a whole chunk's (z, y, x) samples: the Boss takes partial boxes as they are. */
function boxSamples(spec: BossChannel, box: ChunkBox, samples: Uint8Array): Uint8Array {
  const whole = wholeChunk(spec.chunk, box.coord);
  if (boxVoxels(box) === boxVoxels(whole)) return samples;
  const bytes = BYTES_PER_VOXEL[spec.datatype];
  const out = new Uint8Array(boxVoxels(box) * bytes);
  copyBox(samples, whole, out, box, bytes);
  return out;
}

export const bossDestination: Destination<BossChannel> = {
  datatypeFrom: 'destination',
  async resolve(config, { extent, sourceDatatype, token, readOnly }) {
    const backend = config.client.backend;
    if (backend.name !== 'boss') throw new PreflightError(`client.backend.name is ${backend.name}, not boss`);
    const { datatype, checks } = await bossPreflight(config, backend, extent, sourceDatatype, {
      token,
      writeProbe: !readOnly,
    });
    const { collection, experiment, channel } = config.database;
    const spec: BossChannel = {
      name: 'boss',
      baseUrl: bossUrl(backend),
      collection,
      experiment,
      channel,
      resolution: config.ingest_job.resolution,
      datatype,
      chunk: BOSS_CUBOID,
      // The Boss never overwrites stored voxels with 0, so writing an all-zero block changes nothing.
      skipZeroChunks: backend.skip_zero_chunks ?? true,
    };
    return { spec, checks };
  },
  describe: (spec) =>
    `Boss ${spec.baseUrl} ${spec.collection}/${spec.experiment}/${spec.channel} resolution ${spec.resolution} (${spec.datatype})`,
  // The channel exists (the preflight checked it) and takes writes as they come.
  prepare: async (spec) => spec,
  async write(spec, box, samples) {
    const body = boxSamples(spec, box, samples);
    if (spec.skipZeroChunks && allZero(body)) return { skipped: true };
    await bossApi(spec.baseUrl).postCutout(cutoutOf(spec, box), await encodeChunk('blosc', body));
    return { written: true };
  },
  // The Boss answers zeros where nothing was written, so a chunk is never missing.
  async read(spec, box) {
    const body = await decodeChunk('blosc', await bossApi(spec.baseUrl).getCutout(cutoutOf(spec, box)));
    const bytes = BYTES_PER_VOXEL[spec.datatype];
    if (body.length !== boxVoxels(box) * bytes)
      throw new BossError(
        `cutout GET ${cutoutPath(cutoutOf(spec, box))} came back as ${body.length} bytes, not ${boxVoxels(box) * bytes}`,
        0,
      );
    const whole = wholeChunk(spec.chunk, box.coord);
    const samples = new Uint8Array(boxVoxels(whole) * bytes);
    copyBox(body, box, samples, whole, bytes);
    return samples;
  },
  // The preflight in `resolve` found the channel.
  checkReadable: async () => {},
};

function cutoutOf(spec: BossChannel, box: ChunkBox): CutoutBox {
  return {
    collection: spec.collection,
    experiment: spec.experiment,
    channel: spec.channel,
    resolution: spec.resolution,
    x: box.x,
    y: box.y,
    z: box.z,
    // Always: without a time range the Boss reads and writes the channel's default_time_sample.
    t: [box.t, box.t + 1],
  };
}
