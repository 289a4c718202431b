/**
 * The tile processors of the original's HDF5 plugins (module `hdf5`): each reads the tile's window
 * of the file its path processor names, through the readers beside it (windows, not whole
 * files). Values keep their datatype (labels their 32 or 64 bits); a value the datatype cannot
 * hold is an error naming the file and dataset, never a silent cast. `upload_format` is accepted
 * and has no effect: tiles are not re-encoded on the way.
 */
import type { IngestJobSection } from '../../config/types.js';
import { TileError, type Tile } from '../../tiles/tile.js';
import { readChunkFile } from './chunk-files.js';
import { Hdf5Files, type Hdf5File, type Hdf5Location } from './file.js';
import { readSlice, readTimeSeries, readTimeSeriesLabels } from './planes.js';
import { readSingleFile } from './single-file.js';
import { zeroBox } from './window.js';
import type { VolumeBox, VolumeData, VolumeDatatype } from '../../volumes/volume.js';
import {
  checkSingleTimePoint,
  choiceParam,
  intParam,
  PluginParamError,
  stringParam,
  tileWindow,
  type PluginParams,
  type TileProcessor,
} from '../types.js';

const WHERE = 'client.tile_processor';

function location(params: PluginParams): Hdf5Location {
  const filesystem = choiceParam({ filesystem: 'local', ...params }, 'filesystem', WHERE, ['local', 's3']);
  if (filesystem.toLowerCase() === 'local') return { filesystem: 'local' };
  return {
    filesystem: 's3',
    bucket: stringParam(params, 'bucket', WHERE),
    tempDir: params.temp_dir === undefined ? undefined : stringParam(params, 'temp_dir', WHERE),
  };
}

function datatypeParam(params: PluginParams, allowed: VolumeDatatype[]): VolumeDatatype {
  return choiceParam(params, 'datatype', WHERE, allowed).toLowerCase() as VolumeDatatype;
}

function numberParam(params: PluginParams, key: string): number {
  const v = params[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new PluginParamError(`${WHERE}.params.${key}`, `must be a number, not ${JSON.stringify(v)}`);
  return v;
}

function datatypeOf(data: VolumeData): VolumeDatatype {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Uint16Array) return 'uint16';
  return data instanceof Uint32Array ? 'uint32' : 'uint64';
}

abstract class Hdf5TileProcessor implements TileProcessor {
  protected job!: IngestJobSection;
  private files!: Hdf5Files;

  setup(params: PluginParams): void {
    this.job = params.ingest_job;
    this.files = new Hdf5Files(location(params));
    if (params.upload_format !== undefined)
      choiceParam(params, 'upload_format', WHERE, ['tiff', 'tif', 'png']);
    this.configure(params);
  }

  protected abstract configure(params: PluginParams): void;

  /** The tile's voxels from the open file. */
  protected abstract read(h5: Hdf5File, box: VolumeBox, t: number): VolumeData;

  /** The tile when its file does not exist. */
  protected missing(file: string, _box: VolumeBox): VolumeData {
    throw new TileError(file, 'file not found');
  }

  async process(file: string, x: number, y: number, z: number, t: number): Promise<Tile> {
    const box = tileWindow(this.job, x, y, z);
    const data = await this.files.use(file, (h5) =>
      h5 ? this.read(h5, box, t) : this.missing(this.files.where(file), box),
    );
    return { width: box.x[1] - box.x[0], height: box.y[1] - box.y[0], datatype: datatypeOf(data), data };
  }
}

/** Hdf5TimeSeriesTileProcessor: (t, x, y, channel) per z file; see readTimeSeries. */
export class Hdf5TimeSeriesTileProcessor extends Hdf5TileProcessor {
  private options!: Parameters<typeof readTimeSeries>[3];

  protected configure(params: PluginParams): void {
    this.options = {
      dataset: stringParam(params, 'dataset', WHERE),
      channel: intParam(params, 'channel_index', WHERE, 0),
      scaleFactor: numberParam(params, 'scale_factor'),
    };
  }

  protected read(h5: Hdf5File, box: VolumeBox, t: number): VolumeData {
    return readTimeSeries(h5, box, t, this.options);
  }
}

/** Hdf5TimeSeriesLabelTileProcessor: a 2-D (x, y) label image per z file, the same at every t. */
export class Hdf5TimeSeriesLabelTileProcessor extends Hdf5TileProcessor {
  private dataset = '';

  protected configure(params: PluginParams): void {
    this.dataset = stringParam(params, 'dataset', WHERE);
  }

  protected read(h5: Hdf5File, box: VolumeBox): VolumeData {
    return readTimeSeriesLabels(h5, box, this.dataset);
  }
}

/** Hdf5SliceTileProcessor: one placed 2-D image per z file; see readSlice. */
export class Hdf5SliceTileProcessor extends Hdf5TileProcessor {
  private options!: Parameters<typeof readSlice>[2];

  protected configure(params: PluginParams): void {
    checkSingleTimePoint(this.job, 'HDF5 slices');
    this.options = {
      dataset: stringParam(params, 'data_name', WHERE),
      offsetDataset: stringParam(params, 'offset_name', WHERE),
      extentDataset: stringParam(params, 'extent_name', WHERE),
      origin: {
        x: intParam(params, 'offset_origin_x', WHERE, -Infinity, 0),
        y: intParam(params, 'offset_origin_y', WHERE, -Infinity, 0),
      },
      datatype: datatypeParam(params, ['uint8', 'uint16']),
    };
  }

  protected read(h5: Hdf5File, box: VolumeBox): VolumeData {
    return readSlice(h5, box, this.options);
  }
}

/**
 * Hdf5ChunkTileProcessor: the tile's plane of its block file. A missing file is a missing tile
 * (an error naming it), or zeros with `fill_missing: true` (the original always gave zeros, and
 * 512 x 512 whatever the tile size).
 */
export class Hdf5ChunkTileProcessor extends Hdf5TileProcessor {
  private options!: Parameters<typeof readChunkFile>[2];
  private fillMissing = false;

  protected configure(params: PluginParams): void {
    checkSingleTimePoint(this.job, 'HDF5 chunk files');
    const size = this.job.tile_size!;
    this.options = {
      dataset: stringParam(params, 'data_name', WHERE),
      chunk: { x: size.x, y: size.y, z: intParam(params, 'z_chunk_size', WHERE, 1) },
      datatype: datatypeParam(params, ['uint8', 'uint16', 'uint32', 'uint64']),
    };
    const fill = params.fill_missing ?? false;
    if (typeof fill !== 'boolean')
      throw new PluginParamError(`${WHERE}.params.fill_missing`, 'must be true or false');
    this.fillMissing = fill;
  }

  protected read(h5: Hdf5File, box: VolumeBox): VolumeData {
    return readChunkFile(h5, box, this.options);
  }

  protected override missing(file: string, box: VolumeBox): VolumeData {
    if (!this.fillMissing)
      throw new TileError(file, 'file not found (fill_missing: true reads missing chunk files as zeros)');
    return zeroBox(this.options.datatype, box);
  }
}

/** Hdf5SingleFileTileProcessor: one (z, y, x) dataset, shifted by offset_x/y/z; see readSingleFile. */
export class Hdf5SingleFileTileProcessor extends Hdf5TileProcessor {
  private options!: Parameters<typeof readSingleFile>[2];

  protected configure(params: PluginParams): void {
    checkSingleTimePoint(this.job, 'HDF5 single files');
    this.options = {
      dataset: stringParam(params, 'data_name', WHERE),
      shift: {
        x: intParam(params, 'offset_x', WHERE, -Infinity, 0),
        y: intParam(params, 'offset_y', WHERE, -Infinity, 0),
        z: intParam(params, 'offset_z', WHERE, -Infinity, 0),
      },
      datatype: datatypeParam(params, ['uint8', 'uint16', 'uint32', 'uint64']),
    };
  }

  protected read(h5: Hdf5File, box: VolumeBox): VolumeData {
    return readSingleFile(h5, box, this.options);
  }
}
