/**
 * Validation of a job config: every problem is reported with the JSON path it concerns and the rule
 * it breaks. Pure, so the CLI, the validate command and the job's first activity share it.
 */
import {
  isCustomPluginClass,
  knownPluginClasses,
  resolvePluginName,
  type PluginKind,
} from '../plugins/names.js';
import { SPACE_UNITS } from '../destinations/zarr-metadata.js';
import { BOSS_CUBOID } from '../extent/grid.js';
import { MAX_LEVEL } from '../pyramid/levels.js';
import { COMPRESSORS, DATATYPES, type JobConfig } from './types.js';

import { ConfigError, type ConfigProblem } from '../errors.js';
export { ConfigError, type ConfigProblem } from '../errors.js';

const SCHEMAS: Record<string, string> = {
  'boss-v0.1-schema': 'BossValidatorV01',
  'boss-v0.2-schema': 'BossValidatorV02',
};
const RESOURCE_NAME = /^[A-Za-z0-9_-]{1,255}$/;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Checker {
  readonly problems: ConfigProblem[] = [];

  fail(path: string, rule: string): void {
    this.problems.push({ path, rule });
  }

  object(parent: Json, key: string, path: string, required = true): Json | undefined {
    const v = parent[key];
    if (v === undefined) {
      if (required) this.fail(path, 'is required (an object)');
      return undefined;
    }
    if (!isObject(v)) {
      this.fail(path, `must be an object, not ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  string(parent: Json, key: string, path: string, required = true): string | undefined {
    const v = parent[key];
    if (v === undefined) {
      if (required) this.fail(path, 'is required (a string)');
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0) {
      this.fail(path, `must be a non-empty string, not ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(
    parent: Json,
    key: string,
    path: string,
    allowed: readonly T[],
    required = true,
  ): T | undefined {
    const v = parent[key];
    if (v === undefined) {
      if (required) this.fail(path, `is required (one of ${allowed.join(', ')})`);
      return undefined;
    }
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      this.fail(path, `must be one of ${allowed.join(', ')}, not ${JSON.stringify(v)}`);
      return undefined;
    }
    return v as T;
  }

  integer(parent: Json, key: string, path: string, min: number, required = true): number | undefined {
    const v = parent[key];
    if (v === undefined) {
      if (required) this.fail(path, `is required (an integer >= ${min})`);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      this.fail(path, `must be an integer >= ${min}, not ${JSON.stringify(v)}`);
      return undefined;
    }
    return v;
  }

  range(parent: Json, key: string, path: string, required = true): void {
    const v = parent[key];
    if (v === undefined) {
      if (required) this.fail(path, 'is required ([start, stop) as two integers)');
      return;
    }
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      !v.every((n) => typeof n === 'number' && Number.isSafeInteger(n))
    ) {
      this.fail(path, `must be [start, stop) as two integers, not ${JSON.stringify(v)}`);
      return;
    }
    const [start, stop] = v as [number, number];
    if (start < 0) this.fail(path, `start must be >= 0, not ${start}`);
    if (start >= stop) this.fail(path, `start (${start}) must be less than stop (${stop})`);
  }

  /** In a section that is ours, a key we do not know is a mistake (a misspelt option would be ignored). */
  knownKeys(obj: Json, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj))
      if (!known.includes(key)) this.fail(`${path}.${key}`, `is not a known key; known: ${known.join(', ')}`);
  }

  /**
   * In a section of the original's, other keys stay accepted; only a near-miss of one of our own
   * options is reported, since it cannot be meant as anything else.
   */
  nearMisses(obj: Json, path: string, ours: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      const meant = ours.find((o) => o !== key && editDistance(o, key) <= 2);
      if (meant) this.fail(`${path}.${key}`, `is not a known key; did you mean ${meant}?`);
    }
  }

  plugin(parent: Json, key: string, path: string, kind: PluginKind, required: boolean): void {
    const p = this.object(parent, key, path, required);
    if (!p) return;
    const cls = this.string(p, 'class', `${path}.class`);
    if (cls !== undefined && isCustomPluginClass(cls)) {
      if (!/^[^#]+#[A-Za-z_$][A-Za-z0-9_$]*$/.test(cls)) {
        this.fail(
          `${path}.class`,
          `a custom plugin is MODULE#ExportName (e.g. ./my-layout.mjs#MyPathProcessor), not ${JSON.stringify(cls)}`,
        );
      }
    } else if (cls !== undefined) {
      const found = resolvePluginName(cls);
      if (!found) {
        this.fail(
          `${path}.class`,
          `unknown ${kind} processor ${JSON.stringify(cls)}; known: ${knownPluginClasses(kind).join(', ')}`,
        );
      } else if (found.kind !== kind) {
        this.fail(
          `${path}.class`,
          `${JSON.stringify(cls)} is a ${found.kind} processor, not a ${kind} processor`,
        );
      }
    }
    if (p.params !== undefined && !isObject(p.params)) this.fail(`${path}.params`, 'must be an object');
  }
}

/** Levenshtein distance, for telling a misspelling of one of our keys. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** Keys of each backend: the Boss's are the original's plus our options; zarr and discard are ours. */
const BOSS_OPTIONS = ['rate_limit', 'skip_zero_chunks'] as const;
const BACKEND_KEYS = {
  zarr: [
    'name',
    'path',
    'datatype',
    'compressor',
    'chunk_size',
    'multiscale',
    'shard_size',
    'voxel_size',
    'voxel_unit',
  ],
  discard: ['name', 'datatype', 'compressor', 'chunk_size'],
} as const;
const ENGINE_KEYS = [
  'chunks_per_batch',
  'window',
  'batches_per_run',
  'max_failed_fraction',
  'failure_check_after',
] as const;

function checkBackend(c: Checker, client: Json): void {
  const backend = c.object(client, 'backend', 'client.backend');
  if (!backend) return;
  const name = c.oneOf(backend, 'name', 'client.backend.name', ['boss', 'zarr', 'discard'] as const);
  if (name === 'boss') {
    c.nearMisses(backend, 'client.backend', BOSS_OPTIONS);
    c.string(backend, 'class', 'client.backend.class');
    c.string(backend, 'host', 'client.backend.host');
    c.oneOf(backend, 'protocol', 'client.backend.protocol', ['http', 'https'] as const);
    if (
      backend.rate_limit !== undefined &&
      !(typeof backend.rate_limit === 'number' && backend.rate_limit > 0)
    ) {
      c.fail(
        'client.backend.rate_limit',
        `must be a number of requests per second > 0, not ${JSON.stringify(backend.rate_limit)}`,
      );
    }
    for (const key of ['skip_zero_chunks', 'downsample']) {
      if (backend[key] !== undefined && typeof backend[key] !== 'boolean')
        c.fail(`client.backend.${key}`, `must be true or false, not ${JSON.stringify(backend[key])}`);
    }
  } else if (name === 'zarr' || name === 'discard') {
    c.knownKeys(backend, 'client.backend', BACKEND_KEYS[name]);
    if (name === 'zarr') c.string(backend, 'path', 'client.backend.path');
    c.oneOf(backend, 'datatype', 'client.backend.datatype', DATATYPES, false);
    c.oneOf(backend, 'compressor', 'client.backend.compressor', COMPRESSORS, false);
    const size = c.object(backend, 'chunk_size', 'client.backend.chunk_size', false);
    if (size) {
      c.knownKeys(size, 'client.backend.chunk_size', ['x', 'y', 'z']);
      for (const axis of ['x', 'y', 'z']) c.integer(size, axis, `client.backend.chunk_size.${axis}`, 1);
    }
    if (name === 'zarr') checkZarrLayout(c, backend);
  }
}

/** The zarr backend's pyramid, shards and physical voxel size. */
function checkZarrLayout(c: Checker, backend: Json): void {
  const multiscale = c.object(backend, 'multiscale', 'client.backend.multiscale', false);
  if (multiscale) {
    c.knownKeys(multiscale, 'client.backend.multiscale', ['levels', 'method', 'downsample']);
    const levels = multiscale.levels;
    if (levels !== undefined && levels !== 'auto')
      c.integer(multiscale, 'levels', 'client.backend.multiscale.levels', 0);
    if (typeof levels === 'number' && levels > MAX_LEVEL)
      c.fail('client.backend.multiscale.levels', `must be "auto" or at most ${MAX_LEVEL}, not ${levels}`);
    c.oneOf(multiscale, 'method', 'client.backend.multiscale.method', ['mean', 'mode'] as const, false);
    c.oneOf(
      multiscale,
      'downsample',
      'client.backend.multiscale.downsample',
      ['anisotropic', 'isotropic'] as const,
      false,
    );
  }
  const shard = c.object(backend, 'shard_size', 'client.backend.shard_size', false);
  if (shard) {
    c.knownKeys(shard, 'client.backend.shard_size', ['x', 'y', 'z']);
    const chunk = isObject(backend.chunk_size) ? backend.chunk_size : BOSS_CUBOID;
    for (const axis of ['x', 'y', 'z'] as const) {
      const v = c.integer(shard, axis, `client.backend.shard_size.${axis}`, 1);
      const m = chunk[axis];
      if (v !== undefined && typeof m === 'number' && m >= 1 && v % m !== 0)
        c.fail(`client.backend.shard_size.${axis}`, `must be a multiple of the chunk size ${m}, not ${v}`);
    }
  }
  const voxel = c.object(backend, 'voxel_size', 'client.backend.voxel_size', false);
  if (voxel) {
    c.knownKeys(voxel, 'client.backend.voxel_size', ['x', 'y', 'z']);
    for (const axis of ['x', 'y', 'z']) {
      const v = voxel[axis];
      if (!(typeof v === 'number' && Number.isFinite(v) && v > 0))
        c.fail(`client.backend.voxel_size.${axis}`, `must be a number > 0, not ${JSON.stringify(v)}`);
    }
  }
  c.oneOf(backend, 'voxel_unit', 'client.backend.voxel_unit', SPACE_UNITS, false);
}

function checkIngestJob(
  c: Checker,
  job: Json,
  version: string | undefined,
): 'tile' | 'volumetric' | undefined {
  c.integer(job, 'resolution', 'ingest_job.resolution', 0);
  let type: 'tile' | 'volumetric' | undefined = 'tile';
  if (version === 'boss-v0.2-schema') {
    type = c.oneOf(job, 'ingest_type', 'ingest_job.ingest_type', ['tile', 'volumetric'] as const);
  } else if (job.ingest_type !== undefined) {
    type = c.oneOf(job, 'ingest_type', 'ingest_job.ingest_type', ['tile'] as const);
  }
  const extent = c.object(job, 'extent', 'ingest_job.extent');
  if (extent) {
    for (const axis of ['x', 'y', 'z']) c.range(extent, axis, `ingest_job.extent.${axis}`);
    c.range(extent, 't', 'ingest_job.extent.t', false);
    checkExtentSize(c, extent);
  }
  if (type === 'tile') {
    const tile = c.object(job, 'tile_size', 'ingest_job.tile_size');
    if (tile) {
      c.integer(tile, 'x', 'ingest_job.tile_size.x', 1);
      c.integer(tile, 'y', 'ingest_job.tile_size.y', 1);
      for (const axis of ['z', 't']) {
        if (tile[axis] !== undefined && tile[axis] !== 1) {
          c.fail(
            `ingest_job.tile_size.${axis}`,
            `must be 1 (one image per slice and time point), not ${JSON.stringify(tile[axis])}`,
          );
        }
      }
    }
  } else if (type === 'volumetric') {
    const chunk = c.object(job, 'chunk_size', 'ingest_job.chunk_size');
    if (chunk) {
      const multiples: Record<string, number> = { x: 512, y: 512, z: 16 };
      for (const [axis, m] of Object.entries(multiples)) {
        const v = c.integer(chunk, axis, `ingest_job.chunk_size.${axis}`, 1);
        if (v !== undefined && v % m !== 0)
          c.fail(`ingest_job.chunk_size.${axis}`, `must be a multiple of ${m}, not ${v}`);
      }
    }
  }
  return type;
}

/**
 * An extent past 2^53 voxels (9 PB of uint8, beyond any source) is a typo, often zeros too many;
 * past it, chunk counts are no longer exact integers either.
 */
function checkExtentSize(c: Checker, extent: Json): void {
  const spans = ['x', 'y', 'z', 't'].map((axis) => {
    const r = extent[axis];
    if (r === undefined && axis === 't') return 1;
    return Array.isArray(r) && r.length === 2 && r.every(Number.isSafeInteger) ? r[1] - r[0] : NaN;
  });
  if (spans.some((n) => !(n > 0))) return;
  const voxels = spans.reduce((a, b) => a * b, 1);
  if (voxels > Number.MAX_SAFE_INTEGER)
    c.fail(
      'ingest_job.extent',
      `spans ${spans.join(' x ')} (x, y, z, t) = ${voxels.toExponential(2)} voxels, more than 2^53 ` +
        `(${Number.MAX_SAFE_INTEGER.toExponential(2)}) that no source holds; check the extent for zeros too many`,
    );
}

function checkEngine(c: Checker, engine: Json): void {
  c.knownKeys(engine, 'engine', ENGINE_KEYS);
  c.integer(engine, 'chunks_per_batch', 'engine.chunks_per_batch', 1, false);
  c.integer(engine, 'window', 'engine.window', 1, false);
  c.integer(engine, 'batches_per_run', 'engine.batches_per_run', 1, false);
  c.integer(engine, 'failure_check_after', 'engine.failure_check_after', 1, false);
  const fraction = engine.max_failed_fraction;
  if (fraction !== undefined && (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1)))
    c.fail(
      'engine.max_failed_fraction',
      `must be a number in (0, 1] (1 never stops the job), not ${JSON.stringify(fraction)}`,
    );
  if (typeof engine.window === 'number' && engine.window > 500) {
    c.fail(
      'engine.window',
      `must be at most 500 (Temporal allows 2,000 pending activities per job), not ${engine.window}`,
    );
  }
}

/** Returns every problem found; an empty list means the config is usable. */
export function findConfigProblems(raw: unknown): ConfigProblem[] {
  const c = new Checker();
  if (!isObject(raw)) {
    c.fail('', 'the config must be a JSON object');
    return c.problems;
  }
  const root = raw;
  let version: string | undefined;
  const schema = c.object(root, 'schema', 'schema');
  if (schema) {
    version = c.oneOf(schema, 'name', 'schema.name', Object.keys(SCHEMAS));
    const validator = c.string(schema, 'validator', 'schema.validator');
    if (validator !== undefined && version !== undefined && validator !== SCHEMAS[version]) {
      c.fail(
        'schema.validator',
        `must be ${SCHEMAS[version]} for ${version}, not ${JSON.stringify(validator)}`,
      );
    }
  }
  const client = c.object(root, 'client', 'client');
  const database = c.object(root, 'database', 'database');
  if (database) {
    for (const key of ['collection', 'experiment', 'channel']) {
      const v = c.string(database, key, `database.${key}`);
      if (v !== undefined && !RESOURCE_NAME.test(v)) {
        c.fail(`database.${key}`, `must be 1 to 255 characters of A-Z a-z 0-9 _ -, not ${JSON.stringify(v)}`);
      }
    }
  }
  const job = c.object(root, 'ingest_job', 'ingest_job');
  const type = job ? checkIngestJob(c, job, version) : undefined;
  if (client) {
    checkBackend(c, client);
    c.plugin(client, 'path_processor', 'client.path_processor', 'path', true);
    if (type === 'tile') c.plugin(client, 'tile_processor', 'client.tile_processor', 'tile', true);
    if (type === 'volumetric') c.plugin(client, 'chunk_processor', 'client.chunk_processor', 'chunk', true);
    // A source Boss's token (the original's intern chunk processor took one) stays off the config.
    for (const key of ['tile_processor', 'chunk_processor']) {
      const plugin = client[key];
      if (isObject(plugin) && isObject(plugin.params) && plugin.params.token !== undefined) {
        c.fail(
          `client.${key}.params.token`,
          "is refused: a token in the config would be stored in the job's history; give the source Boss's token to the workers " +
            "(BOSS_SOURCE_TOKEN, else the destination's: -a/--api-token, INTERN_TOKEN, ~/.intern/intern.cfg)",
        );
      }
    }
  }
  const engine = c.object(root, 'engine', 'engine', false);
  if (engine) checkEngine(c, engine);
  return c.problems;
}

export function validateConfig(raw: unknown, file?: string): JobConfig {
  const problems = findConfigProblems(raw);
  if (problems.length > 0) throw new ConfigError(problems, file);
  return raw as JobConfig;
}
