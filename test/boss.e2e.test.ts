/**
 * Ingest into a Boss (the emulator in test/boss-emulator, faithful to boss-api.md) through the
 * commands a user runs, on a real Temporal dev server; read back through the cutout GET.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { BossApi } from '../src/boss/api.js';
import { decodeChunk, encodeChunk } from '../src/destinations/codec.js';
import { syntheticVoxel } from '../src/plugins/synthetic.js';
import { startBossEmulator, type BossEmulator } from './boss-emulator/index.js';
import { encodePng } from './fixtures/png.js';
import { stackConfig, stackSpec, tileFile, voxel, writeStack, type StackSpec } from './fixtures/stack.js';
import { cli, jobIdOf, spawnCli, startTestServer, stopCli, tempDir, type TestServer } from './harness/env.js';

const TOKEN = 'tok-3f9a2c7e-secret-boss-token';
const READ_ONLY = 'tok-read-only-8b1d';

describe('ingest into a Boss (emulated) on a real Temporal dev server', function () {
  this.timeout(240_000);
  let server: TestServer;
  let boss: BossEmulator;
  let dir: string;
  let C8: StackSpec;
  let Z16: StackSpec;

  before(async () => {
    server = await startTestServer();
    boss = await startBossEmulator({
      tokens: [
        { token: TOKEN, canWrite: true, canCreate: true },
        { token: READ_ONLY, canWrite: false, canCreate: false },
      ],
    });
    dir = tempDir('boss');
    C8 = stackSpec(path.join(dir, 'c8'), 'catmaid1', [1300, 1100, 40], 8);
    Z16 = stackSpec(path.join(dir, 'z16'), 'zindex', [1000, 900, 48], 16);
    await prep('catmaid8', 'uint8', { x: 2048, y: 2048, z: 64 });
    await prep('zstack16', 'uint16', { x: 1024, y: 1024, z: 64 });
    await writeStack(C8);
    await writeStack(Z16);
  });
  after(async () => {
    await boss?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const conn = () => ['--address', server.address];
  const host = () => boss.url.replace(/^http:\/\//, '');

  /** `boss-ingest prep` creates what the job writes to. */
  async function prep(
    name: string,
    datatype: string,
    frame: { x: number; y: number; z: number },
  ): Promise<void> {
    const file = path.join(dir, `${name}-resources.json`);
    writeFileSync(
      file,
      JSON.stringify({
        host: host(),
        protocol: 'http',
        collection: { name: 'lab' },
        coord_frame: { name: `${name}_frame`, x_stop: frame.x, y_stop: frame.y, z_stop: frame.z },
        experiment: { name },
        channel: { name: 'em', datatype },
      }),
    );
    const res = await cli(['prep', file, '-a', TOKEN], server.home);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    assert.match(res.stdout, new RegExp(`channel lab/${name}/em: created`));
  }

  function bossConfig(spec: StackSpec, experiment: string, extra: Record<string, unknown> = {}): string {
    const config = stackConfig(spec) as { client: { backend: object }; database: object };
    config.client.backend = { name: 'boss', class: 'BossBackend', host: host(), protocol: 'http', ...extra };
    config.database = { collection: 'lab', experiment, channel: 'em' };
    const file = path.join(dir, `${experiment}.json`);
    writeFileSync(file, JSON.stringify(config));
    return file;
  }

  /** The channel's voxels through the cutout GET, compared with the source (or `expected`). */
  async function assertChannel(
    experiment: string,
    spec: StackSpec,
    expected = (x: number, y: number, z: number) => voxel(spec, x, y, z),
  ): Promise<void> {
    const api = new BossApi(boss.url, TOKEN);
    const blosc = await api.getCutout({
      collection: 'lab',
      experiment,
      channel: 'em',
      resolution: 0,
      x: [0, spec.width],
      y: [0, spec.height],
      z: [0, spec.depth],
    });
    const bytes = await decodeChunk('blosc', blosc);
    const data = spec.bits === 16 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2) : bytes;
    assert.equal(data.length, spec.width * spec.height * spec.depth);
    let mismatches = 0;
    let first = '';
    for (let z = 0; z < spec.depth; z++)
      for (let y = 0; y < spec.height; y++)
        for (let x = 0; x < spec.width; x++) {
          const got = data[(z * spec.height + y) * spec.width + x];
          const want = expected(x, y, z);
          if (got !== want && mismatches++ === 0)
            first = `(x ${x}, y ${y}, z ${z}): got ${got}, expected ${want}`;
        }
    assert.equal(mismatches, 0, `${mismatches} voxels differ, first at ${first}`);
  }

  it('a uint8 CATMAID stack lands voxel-exact, and the token appears nowhere in the job or the logs', async () => {
    const spec = C8;
    const res = await cli(
      ['run', bossConfig(spec, 'catmaid8'), '-a', TOKEN, '-f', '-v', 'debug', ...conn()],
      server.home,
    );
    assert.equal(res.code, 0, res.stdout + res.stderr);
    await assertChannel('catmaid8', spec);
    assert.ok(
      boss.requests.some(
        (r) => r.method === 'POST' && r.url.startsWith('/v1/cutout/lab/catmaid8/em/0/0:512/0:512/0:16/'),
      ),
      'writes are aligned to the cuboid grid',
    );

    // Every event of every run of the job, and every log file, searched for the token.
    const jobId = jobIdOf(res.stdout);
    const connection = await Connection.connect({ address: server.address });
    try {
      const client = new Client({ connection });
      const history = JSON.stringify(await client.workflow.getHandle(jobId).fetchHistory());
      assert.ok(history.length > 1000);
      assert.ok(!history.includes(TOKEN), 'the token is in the job history');
      const described = JSON.stringify(await client.workflow.getHandle(jobId).describe(), (_k, v) =>
        typeof v === 'bigint' ? String(v) : v,
      );
      assert.ok(!described.includes(TOKEN), 'the token is in the job description (memo, search attributes)');
    } finally {
      await connection.close();
    }
    const logs = readdirSync(server.home).filter((f) => f.endsWith('.log'));
    assert.ok(logs.length > 0, 'the run wrote a log');
    for (const f of logs)
      assert.ok(!readFileSync(path.join(server.home, f), 'utf8').includes(TOKEN), `the token is in ${f}`);
    assert.ok(!res.stdout.includes(TOKEN) && !res.stderr.includes(TOKEN), 'the token is in the output');
  });

  it('verify: run --verify passes a job, then verify finds a voxel changed in the Boss, writing nothing', async () => {
    await prep('verify8', 'uint8', { x: 2048, y: 2048, z: 64 });
    const file = bossConfig(C8, 'verify8');
    const ran = await cli(['run', file, '-a', TOKEN, '-f', '--verify', ...conn()], server.home);
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /verified: all 27 chunks as stored equal the source/);

    // Changed through the Boss's own cutout POST, not through the job's writer.
    const at = { x: 1100, y: 600, z: 33 };
    const source = voxel(C8, at.x, at.y, at.z);
    const changed = (source + 1) % 256;
    const one = (v: number): [number, number] => [v, v + 1];
    await new BossApi(boss.url, TOKEN).postCutout(
      {
        collection: 'lab',
        experiment: 'verify8',
        channel: 'em',
        resolution: 0,
        x: one(at.x),
        y: one(at.y),
        z: one(at.z),
        t: [0, 1],
      },
      await encodeChunk('blosc', Uint8Array.of(changed)),
    );
    const seen = boss.requests.length;
    const res = await cli(['verify', file, '-a', TOKEN, ...conn()], server.home);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(
      res.stdout,
      new RegExp(
        `^  chunk \\d+: chunk 0/2/1/2 \\(x 1024:1300, y 512:1024, z 32:40, t 0\\): ` +
          `first difference at \\(x ${at.x}, y ${at.y}, z ${at.z}, t 0\\): source ${source}, stored ${changed}$`,
        'm',
      ),
    );
    assert.match(res.stdout, /^1 chunk\(s\) differ from the source or could not be read:$/m);
    assert.deepEqual(
      boss.requests
        .slice(seen)
        .filter((r) => r.method !== 'GET')
        .map((r) => `${r.method} ${r.url}`),
      [],
      'verify only reads',
    );
    assert.ok(!res.stdout.includes(TOKEN) && !res.stderr.includes(TOKEN), 'the token is in the output');
    const connection = await Connection.connect({ address: server.address });
    try {
      const history = await new Client({ connection }).workflow.getHandle(jobIdOf(res.stdout)).fetchHistory();
      assert.ok(!JSON.stringify(history).includes(TOKEN), 'the token is in the verify job history');
    } finally {
      await connection.close();
    }
  });

  it('a uint16 z-index stack lands voxel-exact through 20% injected 5xx/429 faults and a worker killed mid-job', async () => {
    const spec = Z16;
    boss.faults = { seed: 7, errorRate: 0.12, throttleRate: 0.08, retryAfter: 1, scope: 'cutout-post' };
    boss.resetStats();
    const file = bossConfig(spec, 'zstack16');
    const env = { INTERN_TOKEN: TOKEN };
    const first = spawnCli(['worker', ...conn()], tempDir('bw1'), env);
    try {
      const start = await cli(['start', file, '-f', ...conn()], server.home);
      assert.equal(start.code, 0, start.stderr);
      const jobId = jobIdOf(start.stdout);
      for (let i = 0; i < 300 && boss.stats.stored < 3; i++) await new Promise((r) => setTimeout(r, 100));
      first.child.kill('SIGKILL');
      await first.exited;
      const second = spawnCli(['worker', ...conn()], tempDir('bw2'), env);
      try {
        const waited = await cli(['start', file, '-j', jobId, '--wait', ...conn()], server.home);
        assert.equal(waited.code, 0, waited.stdout + waited.stderr);
        assert.match(waited.stdout, /completed: 12\/12 chunks/);
      } finally {
        await stopCli(second);
      }
      assert.ok(boss.stats.faultsInjected > 0, 'faults were injected');
      await assertChannel('zstack16', spec);
    } finally {
      boss.faults = {};
      await stopCli(first);
    }
  });

  it('a wrong token fails the job at once with a clear message, writing nothing', async () => {
    const spec = C8;
    boss.resetStats();
    const res = await cli(
      ['run', bossConfig(spec, 'catmaid8'), '-a', 'not-the-token', '-f', ...conn()],
      server.home,
    );
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout, /refused the API token \(401\)/);
    assert.equal(boss.stats.stored, 0);
  });

  it('a read-only token is refused before any write', async () => {
    const spec = C8;
    const res = await cli(
      ['run', bossConfig(spec, 'catmaid8'), '-a', READ_ONLY, '-f', ...conn()],
      server.home,
    );
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout, /may read but not write channel lab\/catmaid8\/em/);
  });

  it('a missing channel is named', async () => {
    const spec = C8;
    const config = JSON.parse(readFileSync(bossConfig(spec, 'catmaid8'), 'utf8'));
    config.database.channel = 'nosuch';
    const file = path.join(dir, 'nochannel.json');
    writeFileSync(file, JSON.stringify(config));
    const res = await cli(['validate', file, '-a', TOKEN], server.home);
    assert.equal(res.code, 1);
    assert.match(res.stdout, /channel lab\/catmaid8\/nosuch does not exist/);
  });

  it('a datatype mismatch (uint16 tiles, uint8 channel) fails before any write', async () => {
    const spec = Z16;
    boss.resetStats();
    const res = await cli(['run', bossConfig(spec, 'catmaid8'), '-a', TOKEN, '-f', ...conn()], server.home);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stdout, /the source is uint16 but channel lab\/catmaid8\/em is uint8/);
    assert.equal(boss.stats.stored, 0, 'nothing was written');
  });

  it('an extent outside the coordinate frame is refused', async () => {
    const spec = C8;
    const config = JSON.parse(readFileSync(bossConfig(spec, 'catmaid8'), 'utf8'));
    config.ingest_job.extent.z = [0, 100];
    const file = path.join(dir, 'outside.json');
    writeFileSync(file, JSON.stringify(config));
    const res = await cli(['run', file, '-a', TOKEN, '-f', ...conn()], server.home);
    assert.equal(res.code, 1);
    assert.match(
      res.stdout,
      /ingest_job\.extent\.z \[0, 100\) lies outside the coordinate frame's \[0, 64\)/,
    );
  });

  it('a time series lands in (t, z, y, x) with a time range on every write', async () => {
    const resources = path.join(dir, 'ts-resources.json');
    writeFileSync(
      resources,
      JSON.stringify({
        host: host(),
        protocol: 'http',
        collection: { name: 'lab' },
        coord_frame: { name: 'ts_frame', x_stop: 1024, y_stop: 1024, z_stop: 32 },
        experiment: { name: 'series', num_time_samples: 4 },
        channel: { name: 'em', datatype: 'uint16' },
      }),
    );
    assert.equal((await cli(['prep', resources, '-a', TOKEN], server.home)).code, 0);
    const extent = {
      x: [0, 700] as [number, number],
      y: [0, 600] as [number, number],
      z: [0, 20] as [number, number],
      t: [1, 4] as [number, number],
    };
    const file = path.join(dir, 'series.json');
    writeFileSync(
      file,
      JSON.stringify({
        schema: { name: 'boss-v0.2-schema', validator: 'BossValidatorV02' },
        client: {
          backend: { name: 'boss', class: 'BossBackend', host: host(), protocol: 'http' },
          path_processor: { class: 'boss_ingest.plugins.synthetic.SyntheticPathProcessor' },
          tile_processor: {
            class: 'boss_ingest.plugins.synthetic.SyntheticTileProcessor',
            params: { bits: 16 },
          },
        },
        database: { collection: 'lab', experiment: 'series', channel: 'em' },
        ingest_job: { resolution: 0, ingest_type: 'tile', extent, tile_size: { x: 512, y: 512, z: 1, t: 1 } },
      }),
    );
    boss.resetStats();
    const res = await cli(['run', file, '-a', TOKEN, '-f', ...conn()], server.home);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const posts = boss.requests.filter((r) => r.method === 'POST' && r.url.includes('/lab/series/em/'));
    assert.ok(
      posts.length >= 12 && posts.every((r) => /\/\d+:\d+\/\d+:\d+\/\d+:\d+\/\d+:\d+\/$/.test(r.url)),
      'every write has a time range',
    );
    const api = new BossApi(boss.url, TOKEN);
    const bytes = await decodeChunk(
      'blosc',
      await api.getCutout({
        collection: 'lab',
        experiment: 'series',
        channel: 'em',
        resolution: 0,
        ...extent,
      }),
    );
    const data = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
    let i = 0;
    let mismatches = 0;
    for (let t = 1; t < 4; t++)
      for (let z = 0; z < 20; z++)
        for (let y = 0; y < 600; y++)
          for (let x = 0; x < 700; x++) mismatches += data[i++] === syntheticVoxel(16, x, y, z, t) ? 0 : 1;
    assert.equal(i, data.length);
    assert.equal(mismatches, 0);
  });

  it('skip_zero_chunks: an all-zero chunk is not posted and is counted as skipped, not written', async () => {
    // 600 x 300 x 32: four cuboids, x [0, 512) and [512, 600) by z [0, 16) and [16, 32); the
    // first 16 slices are all zeros.
    const spec = stackSpec(path.join(dir, 'zeros'), 'catmaid1', [600, 300, 32], 8);
    await writeStack(spec);
    for (let z = 0; z < 16; z++)
      for (const [xi, width] of [
        [0, 512],
        [1, 88],
      ] as const)
        writeFileSync(tileFile(spec, xi, 0, z), encodePng(width, 300, new Uint8Array(width * 300)));
    const stored = (x: number, y: number, z: number) => (z < 16 ? 0 : voxel(spec, x, y, z));
    // Every write carries its time range, here the one time point [0, 1).
    const cuboids = (zs: string[]) =>
      zs.flatMap((z) => [`0:512/0:300/${z}/0:1`, `512:600/0:300/${z}/0:1`]).sort();

    for (const [experiment, skip] of [
      ['zeros_skipped', true],
      ['zeros_written', false],
    ] as const) {
      await prep(experiment, 'uint8', { x: 1024, y: 1024, z: 32 });
      boss.resetStats();
      const res = await cli(
        ['run', bossConfig(spec, experiment, { skip_zero_chunks: skip }), '-a', TOKEN, '-f', ...conn()],
        server.home,
      );
      assert.equal(res.code, 0, res.stdout + res.stderr);
      const prefix = `/v1/cutout/lab/${experiment}/em/0/`;
      const posted = boss.requests
        .filter((r) => r.method === 'POST' && r.url.startsWith(prefix) && !r.url.endsWith('/0:1/0:1/0:1/'))
        .map((r) => r.url.slice(prefix.length, -1))
        .sort();
      assert.deepEqual(posted, skip ? cuboids(['16:32']) : cuboids(['0:16', '16:32']), `skip ${skip}`);
      await assertChannel(experiment, spec, stored);

      const status = await cli(['status', '-j', jobIdOf(res.stdout), '--json', ...conn()], server.home);
      const { progress } = JSON.parse(status.stdout) as {
        progress: { state: string; doneChunks: number; skippedChunks: number; voxelsWritten: number };
      };
      assert.equal(progress.state, 'completed');
      assert.equal(progress.doneChunks, skip ? 2 : 4);
      assert.equal(progress.skippedChunks, skip ? 2 : 0);
      assert.equal(
        progress.voxelsWritten,
        600 * 300 * (skip ? 16 : 32),
        'skipped voxels are not counted as written',
      );
      if (skip) assert.match(res.stdout, /4\/4 chunks \(100\.0%\).*0 failed, 2 skipped/);
      else assert.doesNotMatch(res.stdout, /skipped/);
    }
  });
});
