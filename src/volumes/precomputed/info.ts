/** The `info` file of a neuroglancer precomputed layer, checked field by field. */
import { VolumeError, type VolumeDatatype, type Xyz } from '../volume.js';

export type Encoding = 'raw' | 'jpeg' | 'compressed_segmentation';

export interface ShardingSpec {
  preshiftBits: number;
  hash: 'identity' | 'murmurhash3_x86_128';
  minishardBits: number;
  shardBits: number;
  minishardIndexEncoding: 'raw' | 'gzip';
  dataEncoding: 'raw' | 'gzip';
}

export interface Scale {
  key: string;
  size: Xyz;
  offset: Xyz;
  chunk: Xyz;
  encoding: Encoding;
  /** compressed_segmentation only. */
  blockSize?: Xyz;
  sharding?: ShardingSpec;
}

export interface LayerInfo {
  datatype: VolumeDatatype;
  scales: Scale[];
}

const DATATYPES: readonly string[] = ['uint8', 'uint16', 'uint32', 'uint64'];
const ENCODINGS: readonly string[] = ['raw', 'jpeg', 'compressed_segmentation'];

type Json = Record<string, unknown>;

function triple(v: unknown, where: string, source: string, min: number): Xyz {
  if (!Array.isArray(v) || v.length !== 3 || !v.every((n) => Number.isInteger(n) && n >= min)) {
    throw new VolumeError(
      source,
      `info: ${where} must be three integers >= ${min}, not ${JSON.stringify(v)}`,
    );
  }
  return { x: v[0] as number, y: v[1] as number, z: v[2] as number };
}

function sharding(v: unknown, where: string, source: string): ShardingSpec | undefined {
  if (v === undefined || v === null) return undefined;
  const s = v as Json;
  const bits = (k: string) => {
    const n = s[k];
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) > 63) {
      throw new VolumeError(source, `info: ${where}.${k} must be an integer 0..63, not ${JSON.stringify(n)}`);
    }
    return n as number;
  };
  const oneOf = <T extends string>(k: string, allowed: readonly T[], fallback?: T): T => {
    const value = s[k] ?? fallback;
    if (!allowed.includes(value as T)) {
      throw new VolumeError(
        source,
        `info: ${where}.${k} must be one of ${allowed.join(', ')}, not ${JSON.stringify(value)}`,
      );
    }
    return value as T;
  };
  if (s['@type'] !== 'neuroglancer_uint64_sharded_v1') {
    throw new VolumeError(
      source,
      `info: ${where}["@type"] ${JSON.stringify(s['@type'])} is not neuroglancer_uint64_sharded_v1`,
    );
  }
  return {
    preshiftBits: bits('preshift_bits'),
    hash: oneOf('hash', ['identity', 'murmurhash3_x86_128'] as const),
    minishardBits: bits('minishard_bits'),
    shardBits: bits('shard_bits'),
    minishardIndexEncoding: oneOf('minishard_index_encoding', ['raw', 'gzip'] as const, 'raw'),
    dataEncoding: oneOf('data_encoding', ['raw', 'gzip'] as const, 'raw'),
  };
}

export function parseInfo(text: string, source: string): LayerInfo {
  let info: Json;
  try {
    info = JSON.parse(text) as Json;
  } catch (err) {
    throw new VolumeError(source, `info is not JSON: ${(err as Error).message}`);
  }
  if (info.type !== undefined && info.type !== 'image' && info.type !== 'segmentation') {
    throw new VolumeError(
      source,
      `info: type ${JSON.stringify(info.type)} is not an image or segmentation volume`,
    );
  }
  if (info.num_channels !== 1) {
    throw new VolumeError(
      source,
      `info: num_channels is ${JSON.stringify(info.num_channels)}; only single-channel layers can be ingested into one channel`,
    );
  }
  const datatype = info.data_type;
  if (typeof datatype !== 'string' || !DATATYPES.includes(datatype)) {
    throw new VolumeError(
      source,
      `info: data_type ${JSON.stringify(datatype)} cannot be ingested without loss (uint8, uint16, uint32 or uint64 can)`,
    );
  }
  if (!Array.isArray(info.scales) || info.scales.length === 0) {
    throw new VolumeError(source, 'info: scales must be a non-empty list');
  }
  const scales = (info.scales as Json[]).map((s, i): Scale => {
    const where = `scales[${i}]`;
    const encoding = s.encoding;
    if (typeof encoding !== 'string' || !ENCODINGS.includes(encoding)) {
      throw new VolumeError(
        source,
        `info: ${where}.encoding ${JSON.stringify(encoding)} is not one of ${ENCODINGS.join(', ')}`,
      );
    }
    if (encoding === 'jpeg' && datatype !== 'uint8') {
      throw new VolumeError(source, `info: ${where} is jpeg-encoded but data_type is ${datatype}`);
    }
    if (encoding === 'compressed_segmentation' && datatype !== 'uint32' && datatype !== 'uint64') {
      throw new VolumeError(source, `info: ${where} is compressed_segmentation but data_type is ${datatype}`);
    }
    if (typeof s.key !== 'string' || s.key.length === 0) {
      throw new VolumeError(source, `info: ${where}.key must be a non-empty string`);
    }
    const chunks = s.chunk_sizes;
    if (!Array.isArray(chunks) || chunks.length === 0) {
      throw new VolumeError(source, `info: ${where}.chunk_sizes must list at least one chunk size`);
    }
    return {
      key: s.key,
      size: triple(s.size, `${where}.size`, source, 1),
      offset: triple(s.voxel_offset ?? [0, 0, 0], `${where}.voxel_offset`, source, -(2 ** 52)),
      chunk: triple(chunks[0], `${where}.chunk_sizes[0]`, source, 1),
      encoding: encoding as Encoding,
      blockSize:
        encoding === 'compressed_segmentation'
          ? triple(
              s.compressed_segmentation_block_size,
              `${where}.compressed_segmentation_block_size`,
              source,
              1,
            )
          : undefined,
      sharding: sharding(s.sharding, `${where}.sharding`, source),
    };
  });
  return { datatype: datatype as VolumeDatatype, scales };
}
