// The one rule that decides what a failure does (src/errors.ts): end the job, fail its chunks, or retry.
import { strict as assert } from 'node:assert';
import {
  BossError,
  classify,
  ConfigError,
  MissingTokenError,
  PluginParamError,
  PreflightError,
  TileError,
  TileOutsideExtentError,
  VolumeError,
} from '../src/errors.js';
import { CatmaidFileImageStackPathProcessor } from '../src/plugins/catmaid.js';
import type { IngestJobSection } from '../src/config/types.js';

describe('errors: one classification', () => {
  it('config, params, volume, preflight, token and a refusing Boss end the job', () => {
    const fatal = [
      new ConfigError([{ path: 'ingest_job.extent', rule: 'is required' }]),
      new PluginParamError('client.path_processor.params.root_dir', 'is required'),
      new VolumeError('the volume is uint8'),
      new PreflightError('channel c does not exist'),
      new MissingTokenError(),
      new BossError('POST /v1/cutout: 403 forbidden', 403),
    ];
    for (const err of fatal) assert.equal(classify(err), 'job', err.name);
  });

  it('a bad tile or a tile outside the extent fails its chunks', () => {
    assert.equal(classify(new TileError('/a.png', 'is 3x3')), 'chunk');
    assert.equal(
      classify(new TileOutsideExtentError('tile (x 9, y 0, z 0) lies outside the extent')),
      'chunk',
    );
  });

  it('a Boss 5xx, 400/9001, 429 with Retry-After or no answer, an I/O hiccup and any error of ours we did not expect may pass on a retry', () => {
    assert.equal(classify(new BossError('503', 503)), 'transient');
    assert.equal(classify(new BossError('Resource Locked', 400, 9001)), 'transient');
    assert.equal(classify(new BossError('429', 429, undefined, 2000)), 'transient');
    assert.equal(classify(new BossError('no answer', 0)), 'transient');
    assert.equal(classify(Object.assign(new Error('i/o'), { code: 'EIO' })), 'transient');
    // A RangeError from a typed array is our own bug, never a bad tile.
    assert.equal(classify(new RangeError('offset is out of bounds')), 'transient');
  });

  it("the Boss's quota (429 without Retry-After) ends the job; a refused chunk is not retried", () => {
    const quota = new BossError('Monthly quota exceeded', 429);
    assert.equal(classify(quota), 'job');
    assert.ok(quota.quota);
    assert.ok(new BossError('bad data', 400, 1001).refusedChunk);
    assert.ok(!new BossError('Resource Locked', 400, 9001).refusedChunk);
  });

  it('a CATMAID path processor asked for a tile outside its extent throws TileOutsideExtentError, message unchanged', async () => {
    const job: IngestJobSection = {
      resolution: 0,
      extent: { x: [0, 8], y: [0, 8], z: [0, 2], t: [0, 1] },
      tile_size: { x: 8, y: 8, z: 1, t: 1 },
    };
    const paths = new CatmaidFileImageStackPathProcessor();
    paths.setup({ root_dir: '/stack', filetype: 'png', ingest_job: job });
    assert.throws(
      () => paths.process(1, 0, 0, 0),
      (err: unknown) =>
        err instanceof TileOutsideExtentError &&
        err.message === 'tile (x 1, y 0, z 0) lies outside the extent' &&
        !(err instanceof RangeError),
    );
  });

  it('identity holds across copies of the module (a custom plugin importing its own boss-ingest)', async () => {
    // A second instance of the same module, as a plugin's own node_modules copy would load.
    const copy = (await import(`../src/errors.js?copy=${Date.now()}`)) as typeof import('../src/errors.js');
    assert.notEqual(copy.TileError, TileError);
    const theirs = new copy.TileError('/their/file', 'is theirs');
    assert.ok(theirs instanceof TileError);
    assert.equal(classify(theirs), 'chunk');
    assert.ok(!(theirs instanceof PluginParamError));
    assert.ok(new PluginParamError('p', 'r') instanceof copy.PluginParamError);
    assert.equal(theirs.name, 'TileError');
    assert.equal(theirs.message, '/their/file: is theirs');
  });
});
