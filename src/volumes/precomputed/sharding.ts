/**
 * Chunk lookup in neuroglancer's sharded format (neuroglancer_uint64_sharded_v1): a chunk's id
 * is the compressed Morton code of its grid position; its hash picks a shard file and a minishard
 * in it; the shard's index locates the minishard's index, which lists the chunk's bytes.
 * Indexes are cached, so a box reads each index once and then only the chunks' byte ranges.
 */
import { gunzipSync } from 'node:zlib';
import type { ObjectStore } from '../../objects/store.js';
import type { Xyz } from '../volume.js';
import type { ShardingSpec } from './info.js';
import { murmurHash64Low } from './murmurhash.js';

/** Interleaves the bits of the grid position, x first, each axis using only the bits its grid size needs. */
export function compressedMortonCode(position: Xyz, gridSize: Xyz): bigint {
  const bits = (n: number) => Math.ceil(Math.log2(Math.max(n, 1)));
  const axes = [
    { v: BigInt(position.x), bits: bits(gridSize.x) },
    { v: BigInt(position.y), bits: bits(gridSize.y) },
    { v: BigInt(position.z), bits: bits(gridSize.z) },
  ];
  const maxBits = Math.max(...axes.map((a) => a.bits));
  let code = 0n;
  let j = 0n;
  for (let i = 0; i < maxBits; i++) {
    for (const a of axes) {
      if (i < a.bits) {
        code |= ((a.v >> BigInt(i)) & 1n) << j;
        j++;
      }
    }
  }
  return code;
}

export interface ShardLocation {
  /** The shard file's key relative to the scale's directory. */
  file: string;
  minishard: number;
}

export function shardLocation(spec: ShardingSpec, chunkId: bigint): ShardLocation {
  const shifted = chunkId >> BigInt(spec.preshiftBits);
  const hashed = spec.hash === 'identity' ? shifted : murmurHash64Low(shifted);
  const minishard = Number(hashed & ((1n << BigInt(spec.minishardBits)) - 1n));
  const shard = (hashed >> BigInt(spec.minishardBits)) & ((1n << BigInt(spec.shardBits)) - 1n);
  const digits = Math.ceil(spec.shardBits / 4);
  return { file: `${shard.toString(16).padStart(digits, '0')}.shard`, minishard };
}

interface MinishardEntry {
  offset: bigint;
  size: bigint;
}

/** A problem with the shard files themselves, named by the caller. */
export class ShardFormatError extends Error {}

export class ShardReader {
  /** Per shard file: its minishards' indexes (undefined: the shard file does not exist). */
  private readonly minishards = new Map<string, Promise<Map<bigint, MinishardEntry> | undefined>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly dir: string,
    private readonly spec: ShardingSpec,
  ) {}

  private get indexBytes(): number {
    return 16 * 2 ** this.spec.minishardBits;
  }

  private decode(bytes: Uint8Array, encoding: 'raw' | 'gzip'): Uint8Array {
    return encoding === 'gzip' ? new Uint8Array(gunzipSync(bytes)) : bytes;
  }

  private async loadMinishard(
    file: string,
    minishard: number,
  ): Promise<Map<bigint, MinishardEntry> | undefined> {
    const key = `${this.dir}/${file}`;
    const slot = await this.store.getRange(key, { offset: 16 * minishard, length: 16 });
    if (!slot) return undefined;
    const view = new DataView(slot.buffer, slot.byteOffset, 16);
    const start = view.getBigUint64(0, true);
    const end = view.getBigUint64(8, true);
    const entries = new Map<bigint, MinishardEntry>();
    if (end === start) return entries;
    if (end < start)
      throw new ShardFormatError(
        `${this.store.where(key)}: minishard ${minishard} index ends before it starts`,
      );
    const raw = await this.store.getRange(key, {
      offset: this.indexBytes + Number(start),
      length: Number(end - start),
    });
    if (!raw) throw new ShardFormatError(`${this.store.where(key)}: vanished while being read`);
    const index = this.decode(raw, this.spec.minishardIndexEncoding);
    if (index.byteLength % 24 !== 0) {
      throw new ShardFormatError(
        `${this.store.where(key)}: minishard ${minishard} index is ${index.byteLength} bytes, not a multiple of 24`,
      );
    }
    const n = index.byteLength / 24;
    const words = new DataView(index.buffer, index.byteOffset, index.byteLength);
    const word = (i: number) => words.getBigUint64(8 * i, true);
    let id = 0n;
    let offset = 0n;
    for (let i = 0; i < n; i++) {
      id += word(i);
      offset += word(n + i);
      const size = word(2 * n + i);
      entries.set(id, { offset, size });
      offset += size;
    }
    return entries;
  }

  /** The chunk's bytes (data_encoding removed), or undefined when the chunk is not stored. */
  async read(chunkId: bigint): Promise<{ bytes?: Uint8Array; where: string }> {
    const { file, minishard } = shardLocation(this.spec, chunkId);
    const cacheKey = `${file}#${minishard}`;
    let index = this.minishards.get(cacheKey);
    if (!index) {
      index = this.loadMinishard(file, minishard);
      this.minishards.set(cacheKey, index);
      index.catch(() => this.minishards.delete(cacheKey));
    }
    const key = `${this.dir}/${file}`;
    const where = `${this.store.where(key)} (chunk ${chunkId})`;
    const entry = (await index)?.get(chunkId);
    if (!entry) return { where };
    const bytes = await this.store.getRange(key, {
      offset: this.indexBytes + Number(entry.offset),
      length: Number(entry.size),
    });
    if (!bytes) throw new ShardFormatError(`${where}: shard file vanished while being read`);
    return { bytes: this.decode(bytes, this.spec.dataEncoding), where };
  }
}
