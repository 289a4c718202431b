/**
 * What a chunk thread holds while it assembles a row: the samples of the row's chunks. Rows of
 * big chunks (a sharded volume's shards) are shorter, so a thread's memory stays bounded whatever
 * the chunk shape; a chunk bigger than the bound on its own is refused when the job is prepared.
 */
import type { Datatype } from '../config/types.js';
import { BYTES_PER_VOXEL } from '../destinations/datatype.js';
import type { ChunkShape } from '../extent/grid.js';

/** 8 Boss cuboids of uint64: the biggest row an unsharded job had before rows were bounded. */
export const ROW_BYTES = 256 * 2 ** 20;

export function chunkBytes(chunk: ChunkShape, datatype: Datatype): number {
  return chunk.x * chunk.y * chunk.z * BYTES_PER_VOXEL[datatype];
}

/** At most `maxLength` chunks, and no more than fit in ROW_BYTES (but at least one). */
export function rowLength(chunk: ChunkShape, datatype: Datatype, maxLength: number): number {
  return Math.max(1, Math.min(maxLength, Math.floor(ROW_BYTES / chunkBytes(chunk, datatype))));
}
