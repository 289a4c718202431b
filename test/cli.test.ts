/** The command line where no server is needed: validate, argument and config errors, exit codes. */
import { strict as assert } from 'node:assert';
import { rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stackConfig, stackSpec, tileFile, writeStack, type StackSpec } from './fixtures/stack.js';
import { cli, tempDir } from './harness/env.js';

describe('boss-ingest command line', function () {
  this.timeout(60_000);
  let dir: string;
  let spec: StackSpec;

  before(async () => {
    dir = tempDir('cli');
    spec = stackSpec(path.join(dir, 'stack'), 'catmaid1', [700, 600, 4], 8);
    await writeStack(spec);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function config(name: string, value: unknown): string {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(value));
    return file;
  }

  it('validate passes a good stack and writes nothing', async () => {
    const res = await cli(
      ['validate', config('good', stackConfig(spec)), '--output', path.join(dir, 'v.zarr')],
      dir,
    );
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /16 tiles checked, datatype uint8, 0 problem\(s\)/);
  });

  it('validate reports every bad tile, naming each file, and exits 1', async () => {
    const bad: StackSpec = { ...spec, root: path.join(dir, 'bad') };
    await writeStack(bad);
    const missing = tileFile(bad, 1, 0, 1);
    const truncated = tileFile(bad, 0, 1, 3);
    unlinkSync(missing);
    truncateSync(truncated, 100);
    const res = await cli(
      ['validate', config('bad', stackConfig(bad)), '--output', path.join(dir, 'v.zarr')],
      dir,
    );
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.ok(res.stdout.includes(`${missing}: file not found`), res.stdout);
    assert.ok(res.stdout.includes(`${truncated}: cannot be decoded`), res.stdout);
    assert.match(res.stdout, /2 problem\(s\)/);
  });

  it('validate checks tiles against the destination datatype', async () => {
    const u16: StackSpec = { ...spec, bits: 16, root: path.join(dir, 'u16') };
    await writeStack(u16);
    const res = await cli(
      [
        'validate',
        config('u16', stackConfig(u16)),
        '--output',
        path.join(dir, 'x.zarr'),
        '--datatype',
        'uint8',
      ],
      dir,
    );
    assert.equal(res.code, 1, res.stdout);
    assert.match(res.stdout, /is uint16 but the destination is uint8/);
  });

  it('a config error exits 2 and names every JSON path at fault', async () => {
    const bad = stackConfig(spec) as {
      database: { channel: string };
      ingest_job: { tile_size: { x: number } };
    };
    bad.database.channel = 'no spaces';
    bad.ingest_job.tile_size.x = 0;
    const res = await cli(['validate', config('badcfg', bad)], dir);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /database\.channel: must be 1 to 255 characters/);
    assert.match(res.stderr, /ingest_job\.tile_size\.x: must be an integer >= 1, not 0/);
  });

  it('validate of a Boss config without a token says where tokens are looked for', async () => {
    const res = await cli(['validate', config('boss', stackConfig(spec))], dir, {
      env: { INTERN_TOKEN: '', HOME: dir },
    });
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout, /Boss preflight: no Boss API token: pass -a\/--api-token, set INTERN_TOKEN/);
  });

  it('bad arguments exit 2', async () => {
    assert.equal((await cli(['run', path.join(dir, 'good.json'), '-p', 'zero'], dir)).code, 2);
    assert.equal((await cli(['status'], dir)).code, 2, 'status needs -j');
    assert.equal((await cli(['run', path.join(dir, 'missing.json'), '--output', 'x'], dir)).code, 2);
  });

  it('start says what to install or run when no server answers', async () => {
    const res = await cli(
      [
        'start',
        path.join(dir, 'good.json'),
        '--output',
        path.join(dir, 'o.zarr'),
        '-f',
        '--address',
        '127.0.0.1:1',
      ],
      dir,
    );
    assert.equal(res.code, 1);
    assert.match(res.stdout, /^job id: /, 'the job id comes first');
    assert.match(res.stderr, /no Temporal server answers at 127\.0\.0\.1:1/);
  });
});
