/** An image handed over row by row, top to bottom: how a z-index slice feeds the chunks it covers. */
import type { Tile, TileDatatype } from './tile.js';

export interface RowStream {
  width: number;
  height: number;
  datatype: TileDatatype;
  /**
   * Hands the next `count` rows to `onRow` (the samples of one row, a view valid during the call
   * only), in order. Throws TileError when the file turns out corrupt or ends early.
   */
  rows(count: number, onRow: (row: Uint8Array | Uint16Array) => void): Promise<void>;
  close(): Promise<void>;
}

/** The rows of an image decoded whole; `oneRow`: `tile.data` is one row, repeated. */
export function tileRows(tile: Tile, oneRow = false): RowStream {
  let next = 0;
  return {
    width: tile.width,
    height: tile.height,
    datatype: tile.datatype,
    async rows(count, onRow) {
      if (next + count > tile.height)
        throw new RangeError(`rows ${next}+${count} of a ${tile.height}-row image`);
      for (const end = next + count; next < end; next++)
        onRow(oneRow ? tile.data : tile.data.subarray(next * tile.width, (next + 1) * tile.width));
    },
    async close() {},
  };
}

/** Rows of zeros: a slice that could not be read, where the config says to go on without it. */
export function blankRows(width: number, height: number): RowStream {
  return tileRows({ width, height, datatype: 'uint8', data: new Uint8Array(width) }, true);
}
