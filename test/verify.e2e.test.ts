/**
 * `verify` and `run --verify` through the commands a user runs, on a real Temporal dev server: an
 * intact volume passes; a voxel changed by zarr-python (not our writer) and a chunk file removed
 * are found and named, down to the voxel and its two values.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { stackConfig, stackSpec, voxel, writeStack, type StackSpec } from './fixtures/stack.js';
import { cli, jobIdOf, runPython, type TestServer, useDevServer } from './harness/env.js';
import { writeConfig } from './harness/config.js';

describe('verify a job against its source on a real Temporal dev server', function () {
  this.timeout(240_000);
  let server: TestServer;
  let dir: string;
  let spec: StackSpec;
  let config: string;
  let out: string;
  // Starts and stops off the chunk grid (chunks 512 x 512 x 16), so edge chunks are partial.
  const extent = {
    x: [100, 1100] as [number, number],
    y: [0, 700] as [number, number],
    z: [3, 20] as [number, number],
  };

  useDevServer('verify', (s, d) => {
    server = s;
    dir = d;
  });
  before(async () => {
    spec = stackSpec(path.join(dir, 'c8'), 'catmaid1', [1100, 700, 20], 8);
    await writeStack(spec);
    // Batches of 2 chunks, 2 batches per workflow run: the 12 chunks take several runs (continue-as-new).
    const engine = { chunks_per_batch: 2, batches_per_run: 2 };
    config = writeConfig(dir, 'c8', { ...stackConfig(spec, { ...extent, t: [0, 1] } as never), engine });
    out = path.join(dir, 'c8.ome.zarr');
  });

  const conn = () => ['--address', server.address];
  const verify = () => cli(['verify', config, '--output', out, ...conn()], server.home);

  it('run --verify: the job completes, then its verify passes every chunk', async () => {
    const res = await cli(['run', config, '--output', out, '-f', '--verify', ...conn()], server.home);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /^job \S+ completed: 12\/12 chunks/m);
    assert.match(res.stdout, /^verify job \S+-verify completed: 12\/12 chunks .* 0 failed/m);
    assert.match(res.stdout, /verified: all 12 chunks as stored equal the source/);
  });

  it('verify: an intact volume passes (exit 0), over several workflow runs', async () => {
    const res = await verify();
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /verified: all 12 chunks as stored equal the source/);
    const status = await cli(['status', '-j', jobIdOf(res.stdout), '--json', ...conn()], server.home);
    const { progress } = JSON.parse(status.stdout) as {
      progress: { state: string; doneChunks: number; failedChunks: number; run: number };
    };
    assert.equal(progress.state, 'completed');
    assert.equal(progress.doneChunks, 12);
    assert.equal(progress.failedChunks, 0);
    assert.ok(progress.run >= 3, `the verify continued as new (${progress.run} runs)`);
  });

  it('verify: a voxel changed by zarr-python is found, named with its chunk and both values (exit 1)', async () => {
    // Inside chunk (z 0, y 1, x 1), away from its corner: its first differing voxel is this one.
    const at = { x: 700, y: 530, z: 5 };
    const source = voxel(spec, at.x, at.y, at.z);
    const changed = (source + 77) % 256;
    const set = JSON.parse(
      await runPython('set_voxel.py', [out, String(at.z), String(at.y), String(at.x), String(changed)]),
    ) as { before: number; after: number };
    assert.deepEqual(set, { before: source, after: changed }, 'zarr-python read the voxel the source gives');

    const res = await verify();
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout, /completed_with_errors: 12\/12 chunks .* 1 failed/);
    assert.match(res.stdout, /^1 chunk\(s\) differ from the source or could not be read:$/m);
    const listed = res.stdout.split('\n').filter((l) => l.startsWith('  chunk '));
    assert.deepEqual(listed, [
      `  chunk 4: chunk 0/0/1/1 (x 512:1024, y 512:700, z 3:16, t 0): ` +
        `first difference at (x ${at.x}, y ${at.y}, z ${at.z}, t 0): source ${source}, stored ${changed}`,
    ]);

    await runPython('set_voxel.py', [out, String(at.z), String(at.y), String(at.x), String(source)]);
    assert.equal((await verify()).code, 0, 'the voxel set back, the volume passes again');
  });

  it('verify: a chunk missing from the volume reads as zeros where the source has data (exit 1)', async () => {
    // Chunk (z 1, y 0, x 2): x 1024:1100, y 0:512, z 16:20. Its first voxel's source value is non-zero.
    rmSync(path.join(out, '0', 'c', '1', '0', '2'));
    const first = voxel(spec, 1024, 0, 16);
    assert.notEqual(first, 0);
    const res = await verify();
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(
      res.stdout,
      new RegExp(
        `^  chunk \\d+: chunk 0/1/0/2 \\(x 1024:1100, y 0:512, z 16:20, t 0\\): ` +
          `first difference at \\(x 1024, y 0, z 16, t 0\\): source ${first}, stored 0$`,
        'm',
      ),
    );
  });

  it('verify: a path with no volume ends the job with a message naming it', async () => {
    const missing = path.join(dir, 'nothing-here.ome.zarr');
    const res = await cli(['verify', config, '--output', missing, ...conn()], server.home);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout + res.stderr, new RegExp(`${missing}: no OME-Zarr volume here`));
  });
});
