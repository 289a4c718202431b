/**
 * Zarr v3 `sharding_indexed`: a shard holds the encoded inner chunks of its region one after the
 * other, then an index of (offset, nbytes) uint64 pairs in C order of the inner chunk grid, then
 * the index's CRC-32C. An inner chunk never written is (2^64-1, 2^64-1) and reads as the fill
 * value. Pure byte work: the destination does the files.
 */
import type { Compressor } from '../config/types.js';
import { ShardError } from '../errors.js';
import type { Box } from '../extent/box.js';
import { wholeChunk, type ChunkCoord, type ChunkShape } from '../extent/grid.js';
import { zarrCodecs } from './codec.js';
export { ShardError };
import { crc32c } from './crc32c.js';
import type { ZarrCodec } from './zarr-metadata.js';

const EMPTY = 0xffffffffffffffffn;
const ENTRY = 16;
const CHECKSUM = 4;

/** The array's codecs when it is sharded: the inner chunks keep the unsharded chain. */
export function shardingCodecs(
  compressor: Compressor,
  bytesPerVoxel: number,
  innerChunkShape: number[],
): ZarrCodec[] {
  return [
    {
      name: 'sharding_indexed',
      configuration: {
        chunk_shape: innerChunkShape,
        codecs: zarrCodecs(compressor, bytesPerVoxel),
        index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'crc32c' }],
        index_location: 'end',
      },
    },
  ];
}

/** How many chunks a shard holds along each axis. */
export function chunksPerShard(shard: ChunkShape, chunk: ChunkShape): ChunkShape {
  return { x: shard.x / chunk.x, y: shard.y / chunk.y, z: shard.z / chunk.z };
}

/** The shard holding an (array) chunk, and the chunk's place in the shard's index. */
export function shardOf(coord: ChunkCoord, per: ChunkShape): { shard: ChunkCoord; inner: number } {
  const shard = {
    t: coord.t,
    z: Math.floor(coord.z / per.z),
    y: Math.floor(coord.y / per.y),
    x: Math.floor(coord.x / per.x),
  };
  const inner =
    ((coord.z - shard.z * per.z) * per.y + (coord.y - shard.y * per.y)) * per.x + (coord.x - shard.x * per.x);
  return { shard, inner };
}

/** The voxels of each inner chunk of the shard at `coord` (in `shard`-shaped units), in index order. */
export function innerChunkBoxes(shard: ChunkShape, inner: ChunkShape, coord: ChunkCoord): Box[] {
  const per = chunksPerShard(shard, inner);
  const boxes: Box[] = [];
  for (let z = 0; z < per.z; z++)
    for (let y = 0; y < per.y; y++)
      for (let x = 0; x < per.x; x++)
        boxes.push(
          wholeChunk(inner, {
            t: coord.t,
            z: coord.z * per.z + z,
            y: coord.y * per.y + y,
            x: coord.x * per.x + x,
          }),
        );
  return boxes;
}

/** An encoded inner chunk: one buffer, or several that follow one another (see encodeChunkParts). */
export type EncodedChunk = Uint8Array | readonly Uint8Array[];

/**
 * A shard from its encoded inner chunks in index order (undefined: never written), as buffers to
 * write one after the other: the chunks' own buffers (not copies), then the index and its
 * checksum. Undefined when none is written, as zarr-python leaves no file for an empty shard.
 */
export function shardParts(chunks: readonly (EncodedChunk | undefined)[]): Uint8Array[] | undefined {
  if (chunks.every((c) => c === undefined)) return undefined;
  const parts: Uint8Array[] = [];
  const indexLength = chunks.length * ENTRY;
  const index = new Uint8Array(indexLength + CHECKSUM);
  const view = new DataView(index.buffer);
  let offset = 0;
  chunks.forEach((chunk, i) => {
    if (chunk === undefined) {
      view.setBigUint64(i * ENTRY, EMPTY, true);
      view.setBigUint64(i * ENTRY + 8, EMPTY, true);
      return;
    }
    const buffers = chunk instanceof Uint8Array ? [chunk] : chunk;
    const length = buffers.reduce((n, b) => n + b.length, 0);
    parts.push(...buffers);
    view.setBigUint64(i * ENTRY, BigInt(offset), true);
    view.setBigUint64(i * ENTRY + 8, BigInt(length), true);
    offset += length;
  });
  view.setUint32(indexLength, crc32c(index.subarray(0, indexLength)), true);
  parts.push(index);
  return parts;
}

/** A shard as one buffer (see shardParts). */
export function encodeShard(chunks: readonly (EncodedChunk | undefined)[]): Uint8Array | undefined {
  const parts = shardParts(chunks);
  if (!parts) return undefined;
  const shard = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    shard.set(part, at);
    at += part.length;
  }
  return shard;
}

/** The encoded inner chunks of a shard holding `count` of them, in index order; checks the index. */
export function decodeShard(shard: Uint8Array, count: number): (Uint8Array | undefined)[] {
  const indexLength = count * ENTRY;
  if (shard.length < indexLength + CHECKSUM)
    throw new ShardError(
      `a shard of ${count} chunks needs at least ${indexLength + CHECKSUM} bytes, it has ${shard.length}`,
    );
  const indexStart = shard.length - indexLength - CHECKSUM;
  const view = new DataView(shard.buffer, shard.byteOffset, shard.byteLength);
  const stored = view.getUint32(shard.length - CHECKSUM, true);
  const computed = crc32c(shard.subarray(indexStart, indexStart + indexLength));
  if (stored !== computed)
    throw new ShardError(
      `the shard index's CRC-32C is ${stored.toString(16)}, its bytes give ${computed.toString(16)}`,
    );
  const chunks: (Uint8Array | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const offset = view.getBigUint64(indexStart + i * ENTRY, true);
    const nbytes = view.getBigUint64(indexStart + i * ENTRY + 8, true);
    if (offset === EMPTY && nbytes === EMPTY) {
      chunks.push(undefined);
      continue;
    }
    if (offset + nbytes > BigInt(indexStart))
      throw new ShardError(`inner chunk ${i} (offset ${offset}, ${nbytes} bytes) lies past the shard's data`);
    chunks.push(shard.subarray(Number(offset), Number(offset + nbytes)));
  }
  return chunks;
}

/**
 * Read-modify-write of a shard: the inner chunks in `updates` (encoded; undefined removes one)
 * replace the existing ones, every other inner chunk is kept byte for byte. The shard as buffers
 * to write one after the other (see shardParts).
 */
export function mergeShard(
  existing: Uint8Array | undefined,
  count: number,
  updates: ReadonlyMap<number, EncodedChunk | undefined>,
): Uint8Array[] | undefined {
  const chunks: (EncodedChunk | undefined)[] = existing
    ? decodeShard(existing, count)
    : new Array<EncodedChunk | undefined>(count).fill(undefined);
  for (const [inner, chunk] of updates) {
    if (!Number.isInteger(inner) || inner < 0 || inner >= count)
      throw new RangeError(`inner chunk ${inner} is outside a shard of ${count} chunks`);
    chunks[inner] = chunk;
  }
  return shardParts(chunks);
}
