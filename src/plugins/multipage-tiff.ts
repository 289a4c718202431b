/**
 * Multipage TIFF sources (module `multipage_tiff`): calcium-imaging time series, one file per z
 * slice whose page k is time point k, and hyperstacks split across files of time_chunk_size time
 * points each, pages interleaved channel fastest, then z, then time.
 */
import path from 'node:path';
import type { IngestJobSection } from '../config/types.js';
import { TileOutsideExtentError } from '../errors.js';
import { readTiffWindow, type PageWindow } from '../tiles/tiff-pages.js';
import { cropTile, TileError, type Tile, type TileDatatype, type TilePlace } from '../tiles/tile.js';
import { tileRange } from '../extent/tiles.js';
import { expandBaseFilename } from './base-filename.js';
import {
  choiceParam,
  intParam,
  PluginParamError,
  stringParam,
  type PathProcessor,
  type PluginParams,
  type TileProcessor,
} from './types.js';

export interface HyperStackLayout {
  timeChunkSize: number;
  numZSlices: number;
  numChannels: number;
  channelIndex: number;
}

/**
 * The page holding (z, t) in file floor(t / timeChunkSize). Not the original client's formula,
 * `(numZ * numC * t + z * numC + c) % timeChunkSize`, which is wrong whenever a file holds more
 * than one z slice or channel.
 */
export function hyperStackPage(layout: HyperStackLayout, z: number, t: number): number {
  const { timeChunkSize, numZSlices, numChannels, channelIndex } = layout;
  return ((t % timeChunkSize) * numZSlices + z) * numChannels + channelIndex;
}

function localOnly(params: PluginParams): void {
  const fs = params.filesystem ?? 'local';
  if (fs !== 'local') {
    throw new PluginParamError(
      'client.tile_processor.params.filesystem',
      `only "local" is supported, not ${JSON.stringify(fs)}`,
    );
  }
}

/** Params `z_0`, `z_1`, ...: the file of each z slice of the extent. */
export class SingleTimeTiffPathProcessor implements PathProcessor {
  private files = new Map<number, string>();

  setup(params: PluginParams): void {
    const [z0, z1] = params.ingest_job.extent.z;
    for (let z = z0; z < z1; z++) {
      const file = params[`z_${z}`];
      if (typeof file !== 'string' || file.length === 0) {
        throw new PluginParamError(
          `client.path_processor.params.z_${z}`,
          `is required: the multipage TIFF of slice z=${z} (extent.z is [${z0}, ${z1}))`,
        );
      }
      this.files.set(z, file);
    }
  }

  /** t picks the page, not the file: see SingleTimeTiffTileProcessor. */
  process(x: number, y: number, z: number, _t: number): string {
    const file = this.files.get(z);
    if (file === undefined)
      throw new TileOutsideExtentError(`tile (x ${x}, y ${y}, z ${z}) lies outside the extent`);
    return file;
  }
}

/** Params root_dir, extension, base_filename (`<o:N p:M>` numbers the file), time_chunk_size. */
export class TiffMultiFileHyperStackPathProcessor implements PathProcessor {
  private root = '';
  private extension = '';
  private base = '';
  private timeChunkSize = 1;

  setup(params: PluginParams): void {
    this.root = stringParam(params, 'root_dir', 'client.path_processor');
    this.extension = stringParam(params, 'extension', 'client.path_processor');
    this.base = stringParam(params, 'base_filename', 'client.path_processor');
    this.timeChunkSize = intParam(params, 'time_chunk_size', 'client.path_processor', 1);
  }

  process(x: number, y: number, z: number, t: number): string {
    const fileNumber = Math.floor(t / this.timeChunkSize);
    return path.join(this.root, `${expandBaseFilename(this.base, x, y, z, fileNumber)}.${this.extension}`);
  }
}

/**
 * Reads tiles from pages. The tiles of a row of chunks share one read of each page: the first
 * tile reads the band of the page under the extent's tiles in that tile row, the others crop it.
 */
abstract class PageTileProcessor implements TileProcessor {
  protected job!: IngestJobSection;
  private band?: { key: string; tile: Promise<Tile> };

  abstract setup(params: PluginParams): void;

  protected abstract page(z: number, t: number): number;

  protected abstract label(page: number, z: number, t: number): string;

  protected check(_tile: Tile, _file: string, _label: string): void {}

  async process(file: string, x: number, y: number, z: number, t: number, place?: TilePlace): Promise<Tile> {
    const { tile_size: size, extent } = this.job;
    if (!size) throw new PluginParamError('ingest_job.tile_size', 'is required');
    const page = this.page(z, t);
    const label = this.label(page, z, t);
    const tiles = tileRange(extent, size);
    const bandX0 = tiles.x[0] * size.x;
    const need = { x: extent.x[1], y: Math.min((y + 1) * size.y, extent.y[1]) };
    // A band of one tile (a time series' whole page) is read straight into its chunk.
    if (place && tiles.x[1] - tiles.x[0] === 1) {
      const window: PageWindow = {
        page,
        label,
        x: [bandX0, bandX0 + size.x],
        y: [y * size.y, (y + 1) * size.y],
        need,
      };
      const tile = await readTiffWindow(file, window, place);
      this.check(tile, file, label);
      return tile;
    }
    const key = `${file}\0${page}\0${y}`;
    if (this.band?.key !== key) {
      const tile = readTiffWindow(file, {
        page,
        label,
        x: [bandX0, tiles.x[1] * size.x],
        y: [y * size.y, (y + 1) * size.y],
        need,
      });
      const band = { key, tile };
      this.band = band;
      // Do not keep a failure: a retry of the row must read the page again.
      tile.catch(() => {
        if (this.band === band) this.band = undefined;
      });
    }
    const band = await this.band.tile;
    this.check(band, file, label);
    const x0 = x * size.x - bandX0;
    const x1 = Math.min(x0 + size.x, band.width);
    return x0 === 0 && x1 === band.width ? band : cropTile(band, x0, 0, x1, band.height);
  }
}

/** Params datatype (`uint8` or `uint16`: pages must be that), filetype; page t of the slice's file. */
export class SingleTimeTiffTileProcessor extends PageTileProcessor {
  private datatype?: TileDatatype;

  setup(params: PluginParams): void {
    this.job = params.ingest_job;
    if (params.datatype !== undefined)
      this.datatype = choiceParam(params, 'datatype', 'client.tile_processor', [
        'uint8',
        'uint16',
      ]).toLowerCase() as TileDatatype;
    if (params.filetype !== undefined)
      choiceParam(params, 'filetype', 'client.tile_processor', ['tif', 'tiff']);
    localOnly(params);
  }

  protected page(_z: number, t: number): number {
    return t;
  }

  protected label(page: number): string {
    return `page ${page} (t ${page})`;
  }

  protected override check(tile: Tile, file: string, label: string): void {
    if (this.datatype && tile.datatype !== this.datatype) {
      throw new TileError(
        file,
        `${label} is ${tile.datatype} but tile_processor params datatype is ${this.datatype}`,
      );
    }
  }
}

/** Params time_chunk_size, num_z_slices, num_channels, channel_index, filesystem. */
export class TiffMultiFileHyperStackTileProcessor extends PageTileProcessor {
  private layout!: HyperStackLayout;

  setup(params: PluginParams): void {
    this.job = params.ingest_job;
    const where = 'client.tile_processor';
    this.layout = {
      timeChunkSize: intParam(params, 'time_chunk_size', where, 1),
      numZSlices: intParam(params, 'num_z_slices', where, 1),
      numChannels: intParam(params, 'num_channels', where, 1, 1),
      channelIndex: intParam(params, 'channel_index', where, 0, 0),
    };
    if (this.layout.channelIndex >= this.layout.numChannels) {
      throw new PluginParamError(
        `${where}.params.channel_index`,
        `must be less than num_channels (${this.layout.numChannels}), not ${this.layout.channelIndex}`,
      );
    }
    const z = this.job.extent.z;
    if (z[1] > this.layout.numZSlices) {
      throw new PluginParamError(
        'ingest_job.extent.z',
        `reaches z ${z[1] - 1} but the hyperstack has num_z_slices ${this.layout.numZSlices} (z 0 to ${this.layout.numZSlices - 1})`,
      );
    }
    localOnly(params);
  }

  protected page(z: number, t: number): number {
    return hyperStackPage(this.layout, z, t);
  }

  protected label(page: number, z: number, t: number): string {
    return `page ${page} (z ${z}, t ${t}, channel ${this.layout.channelIndex})`;
  }
}
