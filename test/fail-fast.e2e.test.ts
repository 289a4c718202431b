/**
 * Jobs that cannot succeed end in seconds with the reason, through the commands a user runs: an
 * extent with zeros too many, a wrong root_dir, a stack whose tiles keep failing.
 */
import { strict as assert } from 'node:assert';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stackConfig, stackSpec, tileFile, voxel, writeStack, type StackSpec } from './fixtures/stack.js';
import { writeConfig as writeConfigIn } from './harness/config.js';
import {
  assertVolume,
  cli,
  jobIdOf,
  readWithZarrPython,
  type TestServer,
  useDevServer,
} from './harness/env.js';

describe('jobs that cannot succeed fail fast', function () {
  this.timeout(180_000);
  let server: TestServer;
  let dir: string;
  let spec: StackSpec;

  useDevServer('failfast', (s, d) => {
    server = s;
    dir = d;
  });

  before(async () => {
    spec = stackSpec(path.join(dir, 'stack'), 'catmaid1', [1024, 1024, 4], 8);
    await writeStack(spec);
  });

  const conn = () => ['--address', server.address];
  const job = (
    name: string,
    extent: { x: [number, number]; y: [number, number]; z: [number, number] },
    root = spec.root,
  ) => {
    const config = stackConfig({ ...spec, root }, extent);
    return writeConfigIn(dir, name, config);
  };

  it('an extent past any source (10^9 x 10^9 x 10^6) is refused by validate and run at once, naming the extent', async () => {
    const config = job('absurd', { x: [0, 1e9], y: [0, 1e9], z: [0, 1e6] });
    const out = path.join(dir, 'absurd.ome.zarr');
    for (const args of [
      ['validate', config, '--output', out],
      ['run', config, '--output', out, '-f', ...conn()],
    ]) {
      const t0 = Date.now();
      const res = await cli(args, server.home, { timeoutMs: 60_000 });
      const took = Date.now() - t0;
      assert.equal(res.code, 2, `${args[0]}: exit ${res.code}\n${res.stdout}\n${res.stderr}`);
      assert.match(
        res.stderr + res.stdout,
        /ingest_job\.extent: spans 1000000000 x 1000000000 x 1000000 x 1/,
      );
      assert.ok(took < 20_000, `${args[0]} took ${took} ms`);
    }
    assert.equal(existsSync(out), false, 'nothing written');
  });

  it('an extent three zeros too large for the stack is refused before any chunk, saying where the data ends', async () => {
    const config = job('toolarge', { x: [0, 1_024_000], y: [0, 1_024_000], z: [0, 4000] });
    const out = path.join(dir, 'toolarge.ome.zarr');
    const v = await cli(['validate', config, '--output', out], server.home, { timeoutMs: 60_000 });
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /extent\.x: the source has data up to x 1024 but the extent reaches x 1024000/);
    assert.match(v.stdout, /extent\.z: the source has data up to z 4 but the extent reaches z 4000/);
    const t0 = Date.now();
    const r = await cli(
      ['run', config, '--output', out, '--datatype', 'uint8', '-f', ...conn()],
      server.home,
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /ingest_job\.extent does not fit the source/);
    assert.match(
      r.stdout + r.stderr,
      /extent\.y: the source has data up to y 1024 but the extent reaches y 1024000/,
    );
    assert.ok(Date.now() - t0 < 60_000, `run took ${Date.now() - t0} ms`);
    assert.equal(existsSync(path.join(out, '0', 'c')), false, 'no chunk written');
  });

  it('a wrong root_dir (datatype given) is stopped before any chunk with the reason and a hint', async () => {
    const config = job(
      'wrongroot',
      { x: [0, 1024], y: [0, 1024], z: [0, 4] },
      path.join(dir, 'no-such-stack'),
    );
    const out = path.join(dir, 'wrongroot.ome.zarr');
    const r = await cli(
      ['run', config, '--output', out, '--datatype', 'uint8', '-f', ...conn()],
      server.home,
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /the extent's first tile has no data: .*no-such-stack.*file not found/);
    assert.match(r.stdout + r.stderr, /root_dir/);
    assert.equal(existsSync(path.join(out, '0', 'c')), false, 'no chunk written');
  });

  it('a stack whose tiles keep failing stops early with the common reason; -j resumes it after the fix', async () => {
    const broken = stackSpec(path.join(dir, 'broken'), 'catmaid1', [1024, 1024, 64], 8);
    await writeStack(broken);
    // Every tile of z 1..62 is there but unreadable: the corners read, so the preflight passes.
    for (let z = 1; z < 63; z++)
      for (const [xi, yi] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ])
        writeFileSync(tileFile(broken, xi!, yi!, z), 'not a png');
    // Judged after 4 chunks (16 by default), so that a small stack shows the stop.
    const engine = { chunks_per_batch: 1, window: 2, failure_check_after: 4 };
    const config = writeConfigIn(dir, 'broken', { ...stackConfig(broken), engine });
    const out = path.join(dir, 'broken.ome.zarr');
    const r = await cli(['run', config, '--output', out, '-f', ...conn()], server.home);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const jobId = jobIdOf(r.stdout);
    const stop = /stopped early: (?:all (\d+)|(\d+) of \d+) chunks processed so far failed/.exec(
      r.stdout + r.stderr,
    );
    assert.ok(stop, r.stdout + r.stderr);
    assert.ok(Number(stop[1] ?? stop[2]) <= 8, `${stop[0]}: of 16 chunks`);
    assert.match(r.stdout + r.stderr, /cannot be decoded.*e\.g\. .*broken/);
    assert.match(r.stdout + r.stderr, new RegExp(`run the job again with -j ${jobId}`));

    await writeStack(broken);
    const again = await cli(['run', config, '--output', out, '-j', jobId, ...conn()], server.home);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const read = await readWithZarrPython(out);
    assertVolume(read, { x: [0, 1024], y: [0, 1024], z: [0, 64] }, (x, y, z) => voxel(broken, x, y, z));
  });
});
