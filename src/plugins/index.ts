/** Builds a job's source from the class names in its config. */
import type { JobConfig, PluginConfig } from '../config/types.js';
import { TileError, type TileDatatype } from '../tiles/tile.js';
import { tileRange } from '../extent/tiles.js';
import type { SliceSource } from '../chunks/slab.js';
import { loadCustomPlugin } from './custom.js';
import { isCustomPluginClass, resolvePluginName, type PluginKind } from './names.js';
import { PluginParamError, type PathProcessor, type Source, type TileProcessor } from './types.js';

async function instantiate<T extends PathProcessor | TileProcessor>(
  plugin: PluginConfig,
  where: string,
  kind: PluginKind,
  config: JobConfig,
): Promise<T> {
  let instance: T;
  if (isCustomPluginClass(plugin.class)) {
    instance = (await loadCustomPlugin(plugin.class, where, kind)) as T;
  } else {
    const Impl = await resolvePluginName(plugin.class)?.load?.();
    if (!Impl) throw new PluginParamError(`${where}.class`, `unknown plugin ${JSON.stringify(plugin.class)}`);
    instance = new Impl() as T;
  }
  await instance.setup({ ...(plugin.params ?? {}), ingest_job: config.ingest_job });
  return instance;
}

export async function createSource(config: JobConfig): Promise<Source> {
  const tileConfig = config.client.tile_processor;
  if (!tileConfig) throw new PluginParamError('client.tile_processor', 'is required for tile jobs');
  return {
    pathClass: config.client.path_processor.class,
    tileClass: tileConfig.class,
    path: await instantiate<PathProcessor>(
      config.client.path_processor,
      'client.path_processor',
      'path',
      config,
    ),
    tile: await instantiate<TileProcessor>(tileConfig, 'client.tile_processor', 'tile', config),
  };
}

/** The datatype of the extent's first tile, or the TileError that kept it from being read. */
export async function firstTileDatatype(
  source: Source,
  config: JobConfig,
): Promise<TileDatatype | TileError> {
  const { extent, tile_size: size } = config.ingest_job;
  const tiles = tileRange(extent, size!);
  const [xi, yi, z, t] = [tiles.x[0], tiles.y[0], tiles.z[0], tiles.t[0]];
  const file = source.path.process(xi, yi, z, t);
  try {
    // A slice source says its datatype from the file's header, without decoding a whole section.
    const tile = source.tile as Partial<SliceSource> & TileProcessor;
    const rows = await tile.openSlice?.(file, false);
    if (rows) {
      await rows.close();
      return rows.datatype;
    }
    return (await source.tile.process(file, xi, yi, z, t)).datatype;
  } catch (err) {
    if (err instanceof TileError) return err;
    throw err;
  }
}
