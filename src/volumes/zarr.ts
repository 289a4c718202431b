/**
 * Zarr v2 and v3 arrays, and OME-Zarr groups (0.4 and 0.5), as volumes: the original's
 * ZarrChunkProcessor (`cloud_path`, `volume_name`) from any store (path, file://, http(s)://,
 * s3://), opened read-only. The last three axes are z, y, x; any axis before them must have
 * length 1 (a single time point and channel), so nothing is silently dropped.
 */
import type { AbsolutePath, AsyncReadable, RangeQuery } from '@zarrita/storage';
import * as zarr from 'zarrita';
import { joinKey, openStore, StoreError, type ObjectStore } from '../objects/store.js';
import {
  allocate,
  boxSize,
  checkInside,
  VolumeError,
  type VolumeBox,
  type Volume,
  type VolumeData,
  type VolumeDatatype,
  type Xyz,
} from './volume.js';

export interface ZarrParams {
  /** The array, or a group holding it. */
  location: string;
  /** Path of the array (or OME-Zarr group) inside `location`; omitted: `location` itself. */
  name?: string;
  /** Level of an OME-Zarr multiscale group; default 0 (full resolution). */
  scale?: number;
}

/** Adapts an object store to zarrita's read interface. */
function zarritaStore(store: ObjectStore): AsyncReadable {
  const key = (k: AbsolutePath) => k.slice(1);
  return {
    get: (k) => store.get(key(k)),
    getRange: (k, range: RangeQuery) =>
      store.getRange(key(k), 'suffixLength' in range ? { suffix: range.suffixLength } : range),
  };
}

const DATATYPES: readonly VolumeDatatype[] = ['uint8', 'uint16', 'uint32', 'uint64'];

interface Multiscale {
  datasets: { path: string }[];
  axes?: ({ name: string } | string)[];
}

function multiscales(attrs: Record<string, unknown>): Multiscale[] | undefined {
  const ome = attrs.ome as { multiscales?: Multiscale[] } | undefined;
  return ome?.multiscales ?? (attrs.multiscales as Multiscale[] | undefined);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class ZarrVolume implements Volume {
  readonly offset: Xyz = { x: 0, y: 0, z: 0 };
  readonly size: Xyz;
  readonly chunk: Xyz;
  readonly datatype: VolumeDatatype;

  constructor(
    readonly source: string,
    private readonly array: zarr.Array<zarr.DataType, AsyncReadable>,
  ) {
    const shape = array.shape;
    const chunks = array.chunks;
    const n = shape.length;
    if (n < 2) throw new VolumeError(source, `a ${n}-D array is not an image volume`);
    for (let i = 0; i < n - 3; i++) {
      if (shape[i] !== 1) {
        throw new VolumeError(
          source,
          `axis ${i} of shape [${shape.join(', ')}] has length ${shape[i]}; only z, y, x and length-1 leading axes can be read`,
        );
      }
    }
    const at = (fromEnd: number, v: number[]) => (n - fromEnd >= 0 ? v[n - fromEnd] : 1);
    this.size = { z: at(3, shape), y: at(2, shape), x: at(1, shape) };
    this.chunk = { z: at(3, chunks), y: at(2, chunks), x: at(1, chunks) };
    const dtype = array.dtype as string;
    if (!DATATYPES.includes(dtype as VolumeDatatype)) {
      throw new VolumeError(
        source,
        `datatype ${dtype} cannot be ingested without loss (uint8, uint16, uint32 or uint64 can)`,
      );
    }
    this.datatype = dtype as VolumeDatatype;
  }

  async readBox(box: VolumeBox): Promise<VolumeData> {
    checkInside(this, box);
    const n = this.array.shape.length;
    const selection: (number | zarr.Slice)[] = [];
    for (let i = 0; i < n - 3; i++) selection.push(0);
    if (n >= 3) selection.push(zarr.slice(box.z[0], box.z[1]));
    selection.push(zarr.slice(box.y[0], box.y[1]), zarr.slice(box.x[0], box.x[1]));
    let chunk;
    try {
      chunk = (await zarr.get(this.array, selection)) as zarr.Chunk<zarr.DataType>;
    } catch (err) {
      throw new VolumeError(
        this.source,
        `reading ${describe(err)}`,
        err instanceof StoreError && err.transient,
      );
    }
    return cOrder(chunk, boxSize(box), this.datatype);
  }

  async close(): Promise<void> {}
}

/** zarrita returns the array's own order (F for some v2 arrays): make it z, y, x with x fastest. */
function cOrder(chunk: zarr.Chunk<zarr.DataType>, size: Xyz, datatype: VolumeDatatype): VolumeData {
  const data = chunk.data as VolumeData;
  const [sz, sy, sx] = chunk.stride.length === 3 ? chunk.stride : [0, ...chunk.stride];
  if (sx === 1 && sy === size.x && (size.z === 1 || sz === size.x * size.y)) return data;
  const out = allocate(datatype, size.x * size.y * size.z);
  let i = 0;
  for (let z = 0; z < size.z; z++)
    for (let y = 0; y < size.y; y++)
      for (let x = 0; x < size.x; x++)
        (out as Uint8Array)[i++] = (data as Uint8Array)[z * sz + y * sy + x * sx];
  return out;
}

export async function openZarr(params: ZarrParams): Promise<Volume> {
  const store = openStore(params.location);
  const source = params.name ? `${store.root}/${joinKey(params.name)}` : store.root;
  const top = zarr.root(zarritaStore(store));
  let location = params.name ? top.resolve(joinKey(params.name)) : top;
  let node;
  try {
    node = await zarr.open(location);
  } catch (err) {
    throw new VolumeError(
      source,
      `no Zarr array or group here (${describe(err)})`,
      err instanceof StoreError && err.transient,
    );
  }
  if (node.kind === 'group') {
    const levels = multiscales(node.attrs)?.[0]?.datasets;
    if (!levels?.length) {
      throw new VolumeError(
        source,
        'is a Zarr group without OME-Zarr multiscales; name the array in it (volume_name)',
      );
    }
    const scale = params.scale ?? 0;
    if (!Number.isInteger(scale) || scale < 0 || scale >= levels.length) {
      throw new VolumeError(source, `has scales 0..${levels.length - 1}, not ${scale}`);
    }
    location = location.resolve(levels[scale].path);
    try {
      node = await zarr.open(location, { kind: 'array' });
    } catch (err) {
      throw new VolumeError(source, `scale ${scale} (${levels[scale].path}): ${describe(err)}`);
    }
    return new ZarrVolume(`${source}/${levels[scale].path}`, node);
  }
  if (params.scale !== undefined && params.scale !== 0) {
    throw new VolumeError(source, `is a single array; scale ${params.scale} does not exist`);
  }
  return new ZarrVolume(source, node);
}
