/**
 * The path processors of the original's HDF5 plugins (module `hdf5`): which file holds tile
 * (x, y) of slice z. With `filesystem: "s3"` in the tile processor the path is a key in its bucket.
 */
import path from 'node:path';
import type { IngestJobSection } from '../../config/types.js';
import { blockOf, chunkFileName, type ChunkFileNaming } from './chunk-files.js';
import { expandBaseFilename } from '../base-filename.js';
import { intParam, PluginParamError, stringParam, type PathProcessor, type PluginParams } from '../types.js';

const WHERE = 'client.path_processor';

/**
 * Hdf5TimeSeriesPathProcessor and Hdf5SlicePathProcessor (the same code in the original): one
 * file per z slice, `root_dir/base_filename.extension` with base_filename's `<o:N p:M>` tokens.
 */
export class Hdf5PlanePathProcessor implements PathProcessor {
  private root = '';
  private extension = '';
  private base = '';

  setup(params: PluginParams): void {
    this.root = stringParam(params, 'root_dir', WHERE);
    this.extension = stringParam(params, 'extension', WHERE);
    this.base = stringParam(params, 'base_filename', WHERE);
  }

  process(x: number, y: number, z: number): string {
    return path.join(this.root, `${expandBaseFilename(this.base, x, y, z)}.${this.extension}`);
  }
}

/**
 * Hdf5ChunkPathProcessor: the block file holding the tile, named
 * `{prefix}_{xs}-{xe}_{ys}-{ye}_{zs}-{ze}.{extension}` (see chunk-files.ts). A block is one tile
 * wide and high, so x_chunk_size and y_chunk_size must equal ingest_job.tile_size.
 */
export class Hdf5ChunkPathProcessor implements PathProcessor {
  private root = '';
  private naming!: ChunkFileNaming;
  private job!: IngestJobSection;

  setup(params: PluginParams): void {
    this.root = stringParam(params, 'root_dir', WHERE);
    this.job = params.ingest_job;
    const chunk = {
      x: intParam(params, 'x_chunk_size', WHERE, 1),
      y: intParam(params, 'y_chunk_size', WHERE, 1),
      z: intParam(params, 'z_chunk_size', WHERE, 1),
    };
    for (const a of ['x', 'y'] as const) {
      if (chunk[a] !== this.job.tile_size?.[a])
        throw new PluginParamError(
          `${WHERE}.params.${a}_chunk_size`,
          `must equal ingest_job.tile_size.${a} (${this.job.tile_size?.[a]}): each chunk file is one tile, not ${chunk[a]}`,
        );
    }
    const python = params.use_python_convention ?? true;
    if (typeof python !== 'boolean')
      throw new PluginParamError(`${WHERE}.params.use_python_convention`, 'must be true or false');
    this.naming = {
      prefix: stringParam(params, 'prefix', WHERE),
      extension: stringParam(params, 'extension', WHERE),
      chunk,
      nameOffset: {
        x: intParam(params, 'x_offset', WHERE, -Infinity, 0),
        y: intParam(params, 'y_offset', WHERE, -Infinity, 0),
        z: intParam(params, 'z_offset', WHERE, -Infinity, 0),
      },
      pythonConvention: python,
    };
  }

  process(x: number, y: number, z: number): string {
    const size = this.job.tile_size!;
    const block = blockOf(this.naming.chunk, { x: x * size.x, y: y * size.y, z });
    return path.join(this.root, chunkFileName(this.naming, block));
  }
}

/** Hdf5SingleFilePathProcessor: `filename` for every tile. */
export class Hdf5SingleFilePathProcessor implements PathProcessor {
  private file = '';

  setup(params: PluginParams): void {
    this.file = stringParam(params, 'filename', WHERE);
  }

  process(): string {
    return this.file;
  }
}
