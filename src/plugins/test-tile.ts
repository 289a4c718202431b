/**
 * The original's test source: `path.TestPathProcessor` names the packaged test tile for every
 * tile position, and `tile.TestTileProcessor` reads the file it is given (the CATMAID tile
 * processor, which decodes the one file its path processor names). The packaged tile is ours,
 * assets/test_tile.png (made by scripts/test-tile.py), not the original's: 512 x 512, 8-bit grey.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { pngHeader } from '../tiles/png.js';
import { PluginParamError, type PathProcessor, type PluginParams } from './types.js';

/** From dist/src/plugins (or src/plugins) to the package's assets. */
export const TEST_TILE_FILE = fileURLToPath(new URL('../../../assets/test_tile.png', import.meta.url));

export class TestPathProcessor implements PathProcessor {
  /** Every tile is the packaged one, so tile_size must be its size: any other fails every tile. */
  async setup(params: PluginParams): Promise<void> {
    const header = pngHeader(await readFile(TEST_TILE_FILE));
    const size = params.ingest_job.tile_size;
    if (!header) throw new Error(`${TEST_TILE_FILE}: the packaged test tile is not a PNG`);
    if (size?.x !== header.width || size?.y !== header.height) {
      throw new PluginParamError(
        'ingest_job.tile_size',
        `must be ${header.width} x ${header.height}, the size of the packaged test tile ` +
          `that TestPathProcessor gives for every tile, not ${size?.x} x ${size?.y}`,
      );
    }
  }

  process(): string {
    return TEST_TILE_FILE;
  }
}
