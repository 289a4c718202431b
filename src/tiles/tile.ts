/** A decoded 2-D grey image, and the errors that make one unusable. */

export type TileDatatype = 'uint8' | 'uint16';

export interface Tile {
  width: number;
  height: number;
  datatype: TileDatatype;
  /** Row-major, width * height samples. */
  data: Uint8Array | Uint16Array;
}

export { TileError } from '../errors.js';

export { isTransient } from '../errors.js';

/** Crops a tile to [x0, x1) x [y0, y1) of its own pixel coordinates. */
export function cropTile(tile: Tile, x0: number, y0: number, x1: number, y1: number): Tile {
  const width = x1 - x0;
  const height = y1 - y0;
  const data = tile.datatype === 'uint8' ? new Uint8Array(width * height) : new Uint16Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (y0 + y) * tile.width + x0;
    data.set(tile.data.subarray(from, from + width), y * width);
  }
  return { width, height, datatype: tile.datatype, data };
}
