/**
 * Tiles copied from another Boss: the original's intern.InternTileProcessor (with
 * InternPathProcessor, a NoFilePathProcessor). Tile (x, y) of slice z at time t is the cutout of
 * `collection/experiment/channel` at `resolution`, shifted by `x_offset`, `y_offset`, `z_offset`.
 * Fixed from the original: the source's datatype is kept (it cast everything to uint32, cutting
 * uint64 labels), what lies outside the source is zeros on every axis (it did so only below z 0,
 * with a transposed tile), failures are retried as cutout reads are and then name the source
 * (its retry loop ended in a NameError). `host` and `protocol` are ours (the original read
 * intern's default remote); the token is the worker's, never a param (see boss/token.ts).
 */
import type { IngestJobSection } from '../config/types.js';
import { overlap } from '../extent/box.js';
import { sourceToken } from '../boss/token.js';
import type { Tile } from '../tiles/tile.js';
import { openBossVolume, sourceBoss } from '../volumes/boss.js';
import { allocate, copyVoxels, type Volume } from '../volumes/volume.js';
import {
  checkTileSizeParams,
  intParam,
  stringParam,
  tileWindow,
  type PluginParams,
  type TileProcessor,
} from './types.js';

const WHERE = 'client.tile_processor';

export class InternTileProcessor implements TileProcessor {
  private job!: IngestJobSection;
  private volume!: Volume;
  private offset = { x: 0, y: 0, z: 0 };

  async setup(params: PluginParams): Promise<void> {
    this.job = params.ingest_job;
    checkTileSizeParams(params, WHERE);
    this.offset = {
      x: intParam(params, 'x_offset', WHERE, -Infinity, 0),
      y: intParam(params, 'y_offset', WHERE, -Infinity, 0),
      z: intParam(params, 'z_offset', WHERE, -Infinity, 0),
    };
    const names = ['collection', 'experiment', 'channel'].map((k) => stringParam(params, k, WHERE));
    const resolution = intParam(params, 'resolution', WHERE, 0, 0);
    this.volume = await openBossVolume({
      uri: `bossdb://${names.join('/')}/${resolution}`,
      ...sourceBoss(params, WHERE),
      token: sourceToken(),
    });
  }

  async process(_file: string, x: number, y: number, z: number, t: number): Promise<Tile> {
    const tile = tileWindow(this.job, x, y, z);
    const width = tile.x[1] - tile.x[0];
    const height = tile.y[1] - tile.y[0];
    const data = allocate(this.volume.datatype, width * height);
    const o = this.offset;
    const v = this.volume;
    // The tile's window in the source, cut to the source's bounds.
    const cut = (a: 'x' | 'y' | 'z') =>
      overlap([tile[a][0] + o[a], tile[a][1] + o[a]], [v.offset[a], v.offset[a] + v.size[a]]);
    const [sx, sy, sz] = [cut('x'), cut('y'), cut('z')];
    if (sx && sy && sz) {
      const read = await v.readBox({ x: sx, y: sy, z: sz, t });
      const back = (r: [number, number], s: number): [number, number] => [r[0] - s, r[1] - s];
      copyVoxels(read, { x: back(sx, o.x), y: back(sy, o.y), z: tile.z }, data, tile);
    }
    return { width, height, datatype: v.datatype, data };
  }
}
