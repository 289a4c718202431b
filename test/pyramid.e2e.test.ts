/**
 * Pyramids built by the workers, through the CLI on a real Temporal dev server: every level read
 * back with zarr-python equals the independent reference of issue 12's definition
 * (test/harness/pyramid_reference.py) computed from level 0 as read back, for both methods and both
 * modes, on an extent with odd bounds that does not start at 0; the OME-Zarr multiscales scales
 * and translations; a re-run over part of the volume; `downsample VOLUME`; a worker killed while
 * the pyramid is built.
 */
import { strict as assert } from 'node:assert';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Range } from '../src/config/types.js';
import type { BatchResult, JobResult } from '../src/job/types.js';
import { cancelCommand } from '../src/cli/commands.js';
import { WORKFLOWS_PATH } from '../src/worker/bundle.js';
import { syntheticConfig, volumetricConfig, writeConfig as writeConfigIn } from './harness/config.js';
import { activityEvents, JobProbe, Processes, waitFor, waitForJobId } from './harness/durability.js';
import { cli, readWithZarrPython, runPython, tempDir, useDevServer, type TestServer } from './harness/env.js';

interface Extent {
  x: Range;
  y: Range;
  z: Range;
}

const CHUNK = { x: 8, y: 8, z: 2 };
/** Odd bounds and sizes, not starting at 0, inside a (9, 33, 41) source. */
const EXTENT: Extent = { x: [3, 40], y: [5, 30], z: [1, 8] };
const VOXEL = { x: 4, y: 4, z: 40 };

interface Pyramid {
  method: 'mean' | 'mode';
  isotropic: boolean;
  /** The highest level the job must build. */
  top: number;
}

describe('multiscale pyramids built by the workers', function () {
  this.timeout(300_000);
  let server: TestServer;
  let dir: string;
  let sourceGroup: string;

  useDevServer('pyramid-e2e', (s, d) => {
    server = s;
    dir = d;
  });
  before(async () => {
    sourceGroup = path.join(dir, 'source.zarr');
    await runPython('pyramid_sources.py', [sourceGroup, '9', '33', '41']);
  });

  const conn = () => ['--address', server.address];

  function config(
    name: string,
    array: string,
    extent: Extent,
    multiscale?: object,
    more: object = {},
  ): string {
    const backend = {
      ...more,
      chunk_size: CHUNK,
      voxel_size: VOXEL,
      voxel_unit: 'nanometer',
      ...(multiscale ? { multiscale } : {}),
    };
    const source = {
      class: 'ingestclient.plugins.zarr.ZarrChunkProcessor',
      params: { cloud_path: sourceGroup, volume_name: array },
    };
    const out = path.join(dir, `${name}.ome.zarr`);
    return writeConfigIn(
      dir,
      name,
      volumetricConfig(source, extent, out, 'ingestclient.plugins.zarr.ZarrPathProcessor', backend),
    );
  }

  async function status(jobId: string): Promise<JobResult> {
    const res = await cli(['status', '-j', jobId, '--json', ...conn()], server.home);
    return (JSON.parse(res.stdout) as { progress: JobResult }).progress;
  }

  /**
   * Levels 1..top of the volume read back with zarr-python against the reference computed from its
   * level 0 (read back too) over `extent`; the multiscales metadata lists 0..top with their scale
   * and translation.
   */
  async function assertPyramid(volume: string, extent: Extent, p: Pyramid): Promise<void> {
    const level0 = await readWithZarrPython(volume, '0');
    const work = tempDir('pyramid-ref');
    try {
      writeFileSync(path.join(work, 'level0.bin'), level0.data);
      const params = {
        dtype: level0.dtype,
        shape: level0.shape,
        extent,
        method: p.method,
        isotropic: p.isotropic,
        levels: p.top,
      };
      writeFileSync(path.join(work, 'params.json'), JSON.stringify(params));
      await runPython('pyramid_reference.py', [
        path.join(work, 'params.json'),
        path.join(work, 'level0.bin'),
        work,
      ]);
      for (let k = 1; k <= p.top; k++) {
        const read = await readWithZarrPython(volume, String(k));
        const want = readFileSync(path.join(work, `level${k}.bin`));
        assert.equal(read.dtype, level0.dtype);
        assert.deepEqual(read.chunks, [CHUNK.z, CHUNK.y, CHUNK.x]);
        assert.equal(read.data.length, want.length, `level ${k}: shape ${JSON.stringify(read.shape)}`);
        assert.ok(
          want.some((v) => v !== 0),
          `level ${k} of the reference is not all zeros`,
        );
        assert.ok(
          read.data.equals(want),
          `level ${k} differs from the reference (${p.method}, isotropic ${p.isotropic})`,
        );
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const multiscale = level0.ome.multiscales[0] as unknown as {
      axes: { name: string; unit?: string }[];
      datasets: {
        path: string;
        coordinateTransformations: { type: string; scale?: number[]; translation?: number[] }[];
      }[];
      type?: string;
    };
    assert.equal(level0.ome.version, '0.5');
    assert.equal(multiscale.type, p.method);
    assert.deepEqual(
      multiscale.axes.map((a) => a.unit),
      ['nanometer', 'nanometer', 'nanometer'],
    );
    assert.deepEqual(
      multiscale.datasets.map((d) => d.path),
      Array.from({ length: p.top + 1 }, (_, k) => String(k)),
    );
    for (const [k, d] of multiscale.datasets.entries()) {
      // A level-k voxel covers 2^k level-0 voxels along a halved axis; its centre lies (2^k - 1) / 2 past its block's first.
      const f = 2 ** k;
      const fz = p.isotropic ? f : 1;
      const scale = [VOXEL.z * fz, VOXEL.y * f, VOXEL.x * f];
      const translation = [((fz - 1) / 2) * VOXEL.z, ((f - 1) / 2) * VOXEL.y, ((f - 1) / 2) * VOXEL.x];
      const want =
        k === 0
          ? [{ type: 'scale', scale }]
          : [
              { type: 'scale', scale },
              { type: 'translation', translation },
            ];
      assert.deepEqual(d.coordinateTransformations, want, `level ${k}'s transformations`);
    }
  }

  async function run(args: string[]): Promise<{ jobId: string; stdout: string }> {
    // `run` asks before it creates a job; `downsample` does not.
    const res = await cli([...args, ...(args[0] === 'run' ? ['-f'] : []), ...conn()], server.home);
    assert.equal(res.code, 0, `exit code ${res.code}\n${res.stdout}\n${res.stderr}`);
    return { jobId: res.stdout.split('\n')[0]!.replace('job id: ', ''), stdout: res.stdout };
  }

  it('run --multiscale: mean, anisotropic, levels auto; the progress shows each level', async () => {
    const { jobId, stdout } = await run(['run', config('mean-aniso', 'img', EXTENT), '--multiscale']);
    // x [3, 40) and y [5, 30) fit one 8-voxel chunk at level 3: [0, 5) and [0, 4).
    assert.match(stdout, /completed: 80\/80 chunks .*pyramid level 1 24\/24, level 2 8\/8, level 3 4\/4/);
    const p = await status(jobId);
    assert.equal(p.state, 'completed');
    assert.deepEqual(p.pyramid, [
      { level: 1, done: 24, total: 24 },
      { level: 2, done: 8, total: 8 },
      { level: 3, done: 4, total: 4 },
    ]);
    await assertPyramid(path.join(dir, 'mean-aniso.ome.zarr'), EXTENT, {
      method: 'mean',
      isotropic: false,
      top: 3,
    });
  });

  it('chunks the ingest batches built are not built again by a batch of their level, exactly', async () => {
    // One ingest batch writes every level-0 chunk: it builds level 1, and the levels above in turn.
    const file = config('one-batch', 'img', EXTENT, {});
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    cfg.engine = { chunks_per_batch: 80 };
    writeFileSync(file, JSON.stringify(cfg));
    const { jobId, stdout } = await run(['run', file]);
    assert.match(stdout, /completed: 80\/80 chunks .*pyramid level 1 24\/24, level 2 8\/8, level 3 4\/4/);
    const events = await activityEvents(server.address, jobId);
    const built = new Set<string>();
    for (const e of events)
      if (e.event === 'completed' && e.activity === 'ingestBatch')
        for (const r of (e.data as BatchResult).built ?? [])
          for (let i = r.first; i < r.end; i++) built.add(`${r.level}.${i}`);
    assert.equal(built.size, 24 + 8 + 4, 'the ingest batch built every chunk of the pyramid');
    const levelBatches = events.filter((e) => e.event === 'scheduled' && e.activity === 'pyramidBatch');
    assert.deepEqual(
      levelBatches.map((e) => e.data),
      [],
      'no batch of a level ran',
    );
    await assertPyramid(path.join(dir, 'one-batch.ome.zarr'), EXTENT, {
      method: 'mean',
      isotropic: false,
      top: 3,
    });
  });

  it('levels are built while level 0 is written, also across continue-as-new, exactly', async () => {
    // One level-0 batch at a time, and a run of at most 2 batches: level 1's first chunks have
    // their inputs written after 5 of the 10 level-0 batches, and the levels' own batches
    // continue as new after level 0 is written.
    const file = config('streamed', 'img', EXTENT, {});
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    cfg.engine = { window: 1, chunks_per_batch: 8, batches_per_run: 2 };
    writeFileSync(file, JSON.stringify(cfg));
    const { jobId } = await run(['run', file]);
    const events = await activityEvents(server.address, jobId);
    const firstLevel = events.findIndex((e) => e.event === 'scheduled' && e.activity === 'pyramidBatch');
    const lastIngest = events
      .map((e, i) => (e.event === 'completed' && e.activity === 'ingestBatch' ? i : -1))
      .reduce((a, b) => Math.max(a, b), -1);
    assert.ok(firstLevel >= 0 && lastIngest >= 0, JSON.stringify(events));
    assert.ok(firstLevel < lastIngest, 'a level-1 batch started before level 0 was written');
    assert.ok(events[events.length - 1]!.run >= 2, 'the job continued as new');
    assert.ok(
      events[events.length - 1]!.run > events[lastIngest]!.run,
      'a run after level 0 was written built levels',
    );
    assert.equal((await status(jobId)).state, 'completed');
    await assertPyramid(path.join(dir, 'streamed.ome.zarr'), EXTENT, {
      method: 'mean',
      isotropic: false,
      top: 3,
    });
    // Every run of the job replays its own history deterministically.
    const connection = await Connection.connect({ address: server.address });
    try {
      const runs = new Client({ connection }).workflow.list({ query: `WorkflowId = '${jobId}'` });
      let replayed = 0;
      for await (const result of Worker.runReplayHistories(
        { workflowsPath: WORKFLOWS_PATH },
        runs.intoHistories(),
      )) {
        assert.equal(result.error, undefined, `run ${result.workflowId}: ${String(result.error)}`);
        replayed++;
      }
      assert.ok(replayed >= 2, `${replayed} runs replayed`);
    } finally {
      await connection.close();
    }
  });

  it('a sharded volume: every level sharded like level 0 and exact; downsample VOLUME rebuilds it', async () => {
    const shard = { x: 16, y: 16, z: 4 };
    await run(['run', config('sharded', 'img', EXTENT, {}, { shard_size: shard }), '--multiscale']);
    const volume = path.join(dir, 'sharded.ome.zarr');
    await assertPyramid(volume, EXTENT, { method: 'mean', isotropic: false, top: 3 });
    for (const level of ['1', '2', '3']) {
      const read = await readWithZarrPython(volume, level);
      assert.deepEqual(read.shards, [shard.z, shard.y, shard.x], `level ${level}'s shards`);
    }
    await run(['downsample', volume, '--method', 'mode', '--isotropic']);
    await assertPyramid(volume, EXTENT, { method: 'mode', isotropic: true, top: 3 });
  });

  // A tile source: level 1's parts are taken tile by tile as each row is assembled where the tiles
  // lie on the even grid (8x8 everywhere; 9x6 in the chunks no tile edge crosses at an odd voxel),
  // and from each chunk as written elsewhere.
  for (const tile of [
    { x: 8, y: 8 },
    { x: 9, y: 6 },
  ])
    it(`a tile source (tiles ${tile.x}x${tile.y}), uint8, run --multiscale: every level exact`, async () => {
      // Level 1's chunks over x [16, 48) and y [16, 32) have every block inside the extent.
      const extent: Extent = { x: [3, 53], y: [5, 37], z: [1, 8] };
      const name = `tiles-${tile.x}x${tile.y}`;
      const volume = path.join(dir, `${name}.ome.zarr`);
      // A batch per z band of chunks: each builds the level-1 chunks above it from held samples.
      const job = syntheticConfig({
        out: volume,
        extent,
        tile,
        chunk: CHUNK,
        engine: { chunks_per_batch: 35 },
      });
      Object.assign(job.client.backend, { voxel_size: VOXEL, voxel_unit: 'nanometer' });
      const { jobId } = await run(['run', writeConfigIn(dir, name, job), '--multiscale']);
      assert.equal((await status(jobId)).state, 'completed');
      await assertPyramid(volume, extent, { method: 'mean', isotropic: false, top: 3 });
    });

  it('multiscale in the config: mean, isotropic', async () => {
    await run(['run', config('mean-iso', 'img', EXTENT, { downsample: 'isotropic' })]);
    await assertPyramid(path.join(dir, 'mean-iso.ome.zarr'), EXTENT, {
      method: 'mean',
      isotropic: true,
      top: 3,
    });
  });

  it('multiscale in the config: mode (labels), anisotropic, 2 levels', async () => {
    await run(['run', config('mode-aniso', 'lab', EXTENT, { method: 'mode', levels: 2 })]);
    await assertPyramid(path.join(dir, 'mode-aniso.ome.zarr'), EXTENT, {
      method: 'mode',
      isotropic: false,
      top: 2,
    });
  });

  it('downsample VOLUME: the pyramid of a volume ingested without one (mode, isotropic)', async () => {
    await run(['run', config('plain', 'lab', EXTENT)]);
    const volume = path.join(dir, 'plain.ome.zarr');
    const { stdout } = await run(['downsample', volume, '--method', 'mode', '--isotropic']);
    assert.match(stdout, /completed: .*pyramid level 1 12\/12, level 2 2\/2, level 3 1\/1/);
    await assertPyramid(volume, EXTENT, { method: 'mode', isotropic: true, top: 3 });
    // Rebuilt with other settings: fewer levels, another method.
    await run(['downsample', volume, '--method', 'mean', '--levels', '1']);
    await assertPyramid(volume, EXTENT, { method: 'mean', isotropic: false, top: 1 });
  });

  it('downsample refuses what is not a boss-ingest volume, naming the file', async () => {
    const res = await cli(['downsample', path.join(dir, 'nothing.ome.zarr'), ...conn()], server.home);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /nothing\.ome\.zarr\/0\/zarr\.json/);
  });

  it('a job re-run over part of the volume rebuilds only the halves of its extent above it, exactly', async () => {
    const name = 'mean-aniso';
    const part: Extent = { x: [11, 26], y: [9, 20], z: [2, 5] };
    const file = config(`${name}`, 'img2', part, {});
    const { jobId } = await run(['run', file]);
    const p = await status(jobId);
    // Level k's part is [floor(a/2^k), ceil(b/2^k)), in 8-voxel chunks; z is not halved.
    const chunks = (r: Range, k: number, size: number) =>
      Math.ceil(Math.ceil(r[1] / 2 ** k) / size) - Math.floor(Math.floor(r[0] / 2 ** k) / size);
    const zChunks = Math.ceil(part.z[1] / CHUNK.z) - Math.floor(part.z[0] / CHUNK.z);
    assert.deepEqual(
      p.pyramid,
      [1, 2, 3].map((k) => {
        const total = chunks(part.x, k, CHUNK.x) * chunks(part.y, k, CHUNK.y) * zChunks;
        return { level: k, done: total, total };
      }),
    );
    assert.ok(p.pyramid![0]!.total < 24, 'fewer level-1 chunks than the whole level');
    // The volume's extent stays the first job's: the pyramid over it, with the re-run's voxels.
    await assertPyramid(path.join(dir, `${name}.ome.zarr`), EXTENT, {
      method: 'mean',
      isotropic: false,
      top: 3,
    });
  });

  it('a later job into the volume without multiscale still updates its pyramid, exactly', async () => {
    // The volume of the test above, its part holding img2: this job writes img's voxels back there.
    const name = 'mean-aniso';
    const part: Extent = { x: [11, 26], y: [9, 20], z: [2, 5] };
    const { jobId } = await run(['run', config(name, 'img', part)]);
    const p = await status(jobId);
    assert.deepEqual(
      p.pyramid?.map((l) => l.level),
      [1, 2, 3],
    );
    assert.ok(p.pyramid!.every((l) => l.done === l.total && l.total > 0));
    await assertPyramid(path.join(dir, `${name}.ome.zarr`), EXTENT, {
      method: 'mean',
      isotropic: false,
      top: 3,
    });
  });

  it('a worker killed with SIGKILL while the pyramid is built: another finishes it, exactly', async function () {
    const processes = new Processes();
    const probe = new JobProbe(server.address);
    try {
      const extent: Extent = { x: [1, 41], y: [0, 33], z: [0, 9] };
      const file = writeConfigIn(dir, 'kill', {
        ...JSON.parse(readFileSync(config('kill', 'img', extent, { downsample: 'isotropic' }), 'utf8')),
        // Runs of 20 batches: level 0's 125 take 7 runs, and the pyramid's 36 continue as new too.
        engine: { chunks_per_batch: 1, window: 2, batches_per_run: 20 },
      });
      const env = { BOSS_INGEST_THREADS: '1' };
      const first = processes.spawn(['worker', ...conn()], server.home, env);
      const waiting = processes.spawn(['start', file, '--wait', '-f', ...conn()], server.home);
      const jobId = await waitForJobId(waiting);
      const at = await waitFor(
        'the pyramid stage',
        60_000,
        async () => {
          const p = await probe.progress(jobId, 2000);
          return p?.state === 'downsampling' ? p : undefined;
        },
        20,
      );
      first.child.kill('SIGKILL');
      await first.exited;
      const levels = at.pyramid!;
      assert.ok(
        levels.some((l) => l.done < l.total),
        `the pyramid was not finished when the worker was killed: ${JSON.stringify(levels)}`,
      );
      processes.spawn(['worker', ...conn()], server.home, env);
      const code = await waiting.exited;
      assert.equal(code, 0, `${waiting.stdout()}\n${waiting.stderr()}`);
      const p = await status(jobId);
      assert.equal(p.state, 'completed');
      for (const l of p.pyramid!) assert.equal(l.done, l.total);
      assert.ok(p.run > Math.ceil(125 / 20), `the pyramid stage continued as new: ${p.run} runs`);
      await assertPyramid(path.join(dir, 'kill.ome.zarr'), extent, {
        method: 'mean',
        isotropic: true,
        top: 3,
      });
      console.log(`      killed at pyramid ${JSON.stringify(levels)}`);
    } finally {
      await processes.killAll();
      await probe.close();
    }
  });

  it('cancel while the pyramid is built: the job ends cancelled, its levels part built', async function () {
    const processes = new Processes();
    const probe = new JobProbe(server.address);
    try {
      const file = writeConfigIn(dir, 'cancel', {
        ...JSON.parse(readFileSync(config('cancel', 'img', EXTENT, { downsample: 'isotropic' }), 'utf8')),
        engine: { chunks_per_batch: 1, window: 1 },
      });
      processes.spawn(['worker', ...conn()], server.home, { BOSS_INGEST_THREADS: '1' });
      const waiting = processes.spawn(['start', file, '--wait', '-f', ...conn()], server.home);
      const jobId = await waitForJobId(waiting);
      await waitFor(
        'the pyramid stage',
        60_000,
        async () => (await probe.progress(jobId, 2000))?.state === 'downsampling',
        20,
      );
      // `boss-ingest cancel`'s own code, run in this process: a spawned CLI takes about a second
      // to start, by which time this small pyramid may be built and there is nothing to cancel.
      const code = await cancelCommand({
        address: server.address,
        namespace: 'default',
        logLevel: 'warn',
        jobId,
        reason: 'enough',
      });
      assert.equal(code, 0, 'boss-ingest cancel exits 0');
      assert.equal(await waiting.exited, 3, `start --wait exits 3 (cancelled)\n${waiting.stdout()}`);
      const p = await status(jobId);
      assert.equal(p.state, 'cancelled');
      assert.equal(p.cancelReason, 'enough');
      assert.ok(
        p.pyramid!.some((l) => l.done < l.total),
        `the pyramid was not finished: ${JSON.stringify(p.pyramid)}`,
      );
    } finally {
      await processes.killAll();
      await probe.close();
    }
  });
});
