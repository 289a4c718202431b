/**
 * Chunk compression for the Zarr v3 codec chain (`bytes`, then an optional compressor). Blosc
 * frames are written natively (blosc.ts, their LZ4 blocks compressed on libuv's threads) and read
 * natively when their blocks are LZ4; zstd and other blosc codecs use the wasm codecs, on the
 * calling thread, which is why chunks are encoded in the chunk thread pool.
 */
import type { Compressor } from '../config/types.js';
import { inPhaseAsync } from '../metrics/phases.js';
import type { ZarrCodec } from './zarr-metadata.js';
import { BLOSC_CLEVEL, decodeBloscNative, encodeBloscLz4, encodeBloscLz4Parts } from './blosc.js';

interface Codec {
  encode(data: Uint8Array): Promise<Uint8Array>;
  decode(data: Uint8Array): Promise<Uint8Array>;
}

// lz4 without shuffle: shuffling pays for wide samples of smooth data, not for uint8/uint16
// microscopy, and encode time is the hot path. The level sets LZ4's acceleration (blosc.ts).
const BLOSC = { cname: 'lz4', clevel: BLOSC_CLEVEL, shuffle: 0, blocksize: 0 } as const;
const ZSTD = { level: 3 } as const;

let codecs: Promise<Record<Compressor, Codec>> | undefined;

async function load(): Promise<Record<Compressor, Codec>> {
  const { Blosc, Zstd } = await import('numcodecs');
  const identity: Codec = { encode: async (d) => d, decode: async (d) => d };
  return { none: identity, blosc: Blosc.fromConfig(BLOSC), zstd: Zstd.fromConfig(ZSTD) };
}

/** The encoded chunk as buffers to write one after the other (blosc's stored frames spare a copy). */
export function encodeChunkParts(compressor: Compressor, data: Uint8Array): Promise<Uint8Array[]> {
  return inPhaseAsync('compress', async () =>
    compressor === 'blosc' ? await encodeBloscLz4Parts(data) : [await encodeChunk(compressor, data)],
  );
}

export async function encodeChunk(compressor: Compressor, data: Uint8Array): Promise<Uint8Array> {
  if (compressor === 'blosc') return encodeBloscLz4(data);
  codecs ??= load();
  return (await codecs)[compressor].encode(data);
}

export async function decodeChunk(compressor: Compressor, data: Uint8Array): Promise<Uint8Array> {
  if (compressor === 'blosc') {
    const native = decodeBloscNative(data);
    if (native) return native;
  }
  codecs ??= load();
  return (await codecs)[compressor].decode(data);
}

/** The codec chain as Zarr v3 metadata. Samples are little-endian, as they are in memory here. */
export function zarrCodecs(compressor: Compressor, bytesPerVoxel: number): ZarrCodec[] {
  const bytes = { name: 'bytes', configuration: { endian: 'little' } } satisfies ZarrCodec;
  switch (compressor) {
    case 'none':
      return [bytes];
    case 'zstd':
      return [
        bytes,
        { name: 'zstd', configuration: { level: ZSTD.level, checksum: false } } satisfies ZarrCodec,
      ];
    case 'blosc':
      return [
        bytes,
        {
          name: 'blosc',
          configuration: {
            cname: BLOSC.cname,
            clevel: BLOSC.clevel,
            shuffle: 'noshuffle',
            typesize: bytesPerVoxel,
            blocksize: 0,
          },
        } satisfies ZarrCodec,
      ];
  }
}
