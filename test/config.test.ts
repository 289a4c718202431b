// Unit tests of job config validation and loading (src/config/validate.ts, src/config/load.ts).
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile, withMultiscale, withZarrOutput } from '../src/config/load.js';
import type { JobConfig } from '../src/config/types.js';
import {
  ConfigError,
  findConfigProblems,
  validateConfig,
  type ConfigProblem,
} from '../src/config/validate.js';
import { ORIGINAL_CONFIGS } from './fixtures/original-configs.js';

type Json = Record<string, unknown>;

const SUPPORTED = [
  'catmaid-file-stack.json',
  'catmaid-v0.2-tile.json',
  'zindex-stack.json',
  'tiff-hyperstack.json',
  'time-series-tiff.json',
];

function original(name: string): Json {
  const text = ORIGINAL_CONFIGS[name];
  assert.ok(text !== undefined, `no original config ${name}`);
  return JSON.parse(text) as Json;
}

/** A valid v0.1 tile job (the original CATMAID example). */
function v01(): Json {
  return original('catmaid-file-stack.json');
}

/** A valid v0.2 tile job. */
function v02(): Json {
  return original('catmaid-v0.2-tile.json');
}

/**
 * A copy of `config` with the value at a dotted path replaced (`undefined` deletes it).
 * Intermediate objects must exist.
 */
function withField(config: Json, dotted: string, value: unknown): Json {
  const copy = structuredClone(config);
  const keys = dotted.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    assert.ok(next && typeof next === 'object', `test setup: ${dotted} has no parent object at ${key}`);
    node = next as Json;
  }
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

function describeProblems(problems: ConfigProblem[]): string {
  return JSON.stringify(problems, null, 1);
}

/** Asserts that the config has a problem at `where` whose rule matches `rule`, and returns it. */
function assertProblem(raw: unknown, where: string, rule: RegExp): ConfigProblem {
  const problems = findConfigProblems(raw);
  const problem = problems.find((p) => p.path === where);
  assert.ok(problem, `expected a problem at ${JSON.stringify(where)}, got ${describeProblems(problems)}`);
  assert.match(problem.rule, rule);
  return problem;
}

describe('job config validation', () => {
  describe('the original example configs', () => {
    for (const name of SUPPORTED) {
      it(`accepts ${name} unchanged`, () => {
        const raw = original(name);
        const before = JSON.stringify(raw);
        assert.deepEqual(findConfigProblems(raw), []);
        const config = validateConfig(raw);
        assert.equal(JSON.stringify(config), before, 'validation must not change the config');
      });
    }

    it('covers both schema versions and both module spellings among the accepted examples', () => {
      const configs = SUPPORTED.map(original) as unknown as JobConfig[];
      const schemas = new Set(configs.map((c) => c.schema.name));
      assert.deepEqual([...schemas].sort(), ['boss-v0.1-schema', 'boss-v0.2-schema']);
      const classes = configs.map((c) => c.client.path_processor.class);
      assert.ok(classes.some((c) => c.startsWith('ingest.plugins.filesystem.')));
      assert.ok(classes.some((c) => c.startsWith('ingestclient.plugins.catmaid.')));
    });

    const spellings = [
      'ingest.plugins.catmaid',
      'ingest.plugins.filesystem',
      'ingestclient.plugins.catmaid',
      'ingestclient.plugins.filesystem',
    ];
    for (const prefix of spellings) {
      it(`accepts CATMAID classes spelled ${prefix}.*`, () => {
        let raw = withField(
          v01(),
          'client.path_processor.class',
          `${prefix}.CatmaidFileImageStackPathProcessor`,
        );
        raw = withField(raw, 'client.tile_processor.class', `${prefix}.CatmaidFileImageStackTileProcessor`);
        assert.deepEqual(findConfigProblems(raw), []);
      });
    }

    it('accepts every CATMAID type (1, 4, 5) and the z-index stack classes', () => {
      const pairs = [
        ['CatmaidFileImageStackPathProcessor', 'CatmaidFileImageStackTileProcessor'],
        ['CatmaidFileImageStackZoomLevelPathProcessor', 'CatmaidFileImageStackZoomLevelTileProcessor'],
        ['CatmaidDirectoryImageStackPathProcessor', 'CatmaidDirectoryImageStackTileProcessor'],
      ];
      for (const [p, t] of pairs) {
        let raw = withField(v01(), 'client.path_processor.class', `ingestclient.plugins.catmaid.${p}`);
        raw = withField(raw, 'client.tile_processor.class', `ingestclient.plugins.catmaid.${t}`);
        assert.deepEqual(findConfigProblems(raw), [], `${p} + ${t}`);
      }
    });

    it('accepts an optional engine section and a zarr backend with every option', () => {
      let raw = withField(v02(), 'engine', { chunks_per_batch: 4, window: 500, batches_per_run: 10 });
      raw = withField(raw, 'client.backend', {
        name: 'zarr',
        path: '/tmp/out.ome.zarr',
        datatype: 'uint16',
        compressor: 'zstd',
        chunk_size: { x: 256, y: 256, z: 8 },
      });
      assert.deepEqual(findConfigProblems(raw), []);
    });
  });

  describe('problems and the JSON path they concern', () => {
    it('refuses a config that is not a JSON object', () => {
      for (const raw of [null, [], 'config', 3]) {
        assertProblem(raw, '', /JSON object/);
      }
    });

    for (const top of ['schema', 'client', 'database', 'ingest_job']) {
      it(`reports a missing top-level ${top} object`, () => {
        assertProblem(withField(v01(), top, undefined), top, /required/);
      });
      it(`reports a top-level ${top} that is not an object`, () => {
        assertProblem(withField(v01(), top, [1, 2]), top, /must be an object/);
      });
    }

    it('reports an unknown schema name, listing the known ones', () => {
      const p = assertProblem(withField(v01(), 'schema.name', 'boss-v0.3-schema'), 'schema.name', /one of/);
      assert.match(p.rule, /boss-v0\.1-schema/);
      assert.match(p.rule, /boss-v0\.2-schema/);
      assert.match(p.rule, /boss-v0\.3-schema/);
    });

    it('reports a validator that does not match the schema (both directions)', () => {
      let p = assertProblem(
        withField(v01(), 'schema.validator', 'BossValidatorV02'),
        'schema.validator',
        /BossValidatorV01/,
      );
      assert.match(p.rule, /boss-v0\.1-schema/);
      p = assertProblem(
        withField(v02(), 'schema.validator', 'BossValidatorV01'),
        'schema.validator',
        /BossValidatorV02/,
      );
      assert.match(p.rule, /boss-v0\.2-schema/);
    });

    it('reports a missing validator', () => {
      assertProblem(withField(v01(), 'schema.validator', undefined), 'schema.validator', /required/);
    });

    it('reports an unknown backend name', () => {
      const p = assertProblem(withField(v01(), 'client.backend.name', 's3'), 'client.backend.name', /one of/);
      assert.match(p.rule, /"s3"/);
    });

    it('reports a missing backend', () => {
      assertProblem(withField(v01(), 'client.backend', undefined), 'client.backend', /required/);
    });

    it('reports a boss backend without host', () => {
      assertProblem(withField(v01(), 'client.backend.host', undefined), 'client.backend.host', /required/);
    });

    it('reports a boss backend without protocol, and one with a protocol other than http/https', () => {
      assertProblem(
        withField(v01(), 'client.backend.protocol', undefined),
        'client.backend.protocol',
        /required.*http/,
      );
      assertProblem(withField(v01(), 'client.backend.protocol', 'ftp'), 'client.backend.protocol', /"ftp"/);
    });

    describe('zarr backend', () => {
      const zarr = (extra: Json) =>
        withField(v01(), 'client.backend', { name: 'zarr', path: '/tmp/v.ome.zarr', ...extra });

      it('is accepted with only a path', () => {
        assert.deepEqual(findConfigProblems(zarr({})), []);
      });

      it('needs a path', () => {
        assertProblem(
          withField(zarr({}), 'client.backend.path', undefined),
          'client.backend.path',
          /required/,
        );
      });

      it('reports an unknown datatype', () => {
        const p = assertProblem(
          zarr({ datatype: 'float32' }),
          'client.backend.datatype',
          /one of uint8, uint16, uint64/,
        );
        assert.match(p.rule, /float32/);
      });

      it('reports an unknown compressor', () => {
        const p = assertProblem(
          zarr({ compressor: 'gzip' }),
          'client.backend.compressor',
          /one of none, zstd, blosc/,
        );
        assert.match(p.rule, /gzip/);
      });

      it('reports a chunk_size that is not an object', () => {
        assertProblem(zarr({ chunk_size: 512 }), 'client.backend.chunk_size', /object/);
      });

      for (const [bad, label] of [
        [0, 'zero'],
        [-16, 'negative'],
        [1.5, 'non-integer'],
        ['512', 'a string'],
      ] as const) {
        it(`reports a ${label} chunk_size axis`, () => {
          assertProblem(
            zarr({ chunk_size: { x: 512, y: bad, z: 16 } }),
            'client.backend.chunk_size.y',
            /integer >= 1/,
          );
        });
      }

      it('reports a missing chunk_size axis', () => {
        assertProblem(zarr({ chunk_size: { x: 512, y: 512 } }), 'client.backend.chunk_size.z', /required/);
      });

      it('accepts a pyramid, shards and a voxel size', () => {
        const raw = zarr({
          chunk_size: { x: 64, y: 64, z: 8 },
          multiscale: { levels: 3, method: 'mode', downsample: 'isotropic' },
          shard_size: { x: 256, y: 128, z: 8 },
          voxel_size: { x: 4, y: 4, z: 40.5 },
          voxel_unit: 'nanometer',
        });
        assert.deepEqual(findConfigProblems(raw), []);
        assert.deepEqual(findConfigProblems(zarr({ multiscale: { levels: 'auto' } })), []);
        assert.deepEqual(findConfigProblems(zarr({ multiscale: {} })), []);
      });

      for (const [field, value, at, rule] of [
        ['multiscale', 3, 'client.backend.multiscale', /object/],
        ['multiscale', { levels: -1 }, 'client.backend.multiscale.levels', /integer >= 0/],
        ['multiscale', { levels: 'all' }, 'client.backend.multiscale.levels', /integer >= 0, not "all"/],
        ['multiscale', { levels: 41 }, 'client.backend.multiscale.levels', /"auto" or at most 40/],
        ['multiscale', { method: 'median' }, 'client.backend.multiscale.method', /one of mean, mode/],
        [
          'multiscale',
          { downsample: 'xy' },
          'client.backend.multiscale.downsample',
          /anisotropic, isotropic/,
        ],
        [
          'shard_size',
          { x: 1024, y: 700, z: 16 },
          'client.backend.shard_size.y',
          /multiple of the chunk size 512, not 700/,
        ],
        ['shard_size', { x: 1024, y: 1024 }, 'client.backend.shard_size.z', /required/],
        ['voxel_size', { x: 4, y: 0, z: 40 }, 'client.backend.voxel_size.y', /number > 0, not 0/],
        ['voxel_unit', 'nanometers', 'client.backend.voxel_unit', /nanometer/],
        [
          'multiscale',
          { level: 3 },
          'client.backend.multiscale.level',
          /not a known key; known: levels, method, downsample/,
        ],
      ] as const) {
        it(`reports ${field} ${JSON.stringify(value)} at ${at}`, () => {
          assertProblem(zarr({ [field]: value }), at, rule);
        });
      }
    });

    it('reports an unknown path processor class, listing the known ones', () => {
      const p = assertProblem(
        withField(v01(), 'client.path_processor.class', 'ingestclient.plugins.catmaid.NoSuchProcessor'),
        'client.path_processor.class',
        /unknown path processor/,
      );
      assert.match(p.rule, /NoSuchProcessor/);
      assert.match(p.rule, /ingestclient\.plugins\.catmaid\.CatmaidFileImageStackPathProcessor/);
    });

    it('reports a class name outside ingest.plugins / ingestclient.plugins', () => {
      const p = assertProblem(
        withField(
          v01(),
          'client.path_processor.class',
          'mylab.plugins.catmaid.CatmaidFileImageStackPathProcessor',
        ),
        'client.path_processor.class',
        /unknown path processor/,
      );
      assert.match(p.rule, /mylab/);
    });

    it('reports an unknown tile processor class', () => {
      const p = assertProblem(
        withField(v01(), 'client.tile_processor.class', 'ingestclient.plugins.stack.NoSuchTileProcessor'),
        'client.tile_processor.class',
        /unknown tile processor/,
      );
      assert.match(p.rule, /NoSuchTileProcessor/);
    });

    it('reports a tile processor given as the path processor, and the reverse', () => {
      assertProblem(
        withField(
          v01(),
          'client.path_processor.class',
          'ingestclient.plugins.catmaid.CatmaidFileImageStackTileProcessor',
        ),
        'client.path_processor.class',
        /is a tile processor, not a path processor/,
      );
      assertProblem(
        withField(
          v01(),
          'client.tile_processor.class',
          'ingestclient.plugins.stack.ZindexStackPathProcessor',
        ),
        'client.tile_processor.class',
        /is a path processor, not a tile processor/,
      );
    });

    it('reports a missing path processor and a plugin without class', () => {
      assertProblem(
        withField(v01(), 'client.path_processor', undefined),
        'client.path_processor',
        /required/,
      );
      assertProblem(
        withField(v01(), 'client.path_processor.class', undefined),
        'client.path_processor.class',
        /required/,
      );
    });

    it('reports plugin params that are not an object', () => {
      assertProblem(
        withField(v01(), 'client.tile_processor.params', 'png'),
        'client.tile_processor.params',
        /object/,
      );
    });

    it('reports a missing tile_processor in a tile job (v0.1 and v0.2)', () => {
      for (const base of [v01(), v02()]) {
        assertProblem(
          withField(base, 'client.tile_processor', undefined),
          'client.tile_processor',
          /required/,
        );
      }
    });

    it('reports a v0.2 config without ingest_type', () => {
      assertProblem(
        withField(v02(), 'ingest_job.ingest_type', undefined),
        'ingest_job.ingest_type',
        /required.*tile.*volumetric/,
      );
    });

    it('reports an unknown v0.2 ingest_type', () => {
      assertProblem(withField(v02(), 'ingest_job.ingest_type', 'slice'), 'ingest_job.ingest_type', /"slice"/);
    });

    it('accepts a volumetric job with each chunk processor of the original, and no tile processor', () => {
      for (const [cls, params] of [
        ['ingestclient.plugins.zarr.ZarrChunkProcessor', { cloud_path: 's3://b/p.zarr', volume_name: 'raw' }],
        ['ingestclient.plugins.cloudvolume.CloudVolumeChunkProcessor', { cloudpath: 'file:///l', mip: 0 }],
        ['ingestclient.plugins.intern.InternChunkProcessor', { uri: 'bossdb://a/b/c' }],
      ] as const) {
        let raw = withField(v02(), 'ingest_job.ingest_type', 'volumetric');
        raw = withField(raw, 'ingest_job.chunk_size', { x: 1024, y: 512, z: 64 });
        raw = withField(raw, 'client.tile_processor', undefined);
        raw = withField(raw, 'client.chunk_processor', { class: cls, params });
        assert.deepEqual(findConfigProblems(raw), [], cls);
      }
    });

    it('requires a known chunk processor for a volumetric job', () => {
      let raw = withField(v02(), 'ingest_job.ingest_type', 'volumetric');
      raw = withField(raw, 'ingest_job.chunk_size', { x: 512, y: 512, z: 16 });
      assertProblem(raw, 'client.chunk_processor', /is required/);
      raw = withField(raw, 'client.chunk_processor', {
        class: 'ingestclient.plugins.chunk.ChunkProcessor',
        params: {},
      });
      assertProblem(raw, 'client.chunk_processor.class', /unknown chunk processor.*ZarrChunkProcessor/);
    });

    it('reports a volumetric chunk_size that is not a multiple of the Boss cuboid', () => {
      let raw = withField(v02(), 'ingest_job.ingest_type', 'volumetric');
      raw = withField(raw, 'ingest_job.chunk_size', { x: 512, y: 500, z: 16 });
      assertProblem(raw, 'ingest_job.chunk_size.y', /multiple of 512/);
    });

    for (const key of ['collection', 'experiment', 'channel']) {
      it(`reports a bad database.${key} name`, () => {
        for (const bad of ['my col', 'col/1', 'x'.repeat(256), 'é']) {
          const p = assertProblem(
            withField(v01(), `database.${key}`, bad),
            `database.${key}`,
            /A-Z a-z 0-9 _ -/,
          );
          assert.ok(p.rule.includes(JSON.stringify(bad)), `the rule should quote the name: ${p.rule}`);
        }
        assertProblem(withField(v01(), `database.${key}`, undefined), `database.${key}`, /required/);
        assertProblem(withField(v01(), `database.${key}`, ''), `database.${key}`, /non-empty string/);
      });
    }

    it('accepts database names of exactly 255 characters with _ and -', () => {
      const raw = withField(v01(), 'database.channel', `a_-${'b'.repeat(252)}`);
      assert.deepEqual(findConfigProblems(raw), []);
    });

    describe('extent', () => {
      const extent = (axis: string, value: unknown) => withField(v01(), `ingest_job.extent.${axis}`, value);

      it('reports a missing extent and a missing x/y/z range', () => {
        assertProblem(withField(v01(), 'ingest_job.extent', undefined), 'ingest_job.extent', /required/);
        for (const axis of ['x', 'y', 'z']) {
          assertProblem(extent(axis, undefined), `ingest_job.extent.${axis}`, /required/);
        }
      });

      it('reports a range that is not an array', () => {
        assertProblem(extent('x', '0:2048'), 'ingest_job.extent.x', /two integers/);
        assertProblem(extent('y', { start: 0, stop: 10 }), 'ingest_job.extent.y', /two integers/);
      });

      it('reports a range of 3 items or 1 item', () => {
        assertProblem(extent('z', [0, 10, 20]), 'ingest_job.extent.z', /two integers/);
        assertProblem(extent('z', [10]), 'ingest_job.extent.z', /two integers/);
      });

      it('reports non-integer bounds', () => {
        assertProblem(extent('x', [0, 10.5]), 'ingest_job.extent.x', /two integers/);
        assertProblem(extent('x', ['0', 10]), 'ingest_job.extent.x', /two integers/);
      });

      it('reports a negative start', () => {
        assertProblem(extent('y', [-1, 100]), 'ingest_job.extent.y', /start must be >= 0/);
      });

      it('reports start >= stop', () => {
        assertProblem(
          extent('x', [100, 100]),
          'ingest_job.extent.x',
          /start \(100\) must be less than stop \(100\)/,
        );
        assertProblem(
          extent('z', [20, 10]),
          'ingest_job.extent.z',
          /start \(20\) must be less than stop \(10\)/,
        );
      });

      it('checks the t range when present', () => {
        assertProblem(extent('t', [1, 1]), 'ingest_job.extent.t', /less than stop/);
      });
    });

    describe('tile_size', () => {
      const tile = (axis: string, value: unknown) => withField(v01(), `ingest_job.tile_size.${axis}`, value);

      it('reports a missing tile_size in a tile job', () => {
        assertProblem(
          withField(v01(), 'ingest_job.tile_size', undefined),
          'ingest_job.tile_size',
          /required/,
        );
      });

      it('reports a zero, negative or non-integer tile_size.x / y', () => {
        assertProblem(tile('x', 0), 'ingest_job.tile_size.x', /integer >= 1.*0/);
        assertProblem(tile('y', -512), 'ingest_job.tile_size.y', /integer >= 1.*-512/);
        assertProblem(tile('x', 511.5), 'ingest_job.tile_size.x', /integer >= 1.*511\.5/);
        assertProblem(tile('y', undefined), 'ingest_job.tile_size.y', /required/);
      });

      it('reports tile_size.z or tile_size.t other than 1', () => {
        assertProblem(tile('z', 16), 'ingest_job.tile_size.z', /must be 1.*16/);
        assertProblem(tile('t', 2), 'ingest_job.tile_size.t', /must be 1.*2/);
      });
    });

    describe('resolution', () => {
      it('reports a negative, non-integer or missing resolution', () => {
        assertProblem(
          withField(v01(), 'ingest_job.resolution', -1),
          'ingest_job.resolution',
          /integer >= 0.*-1/,
        );
        assertProblem(
          withField(v01(), 'ingest_job.resolution', 0.5),
          'ingest_job.resolution',
          /integer >= 0/,
        );
        assertProblem(
          withField(v01(), 'ingest_job.resolution', undefined),
          'ingest_job.resolution',
          /required/,
        );
      });
    });

    describe('engine', () => {
      const engine = (value: unknown) => withField(v01(), 'engine', value);

      it('reports an engine section that is not an object', () => {
        assertProblem(engine(8), 'engine', /object/);
      });

      it('reports chunks_per_batch, window and batches_per_run below 1 or not integers', () => {
        assertProblem(engine({ chunks_per_batch: 0 }), 'engine.chunks_per_batch', /integer >= 1/);
        assertProblem(engine({ window: -2 }), 'engine.window', /integer >= 1/);
        assertProblem(engine({ batches_per_run: 1.5 }), 'engine.batches_per_run', /integer >= 1/);
        assertProblem(engine({ window: '16' }), 'engine.window', /integer >= 1/);
      });

      it('reports a window above 500', () => {
        assertProblem(engine({ window: 501 }), 'engine.window', /at most 500/);
        assert.deepEqual(findConfigProblems(engine({ window: 500 })), []);
      });
    });

    describe('unknown keys in the sections that are ours', () => {
      const zarr = (backend: Json) =>
        withField(v02(), 'client.backend', { name: 'zarr', path: '/v.ome.zarr', ...backend });

      it('a misspelt zarr backend option is reported with its path and the keys that exist', () => {
        const p = assertProblem(
          zarr({ compresor: 'zstd' }),
          'client.backend.compresor',
          /is not a known key/,
        );
        assert.equal(
          p.rule,
          'is not a known key; known: name, path, datatype, compressor, chunk_size, multiscale, shard_size, voxel_size, voxel_unit',
        );
        assert.throws(
          () => validateConfig(zarr({ compresor: 'zstd' })),
          /client\.backend\.compresor: is not a known key; known: name, path, datatype, compressor, chunk_size/,
        );
      });

      it('an unknown engine key, and an unknown axis of our chunk_size, are reported', () => {
        const p = assertProblem(
          withField(v01(), 'engine', { windw: 8 }),
          'engine.windw',
          /is not a known key/,
        );
        assert.match(
          p.rule,
          /known: chunks_per_batch, window, batches_per_run, max_failed_fraction, failure_check_after$/,
        );
        assertProblem(
          zarr({ chunk_size: { x: 64, y: 64, z: 8, w: 2 } }),
          'client.backend.chunk_size.w',
          /known: x, y, z/,
        );
        assertProblem(
          withField(v02(), 'client.backend', { name: 'discard', path: '/x' }),
          'client.backend.path',
          /known:/,
        );
      });

      it("the Boss backend is the original's: other keys stay accepted, a near-miss of our own option is reported", () => {
        assert.deepEqual(findConfigProblems(withField(v01(), 'client.backend.comment', 'ours')), []);
        assert.deepEqual(findConfigProblems(withField(v01(), 'client.backend.rate_limit', 5)), []);
        const p = assertProblem(
          withField(v01(), 'client.backend.rate_limt', 5),
          'client.backend.rate_limt',
          /known/,
        );
        assert.equal(p.rule, 'is not a known key; did you mean rate_limit?');
        assertProblem(
          withField(v01(), 'client.backend.skip_zero_chunk', true),
          'client.backend.skip_zero_chunk',
          /skip_zero_chunks/,
        );
      });

      it("keys of the original's own sections stay accepted as before", () => {
        let raw = withField(v01(), 'ingest_job.comment', 'x');
        raw = withField(raw, 'client.path_processor.params.anything', 1);
        raw = withField(raw, 'database.notes', 'x');
        raw = withField(raw, 'extra_top_level', {});
        assert.deepEqual(findConfigProblems(raw), []);
      });
    });

    it('reports every problem at once, not just the first', () => {
      let raw = withField(v01(), 'schema.validator', 'BossValidatorV02');
      raw = withField(raw, 'client.backend.host', undefined);
      raw = withField(raw, 'client.tile_processor.class', 'ingest.plugins.filesystem.Nope');
      raw = withField(raw, 'database.channel', 'bad channel');
      raw = withField(raw, 'ingest_job.extent.x', [10, 5]);
      raw = withField(raw, 'ingest_job.tile_size.y', 0);
      raw = withField(raw, 'engine', { window: 0 });
      const paths = findConfigProblems(raw).map((p) => p.path);
      assert.deepEqual([...paths].sort(), [
        'client.backend.host',
        'client.tile_processor.class',
        'database.channel',
        'engine.window',
        'ingest_job.extent.x',
        'ingest_job.tile_size.y',
        'schema.validator',
      ]);
    });
  });

  describe('validateConfig', () => {
    it('returns the config when it is valid', () => {
      const raw = v02();
      assert.equal(validateConfig(raw), raw);
    });

    it('throws a ConfigError holding every problem, with the file and paths in its message', () => {
      let raw = withField(v01(), 'ingest_job.extent.z', [5, 5]);
      raw = withField(raw, 'database.experiment', 'a b');
      assert.throws(
        () => validateConfig(raw, 'job.json'),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.deepEqual(err.problems.map((p) => p.path).sort(), [
            'database.experiment',
            'ingest_job.extent.z',
          ]);
          assert.equal(err.file, 'job.json');
          assert.match(err.message, /^job\.json: /);
          assert.match(err.message, /ingest_job\.extent\.z: start \(5\) must be less than stop \(5\)/);
          assert.match(err.message, /database\.experiment: /);
          return true;
        },
      );
    });
  });
});

describe('loadConfigFile', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'boss-ingest-config-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads every supported original example from disk', async () => {
    for (const name of SUPPORTED) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, ORIGINAL_CONFIGS[name]!);
      const config = await loadConfigFile(file);
      assert.deepEqual(config, original(name));
    }
  });

  it('names the file when it is not valid JSON', async () => {
    const file = path.join(dir, 'broken.json');
    fs.writeFileSync(file, '{ "schema": { "name": "boss-v0.1-schema", }');
    await assert.rejects(loadConfigFile(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.file, file);
      assert.ok(err.message.includes(file), err.message);
      assert.match(err.message, /not valid JSON/);
      return true;
    });
  });

  it('names the file when it does not exist', async () => {
    const file = path.join(dir, 'missing.json');
    await assert.rejects(loadConfigFile(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.file, file);
      assert.ok(err.message.includes(file), err.message);
      assert.match(err.message, /cannot read/);
      return true;
    });
  });

  it('names the file and the path of each problem when the config is invalid', async () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, JSON.stringify(withField(v01(), 'ingest_job.tile_size.x', 0)));
    await assert.rejects(loadConfigFile(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.message.startsWith(`${file}: `), err.message);
      assert.deepEqual(
        err.problems.map((p) => p.path),
        ['ingest_job.tile_size.x'],
      );
      return true;
    });
  });
});

describe('withZarrOutput', () => {
  it('replaces a boss backend by a zarr backend at an absolute path, leaving the rest alone', () => {
    const config = validateConfig(v01());
    const before = structuredClone(config);
    const out = withZarrOutput(config, 'out/volume.ome.zarr');
    assert.deepEqual(out.client.backend, { name: 'zarr', path: path.resolve('out/volume.ome.zarr') });
    assert.ok(path.isAbsolute((out.client.backend as { path: string }).path));
    assert.deepEqual(out.client.path_processor, config.client.path_processor);
    assert.deepEqual(out.client.tile_processor, config.client.tile_processor);
    assert.deepEqual(out.ingest_job, config.ingest_job);
    assert.deepEqual(out.database, config.database);
    assert.deepEqual(config, before, 'the input config must not be modified');
    assert.deepEqual(findConfigProblems(out), []);
  });

  it('keeps the pyramid, shard and voxel settings of a zarr backend', () => {
    const layout = {
      multiscale: { levels: 2 },
      shard_size: { x: 1024, y: 1024, z: 16 },
      voxel_size: { x: 4, y: 4, z: 40 },
      voxel_unit: 'nanometer',
    };
    const config = validateConfig(
      withField(v01(), 'client.backend', { name: 'zarr', path: '/a', ...layout }),
    );
    assert.deepEqual(withZarrOutput(config, '/b').client.backend, { name: 'zarr', path: '/b', ...layout });
  });

  it("--multiscale asks for a pyramid with the defaults, keeps the config's, and needs a zarr destination", () => {
    const config = validateConfig(v01());
    assert.throws(() => withMultiscale(config), /--multiscale needs a zarr destination/);
    const zarrConfig = withZarrOutput(config, '/v');
    assert.deepEqual((withMultiscale(zarrConfig).client.backend as { multiscale?: object }).multiscale, {});
    const own = validateConfig(
      withField(v01(), 'client.backend', { name: 'zarr', path: '/a', multiscale: { levels: 2 } }),
    );
    assert.deepEqual((withMultiscale(own).client.backend as { multiscale?: object }).multiscale, {
      levels: 2,
    });
  });

  it('sets the datatype when asked', () => {
    const out = withZarrOutput(validateConfig(v01()), '/data/v.ome.zarr', 'uint16');
    assert.deepEqual(out.client.backend, { name: 'zarr', path: '/data/v.ome.zarr', datatype: 'uint16' });
  });

  it('keeps the options of a zarr backend, replacing its path (and datatype when given)', () => {
    const raw = withField(v01(), 'client.backend', {
      name: 'zarr',
      path: '/old.ome.zarr',
      datatype: 'uint8',
      compressor: 'zstd',
      chunk_size: { x: 128, y: 128, z: 4 },
    });
    const config = validateConfig(raw);
    assert.deepEqual(withZarrOutput(config, '/new.ome.zarr').client.backend, {
      name: 'zarr',
      path: '/new.ome.zarr',
      datatype: 'uint8',
      compressor: 'zstd',
      chunk_size: { x: 128, y: 128, z: 4 },
    });
    assert.equal(
      (withZarrOutput(config, '/new.ome.zarr', 'uint64').client.backend as { datatype?: string }).datatype,
      'uint64',
    );
  });
});
