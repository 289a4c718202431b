/**
 * Plugin class names as they appear in configs of the original client, mapped to ours.
 * Pure: config validation uses it without loading any image code.
 */
import type { JobConfig } from '../config/types.js';
import type { PathProcessor, TileProcessor } from './types.js';

/** `chunk`: the volumetric sources of v0.2 configs (`client.chunk_processor`). */
export type PluginKind = 'path' | 'tile' | 'chunk';

/** Our implementation of a layout, named by the original module and class. */
export interface PluginName {
  module: string;
  name: string;
  kind: PluginKind;
  /** A tile processor whose files each hold one whole z slice: jobs read them a z-slab at a time. */
  slices?: true;
  /**
   * The implementing class, imported only when a source is built (so validation loads no image
   * code); none for the names of volumetric jobs, whose chunk processor params say what to read.
   */
  load?: () => Promise<new () => PathProcessor | TileProcessor>;
}

/** Modules that were renamed in the original client: older spelling -> current one. */
const MODULE_ALIASES: Record<string, string> = { filesystem: 'catmaid' };

/** Every source we implement: the one table of names, kinds and implementations. */
const KNOWN: PluginName[] = [
  {
    module: 'catmaid',
    name: 'CatmaidFileImageStackPathProcessor',
    kind: 'path',
    load: () => import('./catmaid.js').then((m) => m.CatmaidFileImageStackPathProcessor),
  },
  {
    module: 'catmaid',
    name: 'CatmaidFileImageStackTileProcessor',
    kind: 'tile',
    load: () => import('./catmaid.js').then((m) => m.CatmaidTileProcessor),
  },
  {
    module: 'catmaid',
    name: 'CatmaidFileImageStackZoomLevelPathProcessor',
    kind: 'path',
    load: () => import('./catmaid.js').then((m) => m.CatmaidFileImageStackZoomLevelPathProcessor),
  },
  {
    module: 'catmaid',
    name: 'CatmaidFileImageStackZoomLevelTileProcessor',
    kind: 'tile',
    load: () => import('./catmaid.js').then((m) => m.CatmaidTileProcessor),
  },
  {
    module: 'catmaid',
    name: 'CatmaidDirectoryImageStackPathProcessor',
    kind: 'path',
    load: () => import('./catmaid.js').then((m) => m.CatmaidDirectoryImageStackPathProcessor),
  },
  {
    module: 'catmaid',
    name: 'CatmaidDirectoryImageStackTileProcessor',
    kind: 'tile',
    load: () => import('./catmaid.js').then((m) => m.CatmaidTileProcessor),
  },
  {
    module: 'stack',
    name: 'ZindexStackPathProcessor',
    kind: 'path',
    load: () => import('./zindex.js').then((m) => m.ZindexStackPathProcessor),
  },
  {
    module: 'stack',
    name: 'ZindexStackTileProcessor',
    kind: 'tile',
    slices: true,
    load: () => import('./zindex.js').then((m) => m.ZindexStackTileProcessor),
  },
  {
    module: 'multipage_tiff',
    name: 'SingleTimeTiffPathProcessor',
    kind: 'path',
    load: () => import('./multipage-tiff.js').then((m) => m.SingleTimeTiffPathProcessor),
  },
  {
    module: 'multipage_tiff',
    name: 'SingleTimeTiffTileProcessor',
    kind: 'tile',
    load: () => import('./multipage-tiff.js').then((m) => m.SingleTimeTiffTileProcessor),
  },
  {
    module: 'multipage_tiff',
    name: 'TiffMultiFileHyperStackPathProcessor',
    kind: 'path',
    load: () => import('./multipage-tiff.js').then((m) => m.TiffMultiFileHyperStackPathProcessor),
  },
  {
    module: 'multipage_tiff',
    name: 'TiffMultiFileHyperStackTileProcessor',
    kind: 'tile',
    load: () => import('./multipage-tiff.js').then((m) => m.TiffMultiFileHyperStackTileProcessor),
  },
  {
    module: 'synthetic',
    name: 'SyntheticPathProcessor',
    kind: 'path',
    load: () => import('./synthetic.js').then((m) => m.SyntheticPathProcessor),
  },
  {
    module: 'synthetic',
    name: 'SyntheticTileProcessor',
    kind: 'tile',
    load: () => import('./synthetic.js').then((m) => m.SyntheticTileProcessor),
  },
  {
    module: 'catmaid',
    name: 'CatmaidURLPathProcessor',
    kind: 'path',
    load: () => import('./types.js').then((m) => m.NoFilePathProcessor),
  },
  {
    module: 'catmaid',
    name: 'CatmaidURLTileProcessor',
    kind: 'tile',
    load: () => import('./catmaid-url.js').then((m) => m.CatmaidUrlTileProcessor),
  },
  {
    // The original's class name, misspelled.
    module: 'catmaid',
    name: 'CatmainURLTileProcessor',
    kind: 'tile',
    load: () => import('./catmaid-url.js').then((m) => m.CatmaidUrlTileProcessor),
  },
  {
    module: 'hdf5',
    name: 'Hdf5TimeSeriesPathProcessor',
    kind: 'path',
    load: () => import('./hdf5/paths.js').then((m) => m.Hdf5PlanePathProcessor),
  },
  {
    module: 'hdf5',
    name: 'Hdf5TimeSeriesTileProcessor',
    kind: 'tile',
    load: () => import('./hdf5/tiles.js').then((m) => m.Hdf5TimeSeriesTileProcessor),
  },
  {
    module: 'hdf5',
    name: 'Hdf5TimeSeriesLabelTileProcessor',
    kind: 'tile',
    load: () => import('./hdf5/tiles.js').then((m) => m.Hdf5TimeSeriesLabelTileProcessor),
  },
  {
    module: 'hdf5',
    name: 'Hdf5SlicePathProcessor',
    kind: 'path',
    load: () => import('./hdf5/paths.js').then((m) => m.Hdf5PlanePathProcessor),
  },
  {
    module: 'hdf5',
    name: 'Hdf5SliceTileProcessor',
    kind: 'tile',
    load: () => import('./hdf5/tiles.js').then((m) => m.Hdf5SliceTileProcessor),
  },
  {
    module: 'hdf5',
    name: 'Hdf5ChunkPathProcessor',
    kind: 'path',
    load: () => import('./hdf5/paths.js').then((m) => m.Hdf5ChunkPathProcessor),
  },
  {
    module: 'hdf5',
    name: 'Hdf5ChunkTileProcessor',
    kind: 'tile',
    load: () => import('./hdf5/tiles.js').then((m) => m.Hdf5ChunkTileProcessor),
  },
  {
    module: 'hdf5',
    name: 'Hdf5SingleFilePathProcessor',
    kind: 'path',
    load: () => import('./hdf5/paths.js').then((m) => m.Hdf5SingleFilePathProcessor),
  },
  {
    module: 'hdf5',
    name: 'Hdf5SingleFileTileProcessor',
    kind: 'tile',
    load: () => import('./hdf5/tiles.js').then((m) => m.Hdf5SingleFileTileProcessor),
  },
  // The original's test sources (modules `path` and `tile`): the packaged test tile everywhere,
  // read as any one-file tile is; or position-seeded noise, which names no file.
  {
    module: 'path',
    name: 'TestPathProcessor',
    kind: 'path',
    load: () => import('./test-tile.js').then((m) => m.TestPathProcessor),
  },
  {
    module: 'tile',
    name: 'TestTileProcessor',
    kind: 'tile',
    load: () => import('./catmaid.js').then((m) => m.CatmaidTileProcessor),
  },
  {
    module: 'path',
    name: 'TestPassThroughPathProcessor',
    kind: 'path',
    load: () => import('./types.js').then((m) => m.NoFilePathProcessor),
  },
  {
    module: 'tile',
    name: 'TestRandomTileProcessor',
    kind: 'tile',
    load: () => import('./random-tile.js').then((m) => m.TestRandomTileProcessor),
  },
  // Volumetric: read by src/volumes/open.ts from the chunk processor's params; each chunk
  // processor's path processor reads nothing (it returns "" in the original; intern's serves its
  // tile processor too).
  { module: 'zarr', name: 'ZarrPathProcessor', kind: 'path' },
  { module: 'zarr', name: 'ZarrChunkProcessor', kind: 'chunk' },
  { module: 'cloudvolume', name: 'CloudVolumePathProcessor', kind: 'path' },
  { module: 'cloudvolume', name: 'CloudVolumeChunkProcessor', kind: 'chunk' },
  {
    module: 'intern',
    name: 'InternPathProcessor',
    kind: 'path',
    load: () => import('./types.js').then((m) => m.NoFilePathProcessor),
  },
  {
    module: 'intern',
    name: 'InternTileProcessor',
    kind: 'tile',
    load: () => import('./intern-tile.js').then((m) => m.InternTileProcessor),
  },
  { module: 'intern', name: 'InternChunkProcessor', kind: 'chunk' },
];

const CLASS_PATTERN =
  /^(?:ingest|ingestclient|boss_ingest)\.plugins\.([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** Resolves `ingest.plugins.<module>.<Class>`, `ingestclient.plugins.<module>.<Class>` or `boss_ingest.plugins.<module>.<Class>`. */
export function resolvePluginName(className: string): PluginName | undefined {
  const m = CLASS_PATTERN.exec(className);
  if (!m) return undefined;
  const module = MODULE_ALIASES[m[1]!] ?? m[1]!;
  return KNOWN.find((p) => p.module === module && p.name === m[2]);
}

/** A user's own plugin: `MODULE#ExportName`, MODULE a path (relative to the config file) or a package. */
export function isCustomPluginClass(className: string): boolean {
  return className.includes('#') || className.startsWith('.') || className.startsWith('/');
}

/** `MODULE#ExportName` split at its last `#`. */
export function customPluginParts(className: string): { module: string; exportName: string } {
  const at = className.lastIndexOf('#');
  return { module: className.slice(0, at), exportName: className.slice(at + 1) };
}

/** True for a custom plugin module written as a path relative to the config file (`./`, `../`). */
export function isRelativeModule(module: string): boolean {
  return /^\.\.?[\\/]/.test(module);
}

/** True when the job's tile processor reads whole z slices (see `PluginName.slices`). */
export function readsWholeSlices(config: JobConfig): boolean {
  const tile = config.client.tile_processor;
  return config.ingest_job.ingest_type !== 'volumetric' && !!tile && !!resolvePluginName(tile.class)?.slices;
}

export function knownPluginClasses(kind: PluginKind): string[] {
  return KNOWN.filter((p) => p.kind === kind).map((p) => `ingestclient.plugins.${p.module}.${p.name}`);
}
