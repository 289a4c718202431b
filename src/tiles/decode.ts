/**
 * Decodes PNG, TIFF and JPEG files to exact grey samples with sharp (libvips, which decodes on its own
 * threads). sharp expands grey images to RGB and reduces 16-bit samples unless told otherwise,
 * so each case is asked for explicitly and anything that is not plain grey is refused, unless the
 * config says how to make it grey: pick one channel, or convert colour to grey.
 */
import { access } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { isTransient, TileError, type Tile } from './tile.js';

export const IMAGE_FILETYPES = ['png', 'tif', 'tiff', 'jpg', 'jpeg'] as const;

/** What to do with an image of several channels; by default it is an error. */
export interface GreyOptions {
  /** Take this channel (0 red, 1 green, 2 blue, 3 alpha; 0 grey, 1 alpha): exact. */
  channel?: number;
  /** libvips's colour to grey conversion (weighted sum of the channels, alpha dropped): lossy. */
  colourToGrey?: boolean;
}

/** Colour spaces whose channels are the samples as stored, so a channel can be picked exactly. */
const PICKABLE = new Set(['b-w', 'grey16', 'srgb', 'rgb16']);

/** Decodes the image in `file`, or in `bytes` when given (fetched from a URL; `file` names it). */
export async function decodeGreyImage(
  file: string,
  options: GreyOptions = {},
  bytes?: Buffer,
): Promise<Tile> {
  if (!bytes) {
    try {
      await access(file);
    } catch (err) {
      if (isTransient(err)) throw err;
      throw new TileError(file, 'file not found');
    }
  }
  const input = bytes ?? file;
  try {
    const meta = await sharp(input).metadata();
    const sixteen = meta.depth === 'ushort';
    if (meta.depth !== 'uchar' && !sixteen) {
      throw new TileError(
        file,
        `has ${meta.depth} samples; boss-ingest reads 8-bit and 16-bit unsigned grey images`,
      );
    }
    const grey = sixteen ? 'grey16' : 'b-w';
    let image: Sharp;
    if (options.channel !== undefined) {
      const channels = meta.channels ?? 1;
      if (options.channel >= channels) {
        throw new TileError(
          file,
          `has ${channels} channel(s), so tile_processor params channel ${options.channel} does not exist`,
        );
      }
      if (!PICKABLE.has(meta.space ?? '')) {
        throw new TileError(
          file,
          `is a ${meta.space} image; a channel can be picked from grey and RGB images only`,
        );
      }
      // Extraction works in the colour space it is given, so keep the file's own (and its depth).
      const space = meta.space === 'b-w' || meta.space === 'grey16' ? grey : sixteen ? 'rgb16' : 'srgb';
      image = sharp(input)
        .toColourspace(space)
        .extractChannel(options.channel as 0 | 1 | 2 | 3);
    } else if (meta.channels !== 1 && options.colourToGrey) {
      image = sharp(input).removeAlpha().toColourspace(grey);
    } else if (meta.channels !== 1) {
      const what = meta.hasAlpha ? 'has an alpha channel' : 'is a colour image';
      throw new TileError(
        file,
        `${what} (${meta.channels} channels, ${meta.space}); boss-ingest reads grey images only ` +
          '(tile_processor params "channel": N picks one channel, "colour_to_grey": true converts)',
      );
    } else {
      image = sixteen ? sharp(input).toColourspace(grey) : sharp(input).extractChannel(0);
    }
    const { data, info } = await image
      .raw(sixteen ? { depth: 'ushort' } : {})
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 1) throw new TileError(file, `decoded to ${info.channels} channels, not 1`);
    if (!sixteen) {
      return {
        width: info.width,
        height: info.height,
        datatype: 'uint8',
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      };
    }
    // A Buffer from sharp may start at an odd offset; copy so the samples can be viewed as uint16.
    const samples = new Uint16Array(info.width * info.height);
    new Uint8Array(samples.buffer).set(data.subarray(0, samples.byteLength));
    return { width: info.width, height: info.height, datatype: 'uint16', data: samples };
  } catch (err) {
    if (err instanceof TileError || isTransient(err)) throw err;
    throw new TileError(file, `cannot be decoded: ${(err as Error).message}`);
  }
}
