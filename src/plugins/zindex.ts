/** Z-index stacks: one image per z slice, from which each tile is cropped. */
import path from 'node:path';
import type { IngestJobSection } from '../config/types.js';
import { decodeGreyImage, IMAGE_FILETYPES, probeImageFile, type GreyOptions } from '../tiles/decode.js';
import { openPngRows } from '../tiles/png-rows.js';
import { blankRows, tileRows, type RowStream } from '../tiles/rows.js';
import { cropTile, TileError, type Tile } from '../tiles/tile.js';
import { expandBaseFilename } from './base-filename.js';
import { greyOptions } from './colour.js';
import {
  choiceParam,
  checkSingleTimePoint,
  PluginParamError,
  stringParam,
  type PathProcessor,
  type PluginParams,
  type TileProcessor,
} from './types.js';

export class ZindexStackPathProcessor implements PathProcessor {
  private root = '';
  private extension = '';
  private base = '';
  private job!: IngestJobSection;

  setup(params: PluginParams): void {
    this.root = stringParam(params, 'root_dir', 'client.path_processor');
    this.extension = stringParam(params, 'extension', 'client.path_processor');
    this.base = stringParam(params, 'base_filename', 'client.path_processor');
    this.job = params.ingest_job;
    checkSingleTimePoint(this.job, 'z-index stacks');
  }

  process(x: number, y: number, z: number, t: number): string {
    checkSingleTimePoint(this.job, 'z-index stacks', t);
    return path.join(this.root, `${expandBaseFilename(this.base, x, y, z)}.${this.extension}`);
  }
}

export class ZindexStackTileProcessor implements TileProcessor {
  private job!: IngestJobSection;
  private failGracefully = false;
  private grey: GreyOptions = {};
  /** The last slice decoded: consecutive tiles of a row come from the same slice. */
  private slice?: { file: string; tile: Promise<Tile> };

  setup(params: PluginParams): void {
    this.job = params.ingest_job;
    const fs = params.filesystem ?? 'local';
    if (fs !== 'local') {
      throw new PluginParamError(
        'client.tile_processor.params.filesystem',
        `only "local" is supported, not ${JSON.stringify(fs)}`,
      );
    }
    if (params.extension !== undefined)
      choiceParam(params, 'extension', 'client.tile_processor', IMAGE_FILETYPES);
    const fail = params.fail_gracefully ?? false;
    if (typeof fail !== 'boolean') {
      throw new PluginParamError(
        'client.tile_processor.params.fail_gracefully',
        `must be true or false, not ${JSON.stringify(fail)}`,
      );
    }
    this.failGracefully = fail;
    this.grey = greyOptions(params, 'client.tile_processor');
  }

  /** A slice is there or not: decoding it (a second for 16k x 16k) would say nothing more to the coverage check. */
  async probe(file: string): Promise<void> {
    // With fail_gracefully, process reads an absent or bad slice as zeros.
    if (this.failGracefully) return;
    await probeImageFile(file);
  }

  async process(file: string, x: number, y: number): Promise<Tile> {
    const { tile_size: size, extent } = this.job;
    if (!size) throw new PluginParamError('ingest_job.tile_size', 'is required');
    const x0 = x * size.x;
    const y0 = y * size.y;
    const needX = Math.min(x0 + size.x, extent.x[1]);
    const needY = Math.min(y0 + size.y, extent.y[1]);
    let slice: Tile;
    try {
      if (this.slice?.file !== file) this.slice = { file, tile: decodeGreyImage(file, this.grey) };
      slice = await this.slice.tile;
    } catch (err) {
      if (this.failGracefully && err instanceof TileError) {
        return {
          width: needX - x0,
          height: needY - y0,
          datatype: 'uint8',
          data: new Uint8Array((needX - x0) * (needY - y0)),
        };
      }
      throw err;
    }
    if (slice.width < needX || slice.height < needY) {
      throw new TileError(
        file,
        `slice is ${slice.width}x${slice.height} but the extent needs at least ${needX}x${needY}`,
      );
    }
    return cropTile(slice, x0, y0, Math.min(x0 + size.x, slice.width), Math.min(y0 + size.y, slice.height));
  }

  /**
   * The rows of a whole slice, for the slab path (src/chunks/slab.ts), which reads each slice once
   * per job. `whole`: decode it at once (fastest; a grey PNG's image data inflated at once, its rows
   * unfiltered straight into the chunks as they are read); else stream its rows, or give undefined
   * when the file cannot be streamed (JPEG, TIFF, interlaced PNG). A bad slice, with
   * fail_gracefully, reads as zeros from where it went bad.
   */
  async openSlice(file: string, whole: boolean): Promise<RowStream | undefined> {
    const { extent } = this.job;
    let rows: RowStream | undefined;
    try {
      rows = whole
        ? ((await openPngRows(file, this.grey, 'native-whole')) ??
          tileRows(await decodeGreyImage(file, this.grey)))
        : await openPngRows(file, this.grey);
    } catch (err) {
      if (this.failGracefully && err instanceof TileError) return blankRows(extent.x[1], extent.y[1]);
      throw err;
    }
    if (!rows) return undefined;
    if (rows.width < extent.x[1] || rows.height < extent.y[1]) {
      await rows.close();
      throw new TileError(
        file,
        `slice is ${rows.width}x${rows.height} but the extent needs at least ${extent.x[1]}x${extent.y[1]}`,
      );
    }
    return this.failGracefully ? gracefulRows(rows) : rows;
  }
}

/** A slice that turns out bad part-way reads as zeros from the band where it went bad. */
function gracefulRows(rows: RowStream): RowStream {
  const blank = blankRows(rows.width, rows.height, rows.datatype);
  let failed = false;
  return {
    width: rows.width,
    height: rows.height,
    datatype: rows.datatype,
    async rows(count) {
      if (!failed) {
        try {
          return await rows.rows(count);
        } catch (err) {
          if (!(err instanceof TileError)) throw err;
          failed = true;
        }
      }
      // Behind the slice by the rows read before it failed, which never takes it past its end.
      return blank.rows(count);
    },
    close: () => rows.close(),
  };
}
