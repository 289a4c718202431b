import type { Datatype, IngestJobSection } from '../config/types.js';
import { fits } from '../destinations/datatype.js';
import { TileError, type Tile } from './tile.js';

/**
 * A tile must fit the destination's datatype and be tile_size, or at the right and bottom edges
 * of the extent anything from what the extent needs up to tile_size.
 */
export function checkTile(
  tile: Tile,
  file: string,
  job: IngestJobSection,
  datatype: Datatype | undefined,
  xi: number,
  yi: number,
): void {
  const size = job.tile_size!;
  if (datatype && !fits(tile.datatype, datatype)) {
    throw new TileError(
      file,
      `is ${tile.datatype} but the destination is ${datatype}; it would lose precision`,
    );
  }
  const needW = Math.min(size.x, job.extent.x[1] - xi * size.x);
  const needH = Math.min(size.y, job.extent.y[1] - yi * size.y);
  if (tile.width > size.x || tile.height > size.y || tile.width < needW || tile.height < needH) {
    const expected =
      needW === size.x && needH === size.y
        ? `${size.x}x${size.y}`
        : `between ${needW}x${needH} and ${size.x}x${size.y}`;
    throw new TileError(
      file,
      `is ${tile.width}x${tile.height} but tile (x ${xi}, y ${yi}) must be ${expected} (tile_size and extent)`,
    );
  }
}
