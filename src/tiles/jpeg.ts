/**
 * Grey JPEG tiles decoded once, by libjpeg-turbo with its default settings, as Pillow decodes them:
 * through our addon (jpeg-grey.c) on the calling thread where it was built, else through sharp.
 * On the bench's 512x512 tiles the addon takes 1.9 ms a tile against sharp's 4.2 ms, the same
 * samples. Through sharp, asking libvips for b-w keeps the single channel as it is; extracting a
 * channel instead makes it convert to sRGB and back, which costs a third of the time. Colour JPEGs
 * are left to the general path.
 */
import sharp from 'sharp';
import type { GreyOptions } from './grey.js';
import { placeArguments, placedTile, type Tile, type TilePlace } from './tile.js';
import { nativeAddon } from '../native.js';

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic). */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** The frame header's sample precision and component count; undefined before a scan or at a malformed marker. */
export function jpegFrame(bytes: Uint8Array): { precision: number; components: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return undefined; // scan or end before any frame
    if (SOF.has(marker)) {
      if (at + 10 > bytes.length) return undefined;
      return { precision: bytes[at + 4]!, components: bytes[at + 9]! };
    }
    at += 2 + view.getUint16(at + 2);
  }
  return undefined;
}

interface JpegAddon {
  /**
   * Throws libjpeg's message on an error and on any warning (corrupt or truncated data). `data`
   * undefined: the rows were written where the tile was placed (see placeArguments).
   */
  decodeGrey(
    bytes: Uint8Array,
    ...place: ReturnType<typeof placeArguments>
  ): { width: number; height: number; data?: Uint8Array };
}

export const nativeJpeg = nativeAddon<JpegAddon>(import.meta.url, './jpeg-grey.node');

export type JpegDecoder = 'native' | 'sharp';

/** The tile of an 8-bit one-component JPEG, or undefined when the image is one for the general path. */
export async function decodeGreyJpeg(
  bytes: Uint8Array,
  options: GreyOptions,
  decoder: JpegDecoder = nativeJpeg ? 'native' : 'sharp',
  place?: TilePlace,
): Promise<Tile | undefined> {
  const frame = jpegFrame(bytes);
  if (frame?.precision !== 8 || frame.components !== 1) return undefined;
  if (options.channel !== undefined && options.channel !== 0) return undefined;
  if (decoder === 'native') {
    const { width, height, data } = nativeJpeg!.decodeGrey(bytes, ...placeArguments(place));
    if (!data) return placedTile(width, height, 'uint8');
    return {
      width,
      height,
      datatype: 'uint8',
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    };
  }
  const { data, info } = await sharp(bytes).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 1) return undefined;
  return {
    width: info.width,
    height: info.height,
    datatype: 'uint8',
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}
