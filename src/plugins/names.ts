/**
 * Plugin class names as they appear in configs of the original client, mapped to ours.
 * Pure: config validation uses it without loading any image code.
 */
import type { PathProcessor, TileProcessor } from './types.js';

export type PluginKind = 'path' | 'tile';

/** Our implementation of a layout, named by the original module and class. */
export interface PluginName {
  module: string;
  name: string;
  kind: PluginKind;
  /** The implementing class, imported only when a source is built (so validation loads no image code). */
  load: () => Promise<new () => PathProcessor | TileProcessor>;
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

export function knownPluginClasses(kind: PluginKind): string[] {
  return KNOWN.filter((p) => p.kind === kind).map((p) => `ingestclient.plugins.${p.module}.${p.name}`);
}
