/**
 * The package's public interface, for authors of their own source plugins: a path processor maps
 * tile indices to a file, a tile processor reads the tile from it. A config names a plugin as
 * `MODULE#ExportName` (e.g. `./my-layout.mjs#MyPathProcessor`); see examples/custom-source/.
 *
 * Importing this module starts nothing: it holds the plugin types and the two errors a plugin
 * throws to be reported like boss-ingest's own sources.
 */
export type { IngestJobSection, Range } from './config/types.js';
export type { PathProcessor, PluginParams, TileProcessor } from './plugins/types.js';
export { PluginParamError } from './plugins/types.js';
export type { Tile, TileDatatype } from './tiles/tile.js';
export { TileError } from './tiles/tile.js';
