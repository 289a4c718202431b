/**
 * `verify` over every level of a volume's pyramid, through the commands a user runs on a real
 * Temporal dev server: level 0 against the source, each level above against the pyramid of the
 * stored level below. A voxel changed by zarr-python in level 1 is named with its level and
 * values (and the level-2 voxel above it, no longer the mean of level 1); a source changed after
 * the ingest is reported at level 0 only, the levels being intact.
 */
import { strict as assert } from 'node:assert';
import { renameSync } from 'node:fs';
import path from 'node:path';
import type { JobResult } from '../src/job/types.js';
import { volumetricConfig, writeConfig } from './harness/config.js';
import { cli, jobIdOf, readWithZarrPython, runPython, useDevServer, type TestServer } from './harness/env.js';

interface Voxel {
  x: number;
  y: number;
  z: number;
}

/** Odd bounds that do not start at 0, in a (9, 33, 41) source: levels 1-3 with 8 x 8 x 2 chunks. */
const EXTENT = { x: [3, 40], y: [5, 30], z: [1, 8] } as const;

describe('verify every level of a pyramid on a real Temporal dev server', function () {
  this.timeout(300_000);
  let server: TestServer;
  let dir: string;
  let source: string;
  let config: string;
  let out: string;

  useDevServer('verify-levels', (s, d) => {
    server = s;
    dir = d;
  });
  before(async () => {
    source = path.join(dir, 'source.zarr');
    await runPython('pyramid_sources.py', [source, '9', '33', '41']);
    out = path.join(dir, 'img.ome.zarr');
    const chunkProcessor = {
      class: 'ingestclient.plugins.zarr.ZarrChunkProcessor',
      params: { cloud_path: source, volume_name: 'img' },
    };
    const backend = { chunk_size: { x: 8, y: 8, z: 2 } };
    const pathClass = 'ingestclient.plugins.zarr.ZarrPathProcessor';
    config = writeConfig(dir, 'img', {
      ...volumetricConfig(
        chunkProcessor,
        { x: [...EXTENT.x], y: [...EXTENT.y], z: [...EXTENT.z] },
        out,
        pathClass,
        backend,
      ),
      // Level 0's 80 chunks take three workflow runs, and the levels' batches continue as new too.
      engine: { chunks_per_batch: 8, batches_per_run: 4 },
    });
  });

  const conn = () => ['--address', server.address];
  // The config asks for no pyramid: verify checks the one the volume records.
  const verify = () => cli(['verify', config, ...conn()], server.home);

  async function status(jobId: string): Promise<JobResult> {
    const res = await cli(['status', '-j', jobId, '--json', ...conn()], server.home);
    return (JSON.parse(res.stdout) as { progress: JobResult }).progress;
  }

  /** A voxel of a uint16 array as zarr-python reads it. */
  async function storedVoxel(volume: string, array: string, at: Voxel): Promise<number> {
    const read = await readWithZarrPython(volume, array);
    const [, ny, nx] = read.shape as [number, number, number];
    return read.data.readUInt16LE(2 * ((at.z * ny + at.y) * nx + at.x));
  }

  /** Sets a voxel with zarr-python (not our writer); returns its value before. */
  async function setVoxel(volume: string, array: string, at: Voxel, value: number): Promise<number> {
    const args = [volume, String(at.z), String(at.y), String(at.x), String(value), array];
    return (JSON.parse(await runPython('set_voxel.py', args)) as { before: number }).before;
  }

  it('run --multiscale --verify: the job completes, then every level passes', async () => {
    const res = await cli(['run', config, '-f', '--multiscale', '--verify', ...conn()], server.home);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(
      res.stdout,
      /^job \S+ completed: 80\/80 chunks .*pyramid level 1 24\/24, level 2 8\/8, level 3 4\/4/m,
    );
    assert.match(
      res.stdout,
      /^verify job \S+-verify completed: 80\/80 chunks .* 0 failed, pyramid level 1 24\/24, level 2 8\/8, level 3 4\/4/m,
    );
    assert.match(
      res.stdout,
      /verified: all 80 chunks as stored equal the source, and the 36 chunks of levels 1-3 equal the pyramid of the level below/,
    );
  });

  it('verify: a level-1 voxel changed by zarr-python is named with its level and both values (exit 1)', async () => {
    // Level 1 spans x [1, 20), y [2, 15), z [1, 8): this voxel lies in chunk (z 1, y 0, x 1).
    const at = { x: 10, y: 6, z: 3 };
    const before = await storedVoxel(out, '1', at);
    const changed = (before + 7777) % 65536;
    await setVoxel(out, '1', at, changed);
    // The level-2 voxel above it, as stored: no longer the mean of its block of level 1.
    const above = { x: at.x >> 1, y: at.y >> 1, z: at.z };
    const level2 = await storedVoxel(out, '2', above);

    const res = await verify();
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(
      res.stdout,
      /completed_with_errors: 80\/80 chunks .* 0 failed, pyramid level 1 24\/24 \(1 differ\), level 2 8\/8 \(1 differ\), level 3 4\/4,/,
    );
    assert.match(
      res.stdout,
      /^2 chunk\(s\) differ from the source or from the pyramid of the level below, or could not be read:$/m,
    );
    const listed = res.stdout.split('\n').filter((l) => l.startsWith('  '));
    assert.equal(listed.length, 2, res.stdout);
    assert.match(
      listed[0]!,
      new RegExp(
        `^  level 1 chunk \\d+: chunk 0/1/0/1 \\(x 8:16, y 2:8, z 2:4, t 0\\) against the mean of level 0: ` +
          `first difference at \\(x ${at.x}, y ${at.y}, z ${at.z}, t 0\\): expected ${before}, stored ${changed}$`,
      ),
    );
    const second = new RegExp(
      `^  level 2 chunk \\d+: chunk 0/1/0/0 \\(x 0:8, y 1:8, z 2:4, t 0\\) against the mean of level 1: ` +
        `first difference at \\(x ${above.x}, y ${above.y}, z ${above.z}, t 0\\): expected (\\d+), stored ${level2}$`,
    ).exec(listed[1]!);
    assert.ok(second, listed[1]);
    assert.notEqual(Number(second[1]), level2);

    const p = await status(jobIdOf(res.stdout));
    assert.equal(p.state, 'completed_with_errors');
    assert.deepEqual(p.pyramid, [
      { level: 1, done: 24, total: 24, failed: 1 },
      { level: 2, done: 8, total: 8, failed: 1 },
      { level: 3, done: 4, total: 4, failed: 0 },
    ]);
    assert.deepEqual(
      p.failures.map((f) => [f.level, f.difference]),
      [
        [1, { ...at, t: 0, source: String(before), stored: String(changed) }],
        [2, { ...above, t: 0, source: second[1], stored: String(level2) }],
      ],
    );
    assert.ok(p.run >= 4, `the levels' check continued as new (${p.run} runs)`);

    await setVoxel(out, '1', at, before);
    assert.equal((await verify()).code, 0, 'the voxel set back, the volume passes again');
  });

  it('verify: a source changed after the ingest is reported at level 0; its intact levels pass', async () => {
    // Chunk (z 2, y 1, x 2) of level 0: x 16:24, y 8:16, z 4:6.
    const at = { x: 20, y: 12, z: 4 };
    const before = await storedVoxel(source, 'img', at);
    const changed = (before + 7777) % 65536;
    await setVoxel(source, 'img', at, changed);
    try {
      const res = await verify();
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.match(res.stdout, /pyramid level 1 24\/24, level 2 8\/8, level 3 4\/4,/);
      const listed = res.stdout.split('\n').filter((l) => l.startsWith('  '));
      assert.deepEqual(listed, [
        `  chunk ${listed[0]?.match(/^ {2}chunk (\d+):/)?.[1]}: chunk 0/2/1/2 (x 16:24, y 8:16, z 4:6, t 0): ` +
          `first difference at (x ${at.x}, y ${at.y}, z ${at.z}, t 0): source ${changed}, stored ${before}`,
      ]);
    } finally {
      await setVoxel(source, 'img', at, before);
    }
  });

  it('verify: a level missing from the volume ends the job with a message naming its array', async () => {
    const level3 = path.join(out, '3');
    renameSync(level3, `${level3}.away`);
    try {
      const res = await verify();
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.match(
        res.stdout + res.stderr,
        new RegExp(
          `the pyramid could not be verified: ${level3}/zarr\\.json not found: the volume has no pyramid level 3`,
        ),
      );
    } finally {
      renameSync(`${level3}.away`, level3);
    }
  });
});
