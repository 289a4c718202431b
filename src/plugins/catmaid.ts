/** CATMAID file-based tile stacks, tile source types 1, 4 and 5. */
import path from 'node:path';
import type { IngestJobSection } from '../config/types.js';
import { inRange, tileRange } from '../extent/tiles.js';
import { decodeGreyImage, IMAGE_FILETYPES, probeImageFile, type GreyOptions } from '../tiles/decode.js';
import { TileOutsideExtentError } from '../errors.js';
import type { Tile, TilePlace } from '../tiles/tile.js';
import { greyOptions } from './colour.js';
import {
  choiceParam,
  checkSingleTimePoint,
  stringParam,
  type PathProcessor,
  type PluginParams,
  type TileProcessor,
} from './types.js';

type Layout = (root: string, x: number, y: number, z: number, r: number, ext: string) => string;

abstract class CatmaidPathProcessor implements PathProcessor {
  protected abstract readonly layout: Layout;
  private root = '';
  private filetype = '';
  private job!: IngestJobSection;

  setup(params: PluginParams): void {
    this.root = stringParam(params, 'root_dir', 'client.path_processor');
    this.filetype = choiceParam(params, 'filetype', 'client.path_processor', IMAGE_FILETYPES);
    this.job = params.ingest_job;
    checkSingleTimePoint(this.job, 'CATMAID stacks');
  }

  process(x: number, y: number, z: number, t: number): string {
    const { extent, tile_size: size } = this.job;
    checkSingleTimePoint(this.job, 'CATMAID stacks', t);
    const tiles = size && tileRange(extent, size);
    if (!tiles || !inRange(x, tiles.x) || !inRange(y, tiles.y) || !inRange(z, tiles.z)) {
      throw new TileOutsideExtentError(`tile (x ${x}, y ${y}, z ${z}) lies outside the extent`);
    }
    return this.layout(this.root, x, y, z, this.job.resolution, this.filetype);
  }
}

export class CatmaidFileImageStackPathProcessor extends CatmaidPathProcessor {
  protected readonly layout: Layout = (root, x, y, z, r, ext) =>
    path.join(root, `${z}`, `${y}_${x}_${r}.${ext}`);
}

export class CatmaidFileImageStackZoomLevelPathProcessor extends CatmaidPathProcessor {
  protected readonly layout: Layout = (root, x, y, z, r, ext) =>
    path.join(root, `${r}`, `${z}`, `${y}_${x}.${ext}`);
}

export class CatmaidDirectoryImageStackPathProcessor extends CatmaidPathProcessor {
  protected readonly layout: Layout = (root, x, y, z, r, ext) =>
    path.join(root, `${r}`, `${z}`, `${y}`, `${x}.${ext}`);
}

/** One file is one tile; the three CATMAID types read the same way. */
export class CatmaidTileProcessor implements TileProcessor {
  private grey: GreyOptions = {};

  setup(params: PluginParams): void {
    if (params.filetype !== undefined)
      choiceParam(params, 'filetype', 'client.tile_processor', IMAGE_FILETYPES);
    this.grey = greyOptions(params, 'client.tile_processor');
  }

  process(file: string, _x: number, _y: number, _z: number, _t: number, place?: TilePlace): Promise<Tile> {
    return decodeGreyImage(file, this.grey, undefined, place);
  }

  probe(file: string): Promise<void> {
    return probeImageFile(file);
  }
}
