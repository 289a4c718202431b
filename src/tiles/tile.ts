/** A decoded 2-D grey image, and the errors that make one unusable. */
import { isTransient, TileError } from '../errors.js';
import { copyBox, imageBox } from '../extent/box.js';
import { allocate, type VolumeData, type VolumeDatatype } from '../volumes/volume.js';

/** Image stacks give uint8 and uint16; label sources (HDF5) uint32 and uint64 too. */
export type TileDatatype = VolumeDatatype;

export interface Tile {
  width: number;
  height: number;
  datatype: TileDatatype;
  /** Row-major, width * height samples; none when `placed`. */
  data: VolumeData;
  /** The samples were written where the tile processor was asked to place them (see TilePlace). */
  placed?: boolean;
}

/**
 * Where a tile's samples go in the chunk being assembled, when the tile lies inside the chunk's
 * part of the extent: rows of `width` samples of `bytesPerSample` bytes, `rowBytes` apart, the
 * first at byte `start` of `samples`. A decoder that can write them there, for an image of exactly
 * that size and sample width, does and returns the tile `placed`; the row assembler then copies
 * nothing. Anything else (another size, a wider sample) is decoded apart as usual.
 */
export interface TilePlace {
  samples: Uint8Array;
  start: number;
  rowBytes: number;
  width: number;
  height: number;
  bytesPerSample: number;
}

/** A place's fields in the order the native decoders take them after the file's bytes (see addon.h). */
export function placeArguments(
  place: TilePlace | undefined,
): [Uint8Array, number, number, number, number, number] | [] {
  return place
    ? [place.samples, place.start, place.rowBytes, place.width, place.height, place.bytesPerSample]
    : [];
}

/** The tile a decoder wrote where it was placed. */
export function placedTile(width: number, height: number, datatype: 'uint8' | 'uint16'): Tile {
  return {
    width,
    height,
    datatype,
    data: datatype === 'uint16' ? new Uint16Array(0) : new Uint8Array(0),
    placed: true,
  };
}

export { TileError } from '../errors.js';

export { isTransient } from '../errors.js';

/** What to throw when `file` cannot be opened or read: a transient I/O error as it is (retried), else a TileError. */
export function unreadable(file: string, err: unknown): Error {
  if (isTransient(err)) return err as Error;
  const code = (err as NodeJS.ErrnoException).code;
  return new TileError(
    file,
    code === 'ENOENT' ? 'file not found' : `cannot be read: ${(err as Error).message}`,
  );
}

/** Crops a tile to [x0, x1) x [y0, y1) of its own pixel coordinates. */
export function cropTile(tile: Tile, x0: number, y0: number, x1: number, y1: number): Tile {
  const width = x1 - x0;
  const height = y1 - y0;
  const data = allocate(tile.datatype, width * height);
  copyBox(
    sampleBytes(tile.data),
    imageBox([0, tile.width], [0, tile.height]),
    sampleBytes(data),
    imageBox([x0, x1], [y0, y1]),
    data.BYTES_PER_ELEMENT,
  );
  return { width, height, datatype: tile.datatype, data };
}

/** Samples as the bytes they are stored in, for copyBox. */
export function sampleBytes(data: VolumeData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
