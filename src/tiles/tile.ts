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
  /** Row-major, width * height samples. */
  data: VolumeData;
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
