/**
 * The local service: `run` with no server at a local address starts an embedded server and its
 * worker processes in a service that outlives it, and the next command with the same settings
 * uses them warm. What a user checks: the volumes read back equal the source; the second command
 * started nothing; `service stop`, an idle timeout and Ctrl-C end the service and free the
 * address; a command with another environment does not use a service it does not fit; a token
 * stays out of the service's command line and logs.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { portFree } from '../src/server/ports.js';
import { socketPath } from '../src/service/protocol.js';
import { chunkFiles, sleep, waitFor } from './harness/durability.js';
import { cli, jobIdOf, serverPort, spawnCli, stopCli, tempDir } from './harness/env.js';
import {
  assertSameAsSource,
  chunkTotal,
  syntheticConfig,
  type SyntheticJob,
} from './harness/synthetic-job.js';

/**
 * No process `pid`, or one that has exited and waits to be reaped: an orphan's new parent (the
 * container's init here) may reap it only seconds later, and until then it still takes signals.
 */
function exited(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
  } catch {
    return true;
  }
}

describe('run and the local service kept warm', function () {
  this.timeout(180_000);
  let dir: string;
  const homes: { home: string; address: string }[] = [];

  before(() => {
    dir = tempDir('service');
  });
  after(async () => {
    for (const { home, address } of homes) await cli(['service', 'stop', '--address', address], home);
    rmSync(dir, { recursive: true, force: true });
  });

  async function setUp(name: string, delayMs = 0, z = 16) {
    const job = (out: string): SyntheticJob => ({
      out: path.join(dir, out),
      extent: { x: [0, 256], y: [0, 256], z: [0, z] },
      tile: { x: 128, y: 128 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 8,
      delayMs,
      engine: { chunks_per_batch: 1 },
    });
    const config = (j: SyntheticJob) => {
      const file = path.join(dir, `${path.basename(j.out)}.json`);
      writeFileSync(file, JSON.stringify(syntheticConfig(j)));
      return file;
    };
    const at = { home: path.join(dir, `home-${name}`), address: `127.0.0.1:${await serverPort()}` };
    homes.push(at);
    const env = (extra: NodeJS.ProcessEnv = {}) => ({ BOSS_INGEST_KEEP_WARM: '120', ...extra });
    const status = async () => {
      const res = await cli(['service', 'status', '--address', at.address], at.home, { env: env() });
      return { code: res.code, pid: Number(/pid (\d+)/.exec(res.stdout)?.[1]) };
    };
    // What a failed command said, and the last lines of every log in its home (the service's, its
    // dev server's, its workers'): a run that hangs is cut by the harness before it can say why.
    const said = (res: { code: number | null; stdout: string; stderr: string }) =>
      [
        `exit ${res.code}`,
        res.stdout,
        res.stderr,
        ...readdirSync(at.home)
          .filter((f) => f.endsWith('.log'))
          .map(
            (f) =>
              `--- ${f}:\n${readFileSync(path.join(at.home, f), 'utf8').split('\n').slice(-40).join('\n')}`,
          ),
      ].join('\n');
    return { job, config, at, env, status, said };
  }

  const port = (address: string) => Number(address.split(':')[1]);

  it('a first run starts the service, a second uses it warm; both volumes equal the source; service stop ends it', async () => {
    const { job, config, at, env, status, said } = await setUp('reuse');
    const first = job('first.ome.zarr');
    const res1 = await cli(['run', config(first), '-f', '--address', at.address], at.home, { env: env() });
    assert.equal(res1.code, 0, said(res1));
    assert.match(res1.stderr, /starting the local service/);
    const total = chunkTotal(first);
    assert.match(res1.stdout, new RegExp(`completed: ${total}/${total} chunks`));
    const running = await status();
    assert.equal(running.code, 0, 'the service outlives the run');

    const second = job('second.ome.zarr');
    const res2 = await cli(['run', config(second), '-f', '--address', at.address], at.home, { env: env() });
    assert.equal(res2.code, 0, said(res2));
    assert.doesNotMatch(res2.stderr, /starting/, 'the second run started no server or workers');
    assert.match(res2.stdout, new RegExp(`job ${jobIdOf(res2.stdout)} completed: ${total}/${total} chunks`));
    assert.equal((await status()).pid, running.pid, 'the same service served both runs');
    await assertSameAsSource(first);
    await assertSameAsSource(second);

    const stop = await cli(['service', 'stop', '--address', at.address], at.home, { env: env() });
    assert.equal(stop.code, 0, said(stop));
    assert.equal((await status()).code, 1, 'no service after service stop');
    assert.ok(await portFree(port(at.address)), 'its server stopped with it');
  });

  it('stops itself, server and workers, after BOSS_INGEST_KEEP_WARM idle seconds', async () => {
    const { job, config, at, env, status, said } = await setUp('idle');
    const res = await cli(['run', config(job('idle.ome.zarr')), '-f', '--address', at.address], at.home, {
      env: env({ BOSS_INGEST_KEEP_WARM: '2' }),
    });
    assert.equal(res.code, 0, said(res));
    await waitFor('the idle service to stop', 30_000, async () => (await status()).code === 1);
    await waitFor('its server to free the address', 10_000, () => portFree(port(at.address)));
  });

  it('a new service waits for its first command longer than BOSS_INGEST_KEEP_WARM, then stops once idle', async () => {
    const { at, env, status } = await setUp('grace');
    const serve = spawnCli(
      ['service', 'serve', '--address', at.address],
      at.home,
      env({ BOSS_INGEST_KEEP_WARM: '1' }),
    );
    try {
      await waitFor('the service to be ready', 60_000, () => serve.stderr().includes(' ready at '));
      // No command yet, as when the command that started it is still loading on a busy machine.
      await sleep(2500);
      assert.equal(serve.child.exitCode, null, serve.stderr());
      assert.doesNotMatch(serve.stderr(), /stopping/);
      assert.equal((await status()).code, 0, 'a command finds it');
      await waitFor('the idle service to stop', 30_000, () => serve.child.exitCode !== null);
      assert.match(serve.stderr(), /stopping: idle 1 s/);
      await waitFor('its server to free the address', 10_000, () => portFree(port(at.address)));
    } finally {
      await stopCli(serve);
    }
  });

  it('a socket left by a killed service does not stop the next run from starting one', async () => {
    const { job, config, at, env, status, said } = await setUp('stale');
    mkdirSync(at.home, { recursive: true });
    const socket = socketPath(at.address, at.home)!;
    // A process listening there, killed before it could remove its socket.
    const killed = spawnSync(process.execPath, [
      '-e',
      "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))",
      socket,
    ]);
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(existsSync(socket), 'the dead socket is left');
    const out = job('stale.ome.zarr');
    const res = await cli(['run', config(out), '-f', '--address', at.address], at.home, { env: env() });
    assert.equal(res.code, 0, said(res));
    assert.match(res.stderr, /starting the local service/);
    await assertSameAsSource(out);
    assert.equal((await status()).code, 0, 'the new service answers at that socket');
  });

  it('a run in another environment (a token) replaces an idle service; the token is in neither its command line nor its logs', async function () {
    this.timeout(300_000);
    const { job, config, at, env, status, said } = await setUp('replace');
    const res1 = await cli(['run', config(job('plain.ome.zarr')), '-f', '--address', at.address], at.home, {
      env: env(),
    });
    assert.equal(res1.code, 0, said(res1));
    const before = await status();
    const token = 'service-test-token-5f1e9c';
    const withToken = job('token.ome.zarr');
    // Longer than the service's own start timeout (120 s), so that a start that hangs says why.
    const res2 = await cli(['run', config(withToken), '-f', '-a', token, '--address', at.address], at.home, {
      env: env(),
      timeoutMs: 150_000,
    });
    assert.equal(res2.code, 0, said(res2));
    assert.match(
      res2.stderr,
      /starting the local service/,
      'the first service does not fit a run with a token',
    );
    const after = await status();
    assert.equal(after.code, 0);
    assert.notEqual(after.pid, before.pid);
    assert.ok(exited(before.pid), 'the replaced service exited');
    await assertSameAsSource(withToken);
    const cmdline = readFileSync(`/proc/${after.pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(token), `the token on the service's command line: ${cmdline}`);
    for (const file of readdirSync(at.home).filter((f) => f.endsWith('.log')))
      assert.ok(!readFileSync(path.join(at.home, file), 'utf8').includes(token), `the token in ${file}`);
  });

  it("Ctrl-C on a run stops the service's workers and server; the job keeps what it wrote and run -j ID finishes it", async () => {
    const { job, config, at, env, status, said } = await setUp('interrupt', 100, 32);
    const slow = job('slow.ome.zarr');
    const file = config(slow);
    const running = spawnCli(['run', file, '-f', '--address', at.address], at.home, env());
    await waitFor('a first chunk written', 60_000, () => chunkFiles(slow.out).length > 0);
    running.child.kill('SIGINT');
    const code = await running.exited;
    assert.equal(code, 130, running.stdout() + running.stderr());
    const jobId = jobIdOf(running.stdout());
    assert.match(
      running.stderr(),
      new RegExp(`resume with: boss-ingest run ${file.replace(/[.]/g, '\\.')} -j ${jobId}`),
    );
    assert.equal((await status()).code, 1, 'the service stopped with the interrupted run');
    await waitFor('the address freed', 10_000, () => portFree(port(at.address)));
    const written = chunkFiles(slow.out).length;
    assert.ok(written < chunkTotal(slow), `the job was interrupted (${written} chunks written)`);
    await sleep(500);

    const resumed = await cli(['run', file, '-j', jobId, '--address', at.address], at.home, { env: env() });
    assert.equal(resumed.code, 0, said(resumed));
    const total = chunkTotal(slow);
    assert.match(resumed.stdout, new RegExp(`job ${jobId} completed: ${total}/${total} chunks`));
    await assertSameAsSource(slow);
  });
});
