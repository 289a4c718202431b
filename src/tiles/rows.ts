/** An image handed over a band of rows at a time, top to bottom: how a z-index slice feeds its chunks. */
import type { Range } from '../config/types.js';
import type { Tile, TileDatatype } from './tile.js';

export type Samples = Uint8Array | Uint16Array;

/**
 * Where a band's rows go: pixels `x` of each row into `samples`, the band's first row at byte
 * `offset` and each next one `stride` bytes on, samples as wide as the stream's.
 */
export interface RowPlace {
  samples: Uint8Array;
  x: Range;
  offset: number;
  stride: number;
}

export interface RowStream {
  width: number;
  height: number;
  datatype: TileDatatype;
  /**
   * The next `count` rows, row-major: a view valid until the next call. Throws TileError when the
   * file turns out corrupt or ends early.
   */
  rows(count: number): Promise<Samples>;
  /**
   * Where a stream can: the next `count` rows written straight where they go, decoded off this
   * thread, so that a slab's slices decode side by side (png-stream.c).
   */
  rowsInto?(count: number, places: RowPlace[]): Promise<void>;
  close(): Promise<void>;
}

/** A stream is read front to back once: rows past its end are a slab plan's bug, never bad input. */
export function checkRows(next: number, count: number, height: number): void {
  if (next + count > height) throw new RangeError(`rows ${next}+${count} of a ${height}-row image`);
}

/** The rows of an image decoded whole. */
export function tileRows(tile: Tile): RowStream {
  const data = tile.data;
  // Slices are 8 or 16-bit images; only label sources give wider samples, and never as slices.
  if (!(data instanceof Uint8Array || data instanceof Uint16Array))
    throw new RangeError(`a ${tile.datatype} tile cannot feed a z-slab`);
  let next = 0;
  return {
    width: tile.width,
    height: tile.height,
    datatype: tile.datatype,
    async rows(count) {
      checkRows(next, count, tile.height);
      next += count;
      return data.subarray((next - count) * tile.width, next * tile.width);
    },
    async close() {},
  };
}

/** Rows of zeros: a slice that could not be read, where the config says to go on without it. */
export function blankRows(width: number, height: number, datatype: TileDatatype = 'uint8'): RowStream {
  let next = 0;
  let zeros: Samples = new Uint8Array(0);
  return {
    width,
    height,
    datatype,
    async rows(count) {
      checkRows(next, count, height);
      next += count;
      if (zeros.length < count * width)
        zeros = datatype === 'uint16' ? new Uint16Array(count * width) : new Uint8Array(count * width);
      return zeros.subarray(0, count * width);
    },
    async close() {},
  };
}
