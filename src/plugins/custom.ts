/**
 * Users' own source plugins. A config class `MODULE#ExportName` names a JavaScript module and the
 * class it exports. MODULE is a path (absolute, or relative to the worker's working directory:
 * the CLI rewrites paths relative to the config file to absolute ones), a file: URL, or an
 * installed package. The class is loaded with a dynamic import wherever a source is built (the
 * prepare activity, the chunk threads, `validate`), and wrapped so that its failures are
 * reported like ours, naming the plugin: a bad module or setup fails the job, an exception while
 * reading a tile fails that tile's chunks.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isTransient, TileError, type Tile } from '../tiles/tile.js';
import { customPluginParts, type PluginKind } from './names.js';
import { PluginParamError, type PathProcessor, type PluginParams, type TileProcessor } from './types.js';

function isPath(module: string): boolean {
  return module.startsWith('.') || path.isAbsolute(module);
}

/** A package is looked for from boss-ingest's own location first, then from the working directory. */
async function importModule(module: string): Promise<Record<string, unknown>> {
  if (module.startsWith('file:')) return import(module);
  if (isPath(module)) return import(pathToFileURL(path.resolve(module)).href);
  try {
    return await import(module);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    let resolved: string;
    try {
      resolved = createRequire(path.join(process.cwd(), 'package.json')).resolve(module);
    } catch {
      throw err;
    }
    return import(pathToFileURL(resolved).href);
  }
}

/** The class a config names, instantiated and wrapped; not yet set up. */
export async function loadCustomPlugin(
  className: string,
  where: string,
  kind: PluginKind,
): Promise<PathProcessor | TileProcessor> {
  const { module, exportName } = customPluginParts(className);
  let exports: Record<string, unknown>;
  try {
    exports = await importModule(module);
  } catch (err) {
    if (isTransient(err)) throw err;
    throw new PluginParamError(`${where}.class`, `cannot load module ${module}: ${(err as Error).message}`);
  }
  const Impl = exports[exportName];
  if (typeof Impl !== 'function') {
    const names = Object.keys(exports).join(', ') || 'nothing';
    throw new PluginParamError(
      `${where}.class`,
      `module ${module} has no exported class ${exportName} (it exports ${names})`,
    );
  }
  let instance: { setup?: unknown; process?: unknown };
  try {
    instance = new (Impl as new () => object)();
  } catch (err) {
    throw new PluginParamError(`${where}.class`, `new ${exportName}() failed: ${(err as Error).message}`);
  }
  const signature = kind === 'path' ? 'process(x, y, z, t)' : 'process(file, x, y, z, t)';
  if (typeof instance.process !== 'function') {
    throw new PluginParamError(
      `${where}.class`,
      `${exportName} from ${module} has no ${signature} method, so it is not a ${kind} processor`,
    );
  }
  return kind === 'path'
    ? new GuardedPathProcessor(instance as PathProcessor, className, where)
    : new GuardedTileProcessor(instance as TileProcessor, className, where);
}

/**
 * Our errors keep their meaning across copies of boss-ingest (instanceof checks a shared symbol);
 * a plain Error named like one of ours, with its fields, is taken as one too.
 */
function asKnownError(err: unknown): Error | undefined {
  if (err instanceof TileError || err instanceof PluginParamError) return err;
  const e = err as { name?: unknown; file?: unknown; reason?: unknown; path?: unknown; rule?: unknown };
  if (e?.name === 'TileError' && typeof e.file === 'string' && typeof e.reason === 'string')
    return new TileError(e.file, e.reason);
  if (e?.name === 'PluginParamError' && typeof e.path === 'string' && typeof e.rule === 'string')
    return new PluginParamError(e.path, e.rule);
  return undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

async function setupPlugin(
  inner: { setup?: (params: PluginParams) => void | Promise<void> },
  name: string,
  where: string,
  params: PluginParams,
): Promise<void> {
  if (typeof inner.setup !== 'function') return;
  try {
    await inner.setup(params);
  } catch (err) {
    if (isTransient(err)) throw err;
    const known = asKnownError(err);
    if (known instanceof PluginParamError) throw known;
    throw new PluginParamError(`${where}.params`, `${name} setup failed: ${message(err)}`);
  }
}

class GuardedPathProcessor implements PathProcessor {
  constructor(
    private readonly inner: PathProcessor,
    private readonly name: string,
    private readonly where: string,
  ) {}

  setup(params: PluginParams): Promise<void> {
    return setupPlugin(this.inner, this.name, this.where, params);
  }

  process(x: number, y: number, z: number, t: number): string {
    const tile = `tile (x ${x}, y ${y}, z ${z}, t ${t})`;
    let file: unknown;
    try {
      file = this.inner.process(x, y, z, t);
    } catch (err) {
      if (isTransient(err)) throw err;
      throw asKnownError(err) ?? new TileError(tile, `${this.name} failed: ${message(err)}`);
    }
    if (typeof file !== 'string' || file.length === 0) {
      throw new TileError(
        tile,
        `${this.name} returned ${JSON.stringify(file) ?? String(file)}, not a file path`,
      );
    }
    return file;
  }
}

class GuardedTileProcessor implements TileProcessor {
  constructor(
    private readonly inner: TileProcessor,
    private readonly name: string,
    private readonly where: string,
  ) {}

  setup(params: PluginParams): Promise<void> {
    return setupPlugin(this.inner, this.name, this.where, params);
  }

  async process(file: string, x: number, y: number, z: number, t: number): Promise<Tile> {
    let tile: unknown;
    try {
      tile = await this.inner.process(file, x, y, z, t);
    } catch (err) {
      if (isTransient(err)) throw err;
      const known = asKnownError(err);
      if (known) throw known;
      throw new TileError(file, `${this.name} failed: ${message(err)}`);
    }
    const problem = tileProblem(tile);
    if (problem) throw new TileError(file, `${this.name} returned ${problem}`);
    return tile as Tile;
  }
}

/** What is wrong with a value that should be a Tile, if anything. */
function tileProblem(value: unknown): string | undefined {
  const t = value as Partial<Tile> | null;
  if (typeof t !== 'object' || t === null) return `${String(value)}, not a Tile`;
  if (!Number.isSafeInteger(t.width) || !Number.isSafeInteger(t.height) || t.width! <= 0 || t.height! <= 0)
    return `a tile of size ${t.width}x${t.height}; width and height must be positive integers`;
  const typed =
    (t.datatype === 'uint8' && t.data instanceof Uint8Array) ||
    (t.datatype === 'uint16' && t.data instanceof Uint16Array);
  if (!typed) {
    const data = t.data?.constructor?.name ?? String(t.data);
    return (
      `datatype ${JSON.stringify(t.datatype)} with data ${data}; ` +
      'a Tile is uint8 with a Uint8Array or uint16 with a Uint16Array'
    );
  }
  // A plugin is never asked to place its tiles (see TilePlace): one that says it did has samples nowhere.
  if (t.placed !== undefined) return 'a tile with `placed` set; a plugin returns its samples in `data`';
  if (t.data!.length !== t.width! * t.height!)
    return `${t.data!.length} samples for a ${t.width}x${t.height} tile (width * height = ${t.width! * t.height!})`;
  return undefined;
}
