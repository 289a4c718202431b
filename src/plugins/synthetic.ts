/**
 * A generated source for benchmarks, scale runs and tests: tiles computed from their coordinates,
 * no files. Params: `bits` (8 or 16, default 8), `delay_ms` (per tile, default 0). (The tests'
 * flaky variant is test/doubles/flaky-tiles.ts.)
 */
import type { IngestJobSection } from '../config/types.js';
import type { Tile } from '../tiles/tile.js';
import { PluginParamError, type PathProcessor, type PluginParams, type TileProcessor } from './types.js';

export function syntheticVoxel(bits: 8 | 16, x: number, y: number, z: number, t: number): number {
  const v = (x * 3 + y * 5 + z * 11 + t * 17) >>> 0;
  return bits === 16 ? v % 65536 : v % 256;
}

export class SyntheticPathProcessor implements PathProcessor {
  setup(): void {}

  process(x: number, y: number, z: number, t: number): string {
    return `synthetic:x${x}/y${y}/z${z}/t${t}`;
  }
}

export class SyntheticTileProcessor implements TileProcessor {
  private bits: 8 | 16 = 8;
  private delayMs = 0;
  private job!: IngestJobSection;

  setup(params: PluginParams): void {
    this.job = params.ingest_job;
    const bits = params.bits ?? 8;
    if (bits !== 8 && bits !== 16)
      throw new PluginParamError(
        'client.tile_processor.params.bits',
        `must be 8 or 16, not ${JSON.stringify(bits)}`,
      );
    this.bits = bits;
    const delay = params.delay_ms ?? 0;
    if (typeof delay !== 'number' || delay < 0) {
      throw new PluginParamError(
        'client.tile_processor.params.delay_ms',
        `must be a number >= 0, not ${JSON.stringify(delay)}`,
      );
    }
    this.delayMs = delay;
  }

  async process(_file: string, xi: number, yi: number, z: number, t: number): Promise<Tile> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const size = this.job.tile_size!;
    const x0 = xi * size.x;
    const y0 = yi * size.y;
    const width = Math.min(size.x, this.job.extent.x[1] - x0);
    const height = Math.min(size.y, this.job.extent.y[1] - y0);
    const data = this.bits === 16 ? new Uint16Array(width * height) : new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) data[y * width + x] = syntheticVoxel(this.bits, x0 + x, y0 + y, z, t);
    }
    return { width, height, datatype: this.bits === 16 ? 'uint16' : 'uint8', data };
  }
}
