/**
 * `boss-ingest run` with no server at a local address: it starts the embedded dev server from the
 * Temporal CLI on this machine, and stdout stays the job's own (the job id first, the outcome
 * last); the dev server's banner and logs go to a file beside its database in BOSS_INGEST_HOME.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, jobIdOf, serverPort, tempDir } from './harness/env.js';
import { chunkTotal, syntheticConfig, type SyntheticJob } from './harness/synthetic-job.js';
import { journalFlags } from '../src/server/embedded.js';

describe('run with no server: the embedded dev server', function () {
  this.timeout(120_000);
  let dir: string;

  before(() => {
    dir = tempDir('embedded');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A small synthetic job `name` (128x128 tiles and chunks 8 deep) over `extent`, its own home and address. */
  async function setUp(name: string, extent: SyntheticJob['extent'], chunksPerBatch: number) {
    const job: SyntheticJob = {
      out: path.join(dir, `${name}.ome.zarr`),
      extent,
      tile: { x: 128, y: 128 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 8,
      delayMs: 0,
      engine: { chunks_per_batch: chunksPerBatch },
    };
    const config = path.join(dir, `${name}.json`);
    writeFileSync(config, JSON.stringify(syntheticConfig(job)));
    return { job, config, home: path.join(dir, `home-${name}`), address: `127.0.0.1:${await serverPort()}` };
  }

  it('starts a dev server whose banner stays out of stdout; the job completes', async () => {
    const { job, config, home, address } = await setUp(
      'embedded',
      { x: [0, 256], y: [0, 256], z: [0, 16] },
      4,
    );
    const res = await cli(['run', config, '-f', '--address', address], home);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const lines = res.stdout.trimEnd().split('\n');
    jobIdOf(res.stdout);
    const total = chunkTotal(job);
    assert.match(lines[lines.length - 1]!, new RegExp(`completed: ${total}/${total} chunks`));
    for (const line of lines)
      assert.doesNotMatch(
        line,
        /^(CLI |Server:|UI:|Metrics:)/,
        `the dev server's banner on stdout:\n${res.stdout}`,
      );
    assert.match(res.stderr, /starting an embedded dev server/);
    const log = readFileSync(path.join(home, 'temporal.sqlite.log'), 'utf8');
    assert.match(
      log,
      new RegExp(`Server:\\s+\\S+:${address.split(':')[1]}`),
      'the banner is in the log file',
    );
    // Bytes 18 and 19 of an SQLite file's header: 2 in write-ahead-log mode, 1 with a rollback journal.
    const db = path.join(home, 'temporal.sqlite');
    const header = readFileSync(db).subarray(18, 20);
    assert.deepEqual(
      [...header],
      journalFlags(db).length > 0 ? [2, 2] : [1, 1],
      'the database is in write-ahead-log mode where its folder is local',
    );
  });

  it('keeps the job in its database when it ends: run again with the job id, it reports it completed and writes nothing', async () => {
    const { job, config, home, address } = await setUp('again', { x: [0, 128], y: [0, 128], z: [0, 16] }, 1);
    const first = await cli(['run', config, '-f', '--address', address], home);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const jobId = jobIdOf(first.stdout);
    const written = fileTimes(job.out);
    assert.ok(written.size > 0, 'the first run wrote the volume');

    const again = await cli(['run', config, '-j', jobId, '--address', address], home);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stderr, /starting an embedded dev server/, 'a new server, from the same database');
    const total = chunkTotal(job);
    assert.match(again.stdout, new RegExp(`job ${jobId} completed: ${total}/${total} chunks`));
    assert.deepEqual(fileTimes(job.out), written, 'the completed job ran again');
  });
});

/** Every file under `root` with its modification time. */
function fileTimes(root: string): Map<string, number> {
  const times = new Map<string, number>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true }))
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      times.set(file, statSync(file).mtimeMs);
    }
  return times;
}
