/**
 * Decodes PNG, TIFF and JPEG files to exact grey samples: the file is read once and decoded once.
 * 8/16-bit PNGs go through png.ts and grey JPEGs through jpeg.ts; everything else (TIFF, colour
 * JPEGs, palettes, converting colour to grey) through sharp (libvips) here. sharp expands grey
 * images to RGB and reduces 16-bit samples unless told otherwise, so each case is asked for
 * explicitly and anything that is not plain grey is refused, unless the config says how to make it
 * grey: pick one channel, or convert colour to grey.
 */
import { stat } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { refuseColour, refuseMissingChannel, type GreyOptions } from './grey.js';
import { decodeGreyJpeg, isJpeg } from './jpeg.js';
import { decodePng, isPng } from './png.js';
import { readLocalFileLent, type LentBytes } from '../objects/local-file.js';
import { inPhaseAsync } from '../metrics/phases.js';
import { isTransient, TileError, unreadable, type Tile, type TilePlace } from './tile.js';

export type { GreyOptions } from './grey.js';

export const IMAGE_FILETYPES = ['png', 'tif', 'tiff', 'jpg', 'jpeg'] as const;

/** Colour spaces whose channels are the samples as stored, so a channel can be picked exactly. */
const PICKABLE = new Set(['b-w', 'grey16', 'srgb', 'rgb16']);

/**
 * Throws what decodeGreyImage would for a file that is not there, without reading it: all an
 * extent's coverage check asks of a tile (plugins/coverage.ts); decoding the probed tiles cost a
 * tile job's plan about 17 ms of its 25 on the bench stack, and a second per 16k section.
 */
export async function probeImageFile(file: string): Promise<void> {
  let found;
  try {
    found = await stat(file);
  } catch (err) {
    throw unreadable(file, err);
  }
  if (!found.isFile()) throw new TileError(file, 'cannot be read: not a file');
}

/**
 * Decodes the image in `file`, or in `bytes` when given (fetched from a URL; `file` names it);
 * grey PNGs and JPEGs straight where `place` says, when it fits them (see TilePlace).
 */
export async function decodeGreyImage(
  file: string,
  options: GreyOptions = {},
  given?: Buffer,
  place?: TilePlace,
): Promise<Tile> {
  let lent: LentBytes | undefined;
  try {
    lent = given ? undefined : await readLocalFileLent(file);
  } catch (err) {
    throw unreadable(file, err);
  }
  // Every decoder is done with the file's bytes when it returns: the samples are its own.
  const bytes = given ?? lent!.bytes;
  try {
    return await inPhaseAsync('decode', async () => {
      const fast = isPng(bytes)
        ? decodePng(file, bytes, options, undefined, place)
        : isJpeg(bytes)
          ? await decodeGreyJpeg(bytes, options, undefined, place)
          : undefined;
      return fast ?? (await decodeWithSharp(file, bytes, options));
    });
  } catch (err) {
    if (err instanceof TileError || isTransient(err)) throw err;
    throw new TileError(file, `cannot be decoded: ${(err as Error).message}`);
  } finally {
    lent?.release();
  }
}

async function decodeWithSharp(file: string, bytes: Buffer, options: GreyOptions): Promise<Tile> {
  const meta = await sharp(bytes).metadata();
  const sixteen = meta.depth === 'ushort';
  if (meta.depth !== 'uchar' && !sixteen) {
    throw new TileError(
      file,
      `has ${meta.depth} samples; boss-ingest reads 8-bit and 16-bit unsigned grey images`,
    );
  }
  const grey = sixteen ? 'grey16' : 'b-w';
  const channels = meta.channels ?? 1;
  let image: Sharp;
  if (options.channel !== undefined) {
    if (options.channel >= channels) refuseMissingChannel(file, channels, options.channel);
    if (!PICKABLE.has(meta.space ?? '')) {
      throw new TileError(
        file,
        `is a ${meta.space} image; a channel can be picked from grey and RGB images only`,
      );
    }
    // Extraction works in the colour space it is given, so keep the file's own (and its depth).
    const space = meta.space === 'b-w' || meta.space === 'grey16' ? grey : sixteen ? 'rgb16' : 'srgb';
    image = sharp(bytes)
      .toColourspace(space)
      .extractChannel(options.channel as 0 | 1 | 2 | 3);
  } else if (channels !== 1 && options.colourToGrey) {
    image = sharp(bytes).removeAlpha().toColourspace(grey);
  } else if (channels !== 1) {
    refuseColour(file, channels, meta.hasAlpha ?? false, meta.space ?? 'unknown');
  } else {
    // A grey image asked for in its own space is passed through as it is.
    image = sharp(bytes).toColourspace(grey);
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
}
