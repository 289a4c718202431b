/**
 * The original's scale-test source: `tile.TestRandomTileProcessor` (with
 * `path.TestPassThroughPathProcessor`, a NoFilePathProcessor) makes uint8 noise of values 1-253,
 * as the original did. The original drew a fresh random tile at every read; here each voxel is a
 * hash of its position (x, y, z, t), so a re-read (a retried chunk, `verify`) gives the same tile
 * and the noise does not depend on tile_size.
 */
import type { IngestJobSection } from '../config/types.js';
import type { Tile } from '../tiles/tile.js';
import { tileWindow, type PluginParams, type TileProcessor } from './types.js';

/** murmur3's 32-bit finaliser: every input bit reaches every output bit. */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The hash of a row of voxels (y, z, t): each voxel of the row mixes its x into it. */
function rowSeed(y: number, z: number, t: number): number {
  return mix(mix(mix(t + 0x9e3779b9) ^ z) ^ y);
}

function voxelOfRow(seed: number, x: number): number {
  return 1 + (mix(seed ^ Math.imul(x, 0x27d4eb2f)) % 253);
}

/** The value the random source has at (x, y, z, t): 1 to 253. */
export function randomTileVoxel(x: number, y: number, z: number, t: number): number {
  return voxelOfRow(rowSeed(y, z, t), x);
}

export class TestRandomTileProcessor implements TileProcessor {
  private job!: IngestJobSection;

  setup(params: PluginParams): void {
    this.job = params.ingest_job;
  }

  process(_file: string, xi: number, yi: number, z: number, t: number): Promise<Tile> {
    const { x, y } = tileWindow(this.job, xi, yi, z);
    const width = x[1] - x[0];
    const height = y[1] - y[0];
    const data = new Uint8Array(width * height);
    for (let row = 0; row < height; row++) {
      const seed = rowSeed(y[0] + row, z, t);
      for (let col = 0; col < width; col++) data[row * width + col] = voxelOfRow(seed, x[0] + col);
    }
    return Promise.resolve({ width, height, datatype: 'uint8', data });
  }
}
