/**
 * Decodes PNG, TIFF and JPEG files to exact grey samples with sharp (libvips, which decodes on its own
 * threads). sharp expands grey images to RGB and reduces 16-bit samples unless told otherwise,
 * so each case is asked for explicitly and anything that is not plain grey is refused.
 */
import { access } from 'node:fs/promises';
import sharp from 'sharp';
import { isTransient, TileError, type Tile } from './tile.js';

export const IMAGE_FILETYPES = ['png', 'tif', 'tiff', 'jpg', 'jpeg'] as const;

export async function decodeGreyImage(file: string): Promise<Tile> {
  try {
    await access(file);
  } catch (err) {
    if (isTransient(err)) throw err;
    throw new TileError(file, 'file not found');
  }
  try {
    const meta = await sharp(file).metadata();
    if (meta.channels !== 1) {
      const what = meta.hasAlpha ? 'has an alpha channel' : 'is a colour image';
      throw new TileError(
        file,
        `${what} (${meta.channels} channels, ${meta.space}); boss-ingest reads grey images only`,
      );
    }
    if (meta.depth === 'uchar') {
      const { data, info } = await sharp(file).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      return {
        width: info.width,
        height: info.height,
        datatype: 'uint8',
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      };
    }
    if (meta.depth === 'ushort') {
      const { data, info } = await sharp(file)
        .toColourspace('grey16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      // A Buffer from sharp may start at an odd offset; copy so the samples can be viewed as uint16.
      const samples = new Uint16Array(info.width * info.height);
      new Uint8Array(samples.buffer).set(data.subarray(0, samples.byteLength));
      return { width: info.width, height: info.height, datatype: 'uint16', data: samples };
    }
    throw new TileError(
      file,
      `has ${meta.depth} samples; boss-ingest reads 8-bit and 16-bit unsigned grey images`,
    );
  } catch (err) {
    if (err instanceof TileError || isTransient(err)) throw err;
    throw new TileError(file, `cannot be decoded: ${(err as Error).message}`);
  }
}
