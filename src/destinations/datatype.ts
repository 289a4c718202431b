import type { Datatype } from '../config/types.js';
import type { TileDatatype } from '../tiles/tile.js';

export const BYTES_PER_VOXEL: Record<Datatype, number> = { uint8: 1, uint16: 2, uint64: 8 };

/** Whether every value of a tile's datatype is exactly representable in the destination's. */
export function fits(tile: TileDatatype, destination: Datatype): boolean {
  return BYTES_PER_VOXEL[tile] <= BYTES_PER_VOXEL[destination];
}
