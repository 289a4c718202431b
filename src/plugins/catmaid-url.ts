/**
 * CATMAID tiles over HTTP (the original's catmaid.CatmaidURLPathProcessor, a NoFilePathProcessor, with
 * CatmainURLTileProcessor, its misspelling, or CatmaidURLTileProcessor): tile (x, y) of slice z
 * is `{url}{z}/{y}/{x}.{filetype}`. Connections are kept alive; 5xx, 429 and dropped
 * connections are retried; a 404 tile is missing: an error naming the URL, or zeros with
 * `fill_missing: true` (the original turned 403 into zeros and retried 404 five times, 10 s apart).
 */
import { fetchObject } from '../objects/fetch.js';
import { StoreError } from '../objects/store.js';
import type { IngestJobSection } from '../config/types.js';
import { decodeGreyImage, IMAGE_FILETYPES, type GreyOptions } from '../tiles/decode.js';
import { TileError, type Tile } from '../tiles/tile.js';
import { greyOptions } from './colour.js';
import {
  checkTileSizeParams,
  choiceParam,
  PluginParamError,
  stringParam,
  type PluginParams,
  type TileProcessor,
} from './types.js';

const WHERE = 'client.tile_processor';

export class CatmaidUrlTileProcessor implements TileProcessor {
  private base = '';
  private filetype = '';
  private fillMissing = false;
  private grey: GreyOptions = {};
  private job!: IngestJobSection;

  setup(params: PluginParams): void {
    const url = stringParam(params, 'url', WHERE);
    if (!/^https?:\/\//i.test(url))
      throw new PluginParamError(
        `${WHERE}.params.url`,
        `must be an http(s):// URL, not ${JSON.stringify(url)}`,
      );
    this.base = url.endsWith('/') ? url : `${url}/`;
    this.filetype = choiceParam(params, 'filetype', WHERE, IMAGE_FILETYPES);
    if (params.fill_missing !== undefined && typeof params.fill_missing !== 'boolean') {
      throw new PluginParamError(`${WHERE}.params.fill_missing`, 'must be true or false');
    }
    this.fillMissing = params.fill_missing === true;
    this.job = params.ingest_job;
    checkTileSizeParams(params, WHERE);
    this.grey = greyOptions(params, WHERE);
  }

  async process(_file: string, x: number, y: number, z: number): Promise<Tile> {
    const url = `${this.base}${z}/${y}/${x}.${this.filetype}`;
    let bytes: Uint8Array | undefined;
    try {
      bytes = await fetchObject(url, (headers) => new Request(url, { headers }));
    } catch (err) {
      if (err instanceof StoreError && !err.transient) throw new TileError(url, err.message);
      throw err;
    }
    if (!bytes) {
      if (!this.fillMissing)
        throw new TileError(url, 'is missing (HTTP 404); fill_missing: true reads missing tiles as zeros');
      const size = this.job.tile_size!;
      return { width: size.x, height: size.y, datatype: 'uint8', data: new Uint8Array(size.x * size.y) };
    }
    return decodeGreyImage(url, this.grey, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
}
