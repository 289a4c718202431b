/**
 * A test-only source plugin, loaded as `<this file>#FlakyTileProcessor` (a custom plugin): the
 * synthetic tiles, except that the first read of each tile in `flaky_tiles` ([[x, y, z, t], ...]),
 * across all processes, fails with a transient I/O error (EIO). `flaky_marker_dir` holds one
 * marker file per tile that has failed once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PluginParamError } from '../../src/errors.js';
import { SyntheticTileProcessor } from '../../src/plugins/synthetic.js';
import type { PluginParams } from '../../src/plugins/types.js';
import type { Tile } from '../../src/tiles/tile.js';

/** The config class naming this plugin. */
export const FLAKY_TILES_CLASS = `${fileURLToPath(import.meta.url)}#FlakyTileProcessor`;

export class FlakyTileProcessor extends SyntheticTileProcessor {
  private flaky = new Set<string>();
  private markerDir = '';

  override setup(params: PluginParams): void {
    super.setup(params);
    const flaky = params.flaky_tiles;
    if (!Array.isArray(flaky) || flaky.some((t) => !Array.isArray(t) || t.length !== 4))
      throw new PluginParamError(
        'client.tile_processor.params.flaky_tiles',
        'must be a list of [x, y, z, t] tile indices',
      );
    if (typeof params.flaky_marker_dir !== 'string')
      throw new PluginParamError(
        'client.tile_processor.params.flaky_marker_dir',
        'is required (a directory)',
      );
    this.flaky = new Set(flaky.map((t) => (t as number[]).join('_')));
    this.markerDir = params.flaky_marker_dir;
    mkdirSync(this.markerDir, { recursive: true });
  }

  override async process(file: string, xi: number, yi: number, z: number, t: number): Promise<Tile> {
    this.failOnce(`${xi}_${yi}_${z}_${t}`);
    return super.process(file, xi, yi, z, t);
  }

  /** The marker file's exclusive creation decides which read is first. */
  private failOnce(key: string): void {
    if (!this.flaky.has(key)) return;
    try {
      writeFileSync(path.join(this.markerDir, key), '', { flag: 'wx' });
    } catch {
      return;
    }
    throw Object.assign(new Error(`synthetic transient read failure of tile ${key}`), { code: 'EIO' });
  }
}
