/**
 * PNG tiles of 8 or 16-bit samples. Grey ones, not interlaced, are decoded by our libdeflate
 * addon (png-grey.c), the rest (colour to pick a channel from, interlaced) by @napi-rs/image
 * (Rust's png crate), as grey ones are where the addon could not be built: both lossless, so
 * exact. On the bench's 512x512 tiles, one thread: 290 MiB/s of samples through the addon, 224
 * through @napi-rs/image, both several times libvips through sharp. The header is read first so
 * that one decode gives the samples as stored; what neither covers (palettes, 1-4 bit samples,
 * transparency chunks, converting colour to grey) is left to sharp.
 */
import { Transformer } from '@napi-rs/image';
import { placeArguments, placedTile, TileError, type Tile, type TilePlace } from './tile.js';
import { refuseColour, refuseMissingChannel, type GreyOptions } from './grey.js';
import { nativeAddon } from '../native.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Samples per pixel of each PNG colour type this path decodes: grey, RGB, grey+alpha, RGBA. */
export const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  /** A tRNS chunk: decoders turn it into an alpha channel. */
  transparency: boolean;
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** IHDR, and whether a tRNS chunk comes before the image data; undefined when malformed. */
export function pngHeader(bytes: Uint8Array): PngHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (bytes.length < 33 || view.getUint32(12) !== 0x49484452) return undefined;
  const header: PngHeader = {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: bytes[24]!,
    colourType: bytes[25]!,
    transparency: false,
  };
  for (let at = 8; at + 8 <= bytes.length;) {
    const type = view.getUint32(at + 4);
    if (type === 0x49444154) break; // IDAT
    if (type === 0x74524e53) header.transparency = true; // tRNS
    at += 12 + view.getUint32(at);
  }
  return header;
}

interface PngAddon {
  /**
   * Null for a PNG it does not cover; throws the reason for a damaged one. `data` undefined: the
   * rows were written where the tile was placed (see placeArguments).
   */
  decodeGrey(
    bytes: Uint8Array,
    ...place: ReturnType<typeof placeArguments>
  ): { width: number; height: number; bitDepth: number; data?: Uint8Array } | null;
}

export const nativePng = nativeAddon<PngAddon>(import.meta.url, './png-grey.node');

export type PngDecoder = 'native' | 'napi';

/**
 * The fast path's tile, or undefined when the image is one for sharp. The addon decodes straight
 * where `place` says, when it fits the image (see TilePlace).
 */
export function decodePng(
  file: string,
  bytes: Uint8Array,
  options: GreyOptions,
  decoder: PngDecoder = nativePng ? 'native' : 'napi',
  place?: TilePlace,
): Tile | undefined {
  const header = pngHeader(bytes);
  if (!header) throw new TileError(file, 'cannot be decoded: the PNG has no IHDR header');
  const channels = PNG_CHANNELS[header.colourType];
  const sixteen = header.bitDepth === 16;
  if (channels === undefined || (header.bitDepth !== 8 && !sixteen) || header.transparency) return undefined;
  if (channels !== 1 && options.channel === undefined) {
    if (options.colourToGrey) return undefined;
    const space = header.colourType === 4 ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
    refuseColour(file, channels, header.colourType >= 4, space);
  }
  if (options.channel !== undefined && options.channel >= channels)
    refuseMissingChannel(file, channels, options.channel);

  const grey =
    decoder === 'native' && channels === 1 ? nativePng!.decodeGrey(bytes, ...placeArguments(place)) : null;
  const { width, height } = header;
  if (grey && !grey.data) return placedTile(width, height, sixteen ? 'uint16' : 'uint8');
  const raw = grey?.data ?? new Transformer(bytes).rawPixelsSync();
  const bytesPerSample = sixteen ? 2 : 1;
  if (raw.length !== width * height * channels * bytesPerSample) {
    throw new TileError(file, `cannot be decoded: ${raw.length} bytes of samples for ${width}x${height}`);
  }
  let samples: Uint8Array | Uint16Array;
  if (!sixteen) {
    samples = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  } else if (raw.byteOffset % 2 === 0) {
    samples = new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2);
  } else {
    // Samples come native-endian; a buffer at an odd offset cannot be viewed as uint16.
    samples = new Uint16Array(raw.length / 2);
    new Uint8Array(samples.buffer).set(raw);
  }
  const data = channels === 1 ? samples : strideChannel(samples, channels, options.channel ?? 0);
  return { width, height, datatype: sixteen ? 'uint16' : 'uint8', data };
}

function strideChannel(
  samples: Uint8Array | Uint16Array,
  channels: number,
  channel: number,
): Uint8Array | Uint16Array {
  const n = samples.length / channels;
  const out = samples instanceof Uint16Array ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0, j = channel; i < n; i++, j += channels) out[i] = samples[j]!;
  return out;
}
