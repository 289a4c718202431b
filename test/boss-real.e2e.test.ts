/**
 * The Boss as it really behaves (boss-api.md: time samples, 400/9001, the quota 429, write
 * resolutions, redirects, downsampling, a validate that writes nothing), through the commands a
 * user runs, on a real Temporal dev server, against the emulator.
 */
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { syntheticVoxel } from '../src/plugins/synthetic.js';
import { startBossEmulator, type BossEmulator, type VoxelArray } from './boss-emulator/index.js';
import { stackConfig, stackSpec, voxel, writeStack } from './fixtures/stack.js';
import {
  cli,
  jobIdOf,
  spawnCli,
  startTestServer,
  stopCli,
  tempDir,
  type RunningCli,
  type TestServer,
} from './harness/env.js';

const TOKEN = 'tok-real-boss-7c41e9';
type Range = [number, number];
interface Extent {
  x: Range;
  y: Range;
  z: Range;
  t: Range;
}

describe('the Boss as it really behaves (emulated), through the CLI', function () {
  this.timeout(240_000);
  let server: TestServer;
  let boss: BossEmulator;
  let worker: RunningCli;
  let dir: string;

  before(async () => {
    server = await startTestServer();
    boss = await startBossEmulator({ tokens: [{ token: TOKEN, canWrite: true, canCreate: true }] });
    dir = tempDir('boss-real');
    boss.createCoordFrame('frame', {
      x_start: 0,
      x_stop: 2048,
      y_start: 0,
      y_stop: 2048,
      z_start: 0,
      z_stop: 64,
    });
    boss.createCollection('lab');
    worker = spawnCli(['worker', '--address', server.address], tempDir('boss-real-worker'), {
      INTERN_TOKEN: TOKEN,
    });
  });
  after(async () => {
    if (worker) await stopCli(worker);
    await boss?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const host = () => boss.url.replace(/^http:\/\//, '');
  const conn = () => ['--address', server.address];

  function experiment(
    name: string,
    fields: Record<string, unknown> = {},
    channel: Record<string, unknown> = {},
  ) {
    boss.createExperiment('lab', name, { coord_frame: 'frame', ...fields });
    boss.createChannel('lab', name, 'em', { datatype: 'uint16', ...channel });
  }

  /** A synthetic uint16 job (the source has time: voxel = f(x, y, z, t)). */
  function syntheticJob(name: string, extent: Extent, backend: Record<string, unknown> = {}, resolution = 0) {
    const file = path.join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        schema: { name: 'boss-v0.2-schema', validator: 'BossValidatorV02' },
        client: {
          backend: { name: 'boss', class: 'BossBackend', host: host(), protocol: 'http', ...backend },
          path_processor: { class: 'boss_ingest.plugins.synthetic.SyntheticPathProcessor' },
          tile_processor: {
            class: 'boss_ingest.plugins.synthetic.SyntheticTileProcessor',
            params: { bits: 16 },
          },
        },
        database: { collection: 'lab', experiment: name, channel: 'em' },
        ingest_job: { resolution, ingest_type: 'tile', extent, tile_size: { x: 512, y: 512, z: 1, t: 1 } },
      }),
    );
    return file;
  }

  /** `start --wait` on the shared worker (which has the token in its environment). */
  async function startAndWait(file: string, ...extra: string[]) {
    const started = Date.now();
    const res = await cli(['start', file, '-f', '--wait', ...extra, ...conn()], server.home, {
      timeoutMs: 200_000,
    });
    return { ...res, seconds: (Date.now() - started) / 1000 };
  }

  function countMismatches(
    data: VoxelArray,
    extent: Extent,
    want: (x: number, y: number, z: number, t: number) => number,
  ) {
    let i = 0;
    let mismatches = 0;
    for (let t = extent.t[0]; t < extent.t[1]; t++)
      for (let z = extent.z[0]; z < extent.z[1]; z++)
        for (let y = extent.y[0]; y < extent.y[1]; y++)
          for (let x = extent.x[0]; x < extent.x[1]; x++)
            if (Number(data[i++]) !== want(x, y, z, t)) mismatches++;
    assert.equal(i, data.length);
    return mismatches;
  }

  const cutoutPosts = (exp: string) =>
    boss.requests.filter((r) => r.method === 'POST' && r.url.startsWith(`/v1/cutout/lab/${exp}/`));

  it('a job of one time point, extent.t = [2, 3], of a source without time lands at t = 2', async () => {
    experiment('onetime', { num_time_samples: 4 }, { datatype: 'uint8', default_time_sample: 0 });
    const spec = stackSpec(path.join(dir, 'c8'), 'catmaid1', [700, 600, 20], 8);
    await writeStack(spec);
    const config = stackConfig(spec, undefined) as {
      client: { backend: object };
      database: object;
      ingest_job: { extent: Extent };
    };
    config.client.backend = { name: 'boss', class: 'BossBackend', host: host(), protocol: 'http' };
    config.database = { collection: 'lab', experiment: 'onetime', channel: 'em' };
    config.ingest_job.extent.t = [2, 3];
    const file = path.join(dir, 'onetime.json');
    writeFileSync(file, JSON.stringify(config));

    const res = await startAndWait(file);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const posts = cutoutPosts('onetime');
    assert.ok(posts.length > 0 && posts.every((r) => r.url.endsWith('/2:3/')), 'every write carries t 2:3');
    const extent: Extent = { x: [0, 700], y: [0, 600], z: [0, 20], t: [2, 3] };
    const at2 = boss.readCutout('lab', 'onetime', 'em', 0, extent.x, extent.y, extent.z, extent.t);
    assert.equal(
      countMismatches(at2, extent, (x, y, z) => voxel(spec, x, y, z)),
      0,
    );
    const atDefault = boss.readCutout('lab', 'onetime', 'em', 0, extent.x, extent.y, extent.z, [0, 1]);
    assert.ok(!atDefault.some((v) => Number(v) !== 0), "nothing landed at the channel's default time sample");
  });

  it("15% of writes answered 400/9001 (the Boss's storage layer failing) still give a voxel-exact channel", async () => {
    experiment('locked');
    const extent: Extent = { x: [0, 1100], y: [0, 900], z: [0, 20], t: [0, 1] };
    boss.faults = { seed: 9, storageErrorRate: 0.15, scope: 'cutout-post' };
    boss.resetStats();
    try {
      const res = await startAndWait(syntheticJob('locked', extent));
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /completed: 12\/12 chunks/);
      assert.ok((boss.stats.faultsByKind['9001'] ?? 0) > 0, '400/9001 answers were injected');
    } finally {
      boss.faults = {};
    }
    const data = boss.readCutout('lab', 'locked', 'em', 0, extent.x, extent.y, extent.z, extent.t);
    assert.equal(
      countMismatches(data, extent, (x, y, z, t) => syntheticVoxel(16, x, y, z, t)),
      0,
    );
  });

  it("the quota 429 ends the job within two minutes with the server's message, exit 1 and how to resume", async () => {
    experiment('quota');
    const extent: Extent = { x: [0, 2048], y: [0, 2048], z: [0, 32], t: [0, 1] };
    boss.resetStats();
    boss.faults = { quotaAfterWrites: 3 };
    let res;
    try {
      res = await startAndWait(syntheticJob('quota', extent));
    } finally {
      boss.faults = {};
    }
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.ok(res.seconds < 120, `the job took ${res.seconds} s to end`);
    assert.match(res.stdout, /monthly ingress quota of this user exceeded/);
    assert.match(res.stdout, new RegExp(`-j ${jobIdOf(res.stdout)}`));
    assert.equal(boss.stats.stored, 3, 'what was written before the quota is kept');
    const refused = boss.requests.filter((r) => r.fault === 'quota').map((r) => r.url);
    assert.ok(refused.length > 0);
    assert.equal(new Set(refused).size, refused.length, 'a write refused for the quota is never retried');
  });

  it('a write resolution the channel does not accept is refused before any write, naming what it accepts', async () => {
    experiment('levels', { num_hierarchy_levels: 4 });
    boss.resetStats();
    const extent: Extent = { x: [0, 512], y: [0, 512], z: [0, 16], t: [0, 1] };
    const res = await startAndWait(syntheticJob('levels', extent, {}, 2));
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(
      res.stdout,
      /ingest_job\.resolution 2 is not accepted for writes by channel lab\/levels\/em: the Boss writes at resolution 0 or 1/,
    );
    assert.equal(boss.stats.posts, 0, 'nothing was written');
  });

  it('downsample: starts after the last write, the job ends completed when the channel is DOWNSAMPLED', async () => {
    experiment('pyramid', { num_hierarchy_levels: 3 });
    boss.downsample = { durationMs: 2500 };
    const extent: Extent = { x: [0, 1100], y: [0, 600], z: [0, 16], t: [0, 1] };
    const file = syntheticJob('pyramid', extent);
    const res = await cli(['run', file, '--downsample', '-a', TOKEN, '-f', ...conn()], server.home, {
      timeoutMs: 200_000,
    });
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /completed: 6\/6 chunks.*downsample DOWNSAMPLED/);
    const log = boss.requests.filter((r) => r.url.includes('/lab/pyramid/'));
    const start = log.findIndex((r) => r.method === 'POST' && r.url === '/v1/downsample/lab/pyramid/em/');
    const writes = log.flatMap((r, i) => (r.method === 'POST' && r.url.startsWith('/v1/cutout/') ? [i] : []));
    const lastWrite = Math.max(...writes);
    assert.ok(start > lastWrite, 'the downsample started after the last write');
    assert.ok(
      log.slice(start + 1).some((r) => r.method === 'GET' && r.url.startsWith('/v1/downsample/')),
      'its status was polled',
    );
    const status = await fetch(`${boss.url}/v1/downsample/lab/pyramid/em/`, {
      headers: { authorization: `Token ${TOKEN}` },
    });
    assert.equal(((await status.json()) as { status: string }).status, 'DOWNSAMPLED');
  });

  it("downsample FAILED fails the job with the server's status, exit 1", async () => {
    experiment('pyramid2', { num_hierarchy_levels: 3 });
    boss.downsample = { durationMs: 500, outcome: 'FAILED' };
    const extent: Extent = { x: [0, 512], y: [0, 512], z: [0, 16], t: [0, 1] };
    const res = await startAndWait(syntheticJob('pyramid2', extent, { downsample: true }));
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout, /failed: the Boss's downsample of lab\/pyramid2\/em FAILED/);
  });

  it('a job cancelled while the Boss downsamples cancels the downsample', async () => {
    experiment('pyramid3', { num_hierarchy_levels: 3 });
    boss.downsample = { durationMs: 120_000 };
    boss.resetStats();
    const extent: Extent = { x: [0, 512], y: [0, 512], z: [0, 16], t: [0, 1] };
    const start = await cli(
      ['start', syntheticJob('pyramid3', extent, { downsample: true }), '-f', ...conn()],
      server.home,
    );
    assert.equal(start.code, 0, start.stderr);
    const jobId = jobIdOf(start.stdout);
    for (let i = 0; i < 600 && boss.stats.downsamplesStarted === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(boss.stats.downsamplesStarted, 1, 'the downsample started');
    const status = await cli(['status', '-j', jobId, '--json', ...conn()], server.home);
    assert.equal(
      (JSON.parse(status.stdout) as { progress: { state: string } }).progress.state,
      'downsampling',
    );
    const cancel = await cli(['cancel', '-j', jobId, ...conn()], server.home);
    assert.equal(cancel.code, 0, cancel.stdout + cancel.stderr);
    for (let i = 0; i < 300 && boss.stats.downsamplesCancelled === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(boss.stats.downsamplesCancelled, 1, 'the downsample was cancelled on the Boss');
  });

  it('validate leaves the Boss untouched: no write, and says write permission was not checked', async () => {
    experiment('untouched');
    const extent: Extent = { x: [0, 600], y: [0, 600], z: [0, 16], t: [0, 1] };
    const file = syntheticJob('untouched', extent);
    const before = boss.requests.length;
    boss.resetStats();
    const res = await cli(['validate', file, '-a', TOKEN], server.home);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, /Boss preflight passed: .*write permission not checked/);
    assert.ok(boss.stats.requests > 0, 'the preflight read from the Boss');
    const sent = boss.requests.slice(before);
    assert.deepEqual(
      sent.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.url}`),
      [],
      'validate sent no write',
    );
  });

  it('validate refuses channels that cannot hold the data: CloudVolume storage, uint64 image', async () => {
    experiment('cloud', {}, { storage_type: 'cloudvol' });
    const extent: Extent = { x: [0, 512], y: [0, 512], z: [0, 16], t: [0, 1] };
    const cloud = await cli(['validate', syntheticJob('cloud', extent), '-a', TOKEN], server.home);
    assert.equal(cloud.code, 1);
    assert.match(cloud.stdout, /channel lab\/cloud\/em has storage_type cloudvol/);
    experiment('labels', {}, { datatype: 'uint64', type: 'image' });
    const labels = await cli(['validate', syntheticJob('labels', extent), '-a', TOKEN], server.home);
    assert.equal(labels.code, 1);
    assert.match(labels.stdout, /channel lab\/labels\/em is a uint64 image channel/);
  });

  it('a Boss that redirects (http -> https) is reported with "use protocol https", never followed', async () => {
    const lb = await startBossEmulator({ tokens: [{ token: TOKEN }], redirectTo: 'https://127.0.0.1:9/' });
    try {
      experiment('redirected');
      const extent: Extent = { x: [0, 512], y: [0, 512], z: [0, 16], t: [0, 1] };
      const file = syntheticJob('redirected', extent, { host: lb.url.replace(/^http:\/\//, '') });
      const res = await startAndWait(file);
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.match(res.stdout, /301, a redirect to https:\/\/127\.0\.0\.1:9\/v1\/.*use protocol https/);
      assert.ok(
        lb.requests.every((r) => r.method === 'GET'),
        'nothing was sent to be written',
      );
    } finally {
      await lb.stop();
    }
  });
});
