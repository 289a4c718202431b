/**
 * The Boss emulator's in-memory model: resources (collection, coordinate frame, experiment, channel) with the
 * validation rules of /work/shared/reference/boss-api.md, and sparse voxel storage per channel.
 */

export class BossError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const bad = (message: string): BossError => new BossError(400, 1006, message);
const outOfRange = (message: string): BossError => new BossError(400, 1001, message);
const badResolution = (message: string): BossError => new BossError(400, 1002, message);
/** What the cutout POST turns any failure of its storage layer into. */
export const storageFailure = (message: string): BossError => new BossError(400, 9001, message);
const notFound = (message: string): BossError => new BossError(404, 4000, message);

export type Datatype = 'uint8' | 'uint16' | 'uint64';
export type VoxelArray = Uint8Array | Uint16Array | BigUint64Array;
export const BYTES: Record<Datatype, number> = { uint8: 1, uint16: 2, uint64: 8 };
/** Every datatype of the Boss model, uint32 included (it exists in the model, not in storage). */
export const MODEL_BYTES: Record<string, number> = { uint8: 1, uint16: 2, uint32: 4, uint64: 8 };

export interface Collection {
  name: string;
  description: string;
  public: boolean;
}
export interface CoordFrame {
  name: string;
  description: string;
  x_start: number;
  x_stop: number;
  y_start: number;
  y_stop: number;
  z_start: number;
  z_stop: number;
  x_voxel_size: number;
  y_voxel_size: number;
  z_voxel_size: number;
  voxel_unit: string;
}
export interface Experiment {
  name: string;
  description: string;
  coord_frame: string;
  num_hierarchy_levels: number;
  hierarchy_method: string;
  num_time_samples: number;
  time_step: number | null;
  time_step_unit: string | null;
  public: boolean;
}
export type DownsampleStatus = 'NOT_DOWNSAMPLED' | 'IN_PROGRESS' | 'DOWNSAMPLED' | 'FAILED';

export interface Channel {
  name: string;
  description: string;
  type: string;
  datatype: Datatype;
  base_resolution: number;
  default_time_sample: number;
  sources: string[];
  related: string[];
  public: boolean;
  /** 'spdb' (the cuboid store) or 'cloudvol' (reads come from CloudVolume, writes go to spdb). */
  storage_type: string;
  downsample_status: DownsampleStatus;
}

interface ChannelNode {
  fields: Channel;
  /** Block key `res/t/bx/by/bz` -> the block's little-endian bytes, (z, y, x) C order. */
  blocks: Map<string, Uint8Array>;
}
interface ExperimentNode {
  fields: Experiment;
  channels: Map<string, ChannelNode>;
}
interface CollectionNode {
  fields: Collection;
  experiments: Map<string, ExperimentNode>;
}

export type Range = [number, number];
/** A cutout's ranges as asked for; without `t`, the channel's default time sample. */
export interface Ranges {
  x: Range;
  y: Range;
  z: Range;
  t?: Range;
}
/** A validated cutout box: half-open ranges at resolution `res`. */
export interface Box {
  res: number;
  x: Range;
  y: Range;
  z: Range;
  t: Range;
}

/**
 * Storage block: the Boss's cuboid (512x512x16), so a POST of one whole cuboid is adopted as its
 * block without a copy. With 128x128x16 blocks every cuboid was copied in 128-byte rows into 16
 * blocks (about 12 ms a cuboid on the bench's cores, 0.8 of the emulator's 3.4 CPU-s per 256 MiB,
 * taken from the worker it is measured against).
 */
const BX = 512;
const BY = 512;
const BZ = 16;

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const VOXEL_UNITS = ['nanometers', 'micrometers', 'millimeters', 'centimeters'];
const TIME_UNITS = ['nanoseconds', 'microseconds', 'milliseconds', 'seconds'];

type Body = Record<string, unknown>;

function field<T>(body: Body, key: string, check: (v: unknown) => boolean, what: string, dflt?: T): T {
  const v = body[key];
  if (v === undefined || (v === null && dflt === null)) {
    if (dflt === undefined) throw bad(`${key} is required`);
    return dflt;
  }
  if (!check(v)) throw bad(`${key} must be ${what}`);
  return v as T;
}
const isInt = (min: number) => (v: unknown) => Number.isSafeInteger(v) && (v as number) >= min;
const isPositive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
const isStr = (v: unknown) => typeof v === 'string';
const isBool = (v: unknown) => typeof v === 'boolean';
const oneOf = (values: string[]) => (v: unknown) => values.includes(v as string);
const isNames = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');

function checkName(kind: string, name: string, body: Body): void {
  if (!NAME.test(name)) throw bad(`${kind} name '${name}' must match [A-Za-z0-9_-]{1,255}`);
  if (body.name !== undefined && body.name !== name) throw bad(`name in the body does not match the URL`);
}

export class BossModel {
  readonly coords = new Map<string, CoordFrame>();
  readonly collections = new Map<string, CollectionNode>();

  coord(name: string): CoordFrame {
    const frame = this.coords.get(name);
    if (!frame) throw notFound(`Coordinate frame ${name} not found`);
    return frame;
  }
  collection(coll: string): CollectionNode {
    const node = this.collections.get(coll);
    if (!node) throw notFound(`Collection ${coll} not found`);
    return node;
  }
  experiment(coll: string, exp: string): ExperimentNode {
    const node = this.collection(coll).experiments.get(exp);
    if (!node) throw notFound(`Experiment ${exp} not found in collection ${coll}`);
    return node;
  }
  channel(coll: string, exp: string, chan: string): ChannelNode {
    const node = this.experiment(coll, exp).channels.get(chan);
    if (!node) throw notFound(`Channel ${chan} not found in experiment ${coll}/${exp}`);
    return node;
  }

  createCollection(name: string, body: Body = {}): Collection {
    checkName('Collection', name, body);
    if (this.collections.has(name)) throw bad(`Collection ${name} already exists`);
    const fields: Collection = {
      name,
      description: field(body, 'description', isStr, 'a string', ''),
      public: field(body, 'public', isBool, 'a boolean', false),
    };
    this.collections.set(name, { fields, experiments: new Map() });
    return fields;
  }

  createCoordFrame(name: string, body: Body): CoordFrame {
    checkName('Coordinate frame', name, body);
    if (this.coords.has(name)) throw bad(`Coordinate frame ${name} already exists`);
    const extent = (axis: string): [number, number] => {
      const start = field<number>(body, `${axis}_start`, isInt(0), 'an integer >= 0');
      const stop = field<number>(body, `${axis}_stop`, isInt(0), 'an integer >= 0');
      if (stop <= start) throw bad(`${axis}_stop must be greater than ${axis}_start`);
      return [start, stop];
    };
    const [x_start, x_stop] = extent('x');
    const [y_start, y_stop] = extent('y');
    const [z_start, z_stop] = extent('z');
    const size = (key: string) => field<number>(body, key, isPositive, 'a positive number', 1);
    const frame: CoordFrame = {
      name,
      description: field(body, 'description', isStr, 'a string', ''),
      x_start,
      x_stop,
      y_start,
      y_stop,
      z_start,
      z_stop,
      x_voxel_size: size('x_voxel_size'),
      y_voxel_size: size('y_voxel_size'),
      z_voxel_size: size('z_voxel_size'),
      voxel_unit: field(body, 'voxel_unit', oneOf(VOXEL_UNITS), VOXEL_UNITS.join('|'), 'nanometers'),
    };
    this.coords.set(name, frame);
    return frame;
  }

  createExperiment(coll: string, name: string, body: Body): Experiment {
    const parent = this.collections.get(coll);
    if (!parent) throw bad(`Collection ${coll} does not exist`);
    checkName('Experiment', name, body);
    if (parent.experiments.has(name)) throw bad(`Experiment ${name} already exists in ${coll}`);
    const coordFrame = field<string>(body, 'coord_frame', isStr, 'a coordinate frame name');
    if (!this.coords.has(coordFrame)) throw bad(`Coordinate frame ${coordFrame} does not exist`);
    const fields: Experiment = {
      name,
      description: field(body, 'description', isStr, 'a string', ''),
      coord_frame: coordFrame,
      num_hierarchy_levels: field(body, 'num_hierarchy_levels', isInt(1), 'an integer >= 1', 1),
      hierarchy_method: field(
        body,
        'hierarchy_method',
        oneOf(['anisotropic', 'isotropic']),
        'anisotropic|isotropic',
        'anisotropic',
      ),
      num_time_samples: field(body, 'num_time_samples', isInt(1), 'an integer >= 1', 1),
      time_step: field<number | null>(body, 'time_step', isPositive, 'a positive number', null),
      time_step_unit: field<string | null>(
        body,
        'time_step_unit',
        oneOf(TIME_UNITS),
        TIME_UNITS.join('|'),
        null,
      ),
      public: field(body, 'public', isBool, 'a boolean', false),
    };
    parent.experiments.set(name, { fields, channels: new Map() });
    return fields;
  }

  createChannel(coll: string, exp: string, name: string, body: Body): Channel {
    const parent = this.collections.get(coll)?.experiments.get(exp);
    if (!parent) throw bad(`Experiment ${coll}/${exp} does not exist`);
    checkName('Channel', name, body);
    if (parent.channels.has(name)) throw bad(`Channel ${name} already exists in ${coll}/${exp}`);
    if (body.datatype === 'uint32') throw bad('datatype uint32 is not supported by the storage layer');
    const fields: Channel = {
      name,
      description: field(body, 'description', isStr, 'a string', ''),
      type: field(body, 'type', oneOf(['image', 'annotation']), 'image|annotation', 'image'),
      datatype: field(body, 'datatype', oneOf(Object.keys(BYTES)), 'uint8|uint16|uint64'),
      base_resolution: field(body, 'base_resolution', isInt(0), 'an integer >= 0', 0),
      default_time_sample: field(body, 'default_time_sample', isInt(0), 'an integer >= 0', 0),
      sources: [...field<string[]>(body, 'sources', isNames, 'a list of channel names', [])],
      related: [...field<string[]>(body, 'related', isNames, 'a list of channel names', [])],
      public: field(body, 'public', isBool, 'a boolean', false),
      storage_type: field(body, 'storage_type', oneOf(['spdb', 'cloudvol']), 'spdb|cloudvol', 'spdb'),
      downsample_status: 'NOT_DOWNSAMPLED',
    };
    if (fields.base_resolution >= parent.fields.num_hierarchy_levels)
      throw bad('base_resolution must be below the experiment num_hierarchy_levels');
    if (fields.default_time_sample >= parent.fields.num_time_samples)
      throw bad('default_time_sample must be below the experiment num_time_samples');
    for (const other of [...fields.sources, ...fields.related])
      if (!parent.channels.has(other)) throw bad(`Channel ${other} (sources/related) does not exist`);
    parent.channels.set(name, { fields, blocks: new Map() });
    return fields;
  }

  /**
   * Validates resolution and ranges as the Boss does: reads at base_resolution <= res < base +
   * num_hierarchy_levels (else 400/1002); writes only at base or base + 1 (else the storage layer's
   * 400/9001 "Resolution Mismatch"); the ranges against the coordinate frame at resolution 0,
   * whatever `res` (400/1001).
   */
  box(coll: string, exp: string, chan: string, res: number, ranges: Ranges, write = false): Box {
    const { x, y, z, t } = ranges;
    const experiment = this.experiment(coll, exp).fields;
    const channel = this.channel(coll, exp, chan).fields;
    const frame = this.coord(experiment.coord_frame);
    const base = channel.base_resolution;
    if (!Number.isInteger(res) || res < base || res >= base + experiment.num_hierarchy_levels)
      throw badResolution(
        `Invalid resolution ${res}: base_resolution ${base}, num_hierarchy_levels ${experiment.num_hierarchy_levels}`,
      );
    const check = (axis: string, r: Range, lo: number, hi: number) => {
      if (!(
        Number.isSafeInteger(r[0]) &&
        Number.isSafeInteger(r[1]) &&
        r[0] < r[1] &&
        r[0] >= lo &&
        r[1] <= hi
      ))
        throw outOfRange(`${axis} range ${r[0]}:${r[1]} is empty or outside ${lo}:${hi}`);
    };
    check('x', x, frame.x_start, frame.x_stop);
    check('y', y, frame.y_start, frame.y_stop);
    check('z', z, frame.z_start, frame.z_stop);
    const time: Range = t ?? [channel.default_time_sample, channel.default_time_sample + 1];
    // The server's own check is lenient by one.
    check('time', time, 0, experiment.num_time_samples + 1);
    if (write && res !== base && res !== base + 1) throw storageFailure('Resolution Mismatch');
    return { res, x, y, z, t: time };
  }

  /**
   * Copies between a (t, z, y, x) buffer of the box and the channel's blocks. A write stores only
   * non-zero voxels over stored data; on a uint64 `image` channel it drops blocks that hold data.
   * `adopt`: the caller hands `data` over (a decoded request body), so a write of exactly one new
   * block keeps it as the block.
   */
  transfer(
    coll: string,
    exp: string,
    chan: string,
    box: Box,
    data: Uint8Array,
    write: boolean,
    adopt = false,
  ): void {
    const node = this.channel(coll, exp, chan);
    const bpv = BYTES[node.fields.datatype];
    const dropsRewrites = node.fields.datatype === 'uint64' && node.fields.type === 'image';
    const [x0, x1] = box.x;
    const [y0, y1] = box.y;
    const [z0, z1] = box.z;
    const [nx, ny, nz] = [x1 - x0, y1 - y0, z1 - z0];
    const blockBytes = BX * BY * BZ * bpv;
    // No copy and no garbage: 4 MiB per cuboid made the emulator the bottleneck of a write bench.
    const oneBlock =
      adopt &&
      write &&
      box.t[1] - box.t[0] === 1 &&
      x0 % BX === 0 &&
      y0 % BY === 0 &&
      z0 % BZ === 0 &&
      nx === BX &&
      ny === BY &&
      nz === BZ &&
      data.byteOffset === 0 &&
      data.buffer.byteLength === blockBytes;
    if (oneBlock) {
      const key = `${box.res}/${box.t[0]}/${x0 / BX}/${y0 / BY}/${z0 / BZ}`;
      if (!node.blocks.has(key)) {
        node.blocks.set(key, data);
        return;
      }
    }
    for (let t = box.t[0]; t < box.t[1]; t++)
      for (let bz = Math.floor(z0 / BZ); bz * BZ < z1; bz++)
        for (let by = Math.floor(y0 / BY); by * BY < y1; by++)
          for (let bx = Math.floor(x0 / BX); bx * BX < x1; bx++) {
            const key = `${box.res}/${t}/${bx}/${by}/${bz}`;
            let block = node.blocks.get(key);
            // A fresh block is all zero, so copying into it equals merging.
            const fresh = !block;
            if (!block) {
              if (!write) continue; // never written: the read buffer is already zero
              block = new Uint8Array(blockBytes);
              node.blocks.set(key, block);
            } else if (write && dropsRewrites) continue;
            const xs = Math.max(x0, bx * BX);
            const rowBytes = (Math.min(x1, (bx + 1) * BX) - xs) * bpv;
            // Rows as wide as the block and the box are contiguous in both: copy them as one run.
            const ya = Math.max(y0, by * BY);
            const yb = Math.min(y1, (by + 1) * BY);
            const whole = rowBytes === BX * bpv && rowBytes === nx * bpv;
            const [step, run] = whole ? [yb - ya, (yb - ya) * rowBytes] : [1, rowBytes];
            for (let z = Math.max(z0, bz * BZ); z < Math.min(z1, (bz + 1) * BZ); z++)
              for (let y = ya; y < yb; y += step) {
                const b = (((z - bz * BZ) * BY + (y - by * BY)) * BX + (xs - bx * BX)) * bpv;
                const d = ((((t - box.t[0]) * nz + (z - z0)) * ny + (y - y0)) * nx + (xs - x0)) * bpv;
                if (!write) data.set(block.subarray(b, b + run), d);
                else if (fresh) block.set(data.subarray(d, d + run), b);
                else mergeNonZero(block, b, data, d, run, bpv);
              }
          }
  }

  datatype(coll: string, exp: string, chan: string): Datatype {
    return this.channel(coll, exp, chan).fields.datatype;
  }
}

/** Copies the non-zero voxels of a row: the Boss never overwrites stored data with 0. */
function mergeNonZero(
  block: Uint8Array,
  b: number,
  data: Uint8Array,
  d: number,
  rowBytes: number,
  bpv: number,
): void {
  for (let i = 0; i < rowBytes; i += bpv) {
    let zero = true;
    for (let k = 0; k < bpv; k++) if (data[d + i + k] !== 0) zero = false;
    if (!zero) for (let k = 0; k < bpv; k++) block[b + i + k] = data[d + i + k]!;
  }
}

export function boxBytes(box: Box, datatype: Datatype): number {
  const span = (r: Range) => r[1] - r[0];
  return span(box.x) * span(box.y) * span(box.z) * span(box.t) * BYTES[datatype];
}

export function typed(bytes: Uint8Array, datatype: Datatype): VoxelArray {
  const n = bytes.byteLength / BYTES[datatype];
  if (datatype === 'uint8') return bytes;
  if (datatype === 'uint16') return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  return new BigUint64Array(bytes.buffer, bytes.byteOffset, n);
}
