/**
 * Neuroglancer precomputed layers as volumes: the original's CloudVolumeChunkProcessor
 * (`cloudpath`, `mip`, `fill_missing`). Reads `info`, then the stored chunks a box overlaps
 * (unsharded files or sharded ones), each once, from any object store. Coordinates are the
 * layer's absolute voxel coordinates at the chosen mip (voxel_offset included).
 */
import { openStore, StoreError, type ObjectStore } from '../../objects/store.js';
import { forEachLimited } from '../parallel.js';
import {
  allocate,
  boxSize,
  checkInside,
  copyVoxels,
  VolumeError,
  type VolumeBox,
  type Volume,
  type VolumeData,
  type VolumeDatatype,
  type Xyz,
} from '../volume.js';
import { decodeChunk } from './chunk-decode.js';
import { parseInfo, type Scale } from './info.js';
import { compressedMortonCode, ShardFormatError, ShardReader } from './sharding.js';

export interface PrecomputedParams {
  location: string;
  mip?: number;
  /** Absent chunks read as zeros instead of failing. */
  fillMissing?: boolean;
}

const AXES = ['x', 'y', 'z'] as const;
const PARALLEL_READS = 8;

interface StoredChunk {
  bytes?: Uint8Array;
  where: string;
}

class PrecomputedVolume implements Volume {
  readonly offset: Xyz;
  readonly size: Xyz;
  readonly chunk: Xyz;
  private readonly shards?: ShardReader;
  /** Whether chunk files were last found with a .gz suffix (CloudVolume's local files). */
  private gzSuffixFirst = false;

  constructor(
    readonly source: string,
    readonly datatype: VolumeDatatype,
    private readonly store: ObjectStore,
    private readonly scale: Scale,
    private readonly fillMissing: boolean,
  ) {
    this.offset = scale.offset;
    this.size = scale.size;
    this.chunk = scale.chunk;
    if (scale.sharding) this.shards = new ShardReader(store, scale.key, scale.sharding);
  }

  private gridSize(): Xyz {
    const s = this.scale;
    return {
      x: Math.ceil(s.size.x / s.chunk.x),
      y: Math.ceil(s.size.y / s.chunk.y),
      z: Math.ceil(s.size.z / s.chunk.z),
    };
  }

  /** The stored chunk at grid position `p` and the voxels it covers. */
  private chunkBox(p: Xyz): VolumeBox {
    const s = this.scale;
    const range = (a: 'x' | 'y' | 'z'): [number, number] => {
      const start = s.offset[a] + p[a] * s.chunk[a];
      return [start, Math.min(start + s.chunk[a], s.offset[a] + s.size[a])];
    };
    return { x: range('x'), y: range('y'), z: range('z') };
  }

  private async readUnsharded(box: VolumeBox): Promise<StoredChunk> {
    const name = `${this.scale.key}/${box.x[0]}-${box.x[1]}_${box.y[0]}-${box.y[1]}_${box.z[0]}-${box.z[1]}`;
    const names = this.gzSuffixFirst ? [`${name}.gz`, name] : [name, `${name}.gz`];
    for (const key of names) {
      const bytes = await this.store.get(key);
      if (bytes) {
        this.gzSuffixFirst = key.endsWith('.gz');
        return { bytes, where: this.store.where(key) };
      }
    }
    return { where: this.store.where(name) };
  }

  private async readChunk(p: Xyz, box: VolumeBox): Promise<StoredChunk> {
    if (!this.shards) return this.readUnsharded(box);
    return this.shards.read(compressedMortonCode(p, this.gridSize()));
  }

  async readBox(box: VolumeBox): Promise<VolumeData> {
    checkInside(this, box);
    const size = boxSize(box);
    const out = allocate(this.datatype, size.x * size.y * size.z);
    const first = {} as Xyz;
    const last = {} as Xyz;
    for (const a of AXES) {
      first[a] = Math.floor((box[a][0] - this.offset[a]) / this.chunk[a]);
      last[a] = Math.floor((box[a][1] - 1 - this.offset[a]) / this.chunk[a]);
    }
    const positions: Xyz[] = [];
    for (let z = first.z; z <= last.z; z++)
      for (let y = first.y; y <= last.y; y++)
        for (let x = first.x; x <= last.x; x++) positions.push({ x, y, z });
    await forEachLimited(positions, PARALLEL_READS, async (p) => {
      const cbox = this.chunkBox(p);
      let stored: StoredChunk;
      try {
        stored = await this.readChunk(p, cbox);
      } catch (err) {
        if (err instanceof StoreError) throw new VolumeError(this.source, err.message, err.transient);
        if (err instanceof ShardFormatError) throw new VolumeError(this.source, err.message);
        throw err;
      }
      if (!stored.bytes) {
        if (this.fillMissing) return;
        throw new VolumeError(
          this.source,
          `chunk ${stored.where} is missing (fill_missing: true reads missing chunks as zeros)`,
        );
      }
      let data: VolumeData;
      try {
        data = await decodeChunk(stored.bytes, this.scale, boxSize(cbox), this.datatype);
      } catch (err) {
        throw new VolumeError(this.source, `chunk ${stored.where}: ${(err as Error).message}`);
      }
      copyVoxels(data, cbox, out, box);
    });
    return out;
  }

  async close(): Promise<void> {}
}

export async function openPrecomputed(params: PrecomputedParams): Promise<Volume> {
  let store: ObjectStore;
  try {
    store = openStore(params.location);
  } catch (err) {
    throw new VolumeError(params.location, (err as Error).message);
  }
  const source = store.root;
  let text: Uint8Array | undefined;
  try {
    text = await store.get('info');
  } catch (err) {
    throw new VolumeError(source, (err as Error).message, err instanceof StoreError && err.transient);
  }
  if (!text)
    throw new VolumeError(source, `no precomputed layer here: ${store.where('info')} does not exist`);
  const info = parseInfo(new TextDecoder().decode(text), source);
  const mip = params.mip ?? 0;
  if (!Number.isInteger(mip) || mip < 0 || mip >= info.scales.length) {
    throw new VolumeError(source, `has mips 0..${info.scales.length - 1}, not ${mip}`);
  }
  return new PrecomputedVolume(source, info.datatype, store, info.scales[mip], params.fillMissing ?? false);
}
