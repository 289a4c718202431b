/**
 * A worker's Prometheus endpoint (`--metrics-port`), scraped while it serves a job into a Boss
 * (the emulator, answering some cutouts with 503): the Temporal SDK's metrics are there, and our
 * counters agree with what the source and the Boss saw: tiles, bytes, chunks, requests by status.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startBossEmulator, type BossEmulator } from './boss-emulator/index.js';
import { freePort, REPO, startTestServer, tempDir, type TestServer } from './harness/env.js';
import { JobProbe, waitFor, waitForJobId } from './harness/durability.js';
import { Nodes, output } from './harness/nodes.js';

const TOKEN = 'tok-metrics-5d21-secret';

/** Prometheus text format: `name{labels} value` lines, as a map (labels as written). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?)\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

async function scrape(port: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parseMetrics(await res.text());
}

describe('worker metrics (--metrics-port): scraped during a job', function () {
  this.timeout(120_000);
  let server: TestServer;
  let boss: BossEmulator;
  let dir: string;
  let nodes: Nodes;

  before(async () => {
    server = await startTestServer();
    boss = await startBossEmulator({ tokens: [{ token: TOKEN, canWrite: true, canCreate: true }] });
    dir = tempDir('metrics');
    nodes = new Nodes(dir, server.address);
  });
  after(async () => {
    await nodes?.killAll();
    await boss?.stop();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("serves the SDK's metrics and ours; our counts match the source's tiles and the Boss's requests", async () => {
    boss.createCoordFrame('mf', {
      x_start: 0,
      x_stop: 1024,
      y_start: 0,
      y_stop: 1024,
      z_start: 0,
      z_stop: 64,
    });
    boss.createCollection('lab');
    boss.createExperiment('lab', 'metrics', { coord_frame: 'mf' });
    boss.createChannel('lab', 'metrics', 'em', { datatype: 'uint16' });
    // Some cutout POSTs answered 503, each then retried by the worker.
    boss.faults = { seed: 7, errorRate: 0.2, errorStatuses: [503], scope: 'cutout-post' };
    boss.resetStats();

    const extent = { x: [0, 1024], y: [0, 1024], z: [0, 64] };
    const tiles = (1024 / 128) * (1024 / 128) * 64;
    const config = {
      schema: { name: 'boss-v0.2-schema', validator: 'BossValidatorV02' },
      client: {
        backend: {
          name: 'boss',
          class: 'BossBackend',
          host: boss.url.replace(/^http:\/\//, ''),
          protocol: 'http',
        },
        path_processor: { class: 'boss_ingest.plugins.synthetic.SyntheticPathProcessor' },
        tile_processor: {
          class: 'boss_ingest.plugins.synthetic.SyntheticTileProcessor',
          params: { bits: 16, delay_ms: 3 },
        },
      },
      database: { collection: 'lab', experiment: 'metrics', channel: 'em' },
      ingest_job: {
        resolution: 0,
        ingest_type: 'tile',
        extent: { ...extent, t: [0, 1] },
        tile_size: { x: 128, y: 128, z: 1, t: 1 },
      },
    };
    const file = path.join(dir, 'metrics.json');
    writeFileSync(file, JSON.stringify(config));

    const port = await freePort();
    const worker = nodes.procs.spawn(
      ['worker', '--address', server.address, '--metrics-port', String(port), '-v', 'info'],
      nodes.subdir('worker'),
      { BOSS_INGEST_THREADS: '2', INTERN_TOKEN: TOKEN },
    );
    const waiting = nodes.startJob(file);
    const jobId = await waitForJobId(waiting);
    const probe = new JobProbe(server.address);
    try {
      // During the job: chunks are being written, the job is not done.
      const during = await waitFor(
        `chunks counted on :${port}/metrics\n${output(worker)}`,
        60_000,
        async () => {
          const m = await scrape(port).catch(() => undefined);
          return m && (m.get('boss_ingest_chunks_written_total') ?? 0) > 0 ? m : undefined;
        },
      );
      const progress = await probe.progress(jobId);
      assert.ok(
        progress && progress.state === 'running',
        `the job is still running: ${JSON.stringify(progress)}`,
      );
      // The SDK's own: worker slots and activity polls of this task queue.
      const sdk = [...during.keys()].filter((k) => k.startsWith('temporal_'));
      for (const name of [
        'temporal_worker_task_slots_available',
        'temporal_num_pollers',
        'temporal_request',
      ]) {
        assert.ok(
          sdk.some((k) => k === name || k.startsWith(`${name}{`)),
          `${name} is served; the SDK's metrics: ${[...new Set(sdk.map((k) => k.replace(/\{.*/, '')))].join(', ')}`,
        );
      }
    } finally {
      await probe.close();
    }

    const code = await nodes.exitOf(waiting, 90_000, 'the Boss job', jobId);
    assert.equal(code, 0, output(waiting));
    const after = await scrape(port);
    const chunks = 2 * 2 * 4; // Boss cuboids of 512 x 512 x 16
    assert.equal(after.get('boss_ingest_chunks_written_total'), chunks);
    assert.equal(after.get('boss_ingest_chunks_failed_total'), 0);
    assert.equal(after.get('boss_ingest_tiles_decoded_total'), tiles);
    assert.equal(after.get('boss_ingest_source_bytes_read_total'), tiles * 128 * 128 * 2);
    assert.equal(after.get('boss_ingest_destination_bytes_written_total'), 1024 * 1024 * 64 * 2);
    assert.equal(after.get('boss_ingest_batch_resumes_total'), 0);

    // Every request the Boss answered, counted under its status by the worker that sent it.
    const byStatus = new Map<string, number>();
    for (const r of boss.requests) {
      const label = r.status === 'dropped' || r.status === undefined ? 'error' : String(r.status);
      byStatus.set(label, (byStatus.get(label) ?? 0) + 1);
    }
    assert.ok(
      (byStatus.get('503') ?? 0) > 0,
      `some cutouts were answered 503: ${JSON.stringify([...byStatus])}`,
    );
    for (const [status, n] of byStatus)
      assert.equal(
        after.get(`boss_ingest_boss_requests_total{status="${status}"}`),
        n,
        `requests answered ${status}`,
      );
    // Requests that got no answer (a connection the Boss closed) never reach its log: ours alone.
    const unanswered = after.get('boss_ingest_boss_requests_total{status="error"}') ?? 0;
    const ours = [...after].filter(([k, v]) => k.startsWith('boss_ingest_boss_') && v > 0);
    assert.equal(
      after.get('boss_ingest_boss_retries_total'),
      byStatus.get('503')! + unanswered,
      `each 503 and each unanswered request was retried once; ours ${JSON.stringify(ours)}, the Boss's ${JSON.stringify([...byStatus])}`,
    );

    // Every series the Grafana dashboard queries is served (`up` is Prometheus' own).
    const dashboard = JSON.parse(readFileSync(path.join(REPO, 'grafana', 'dashboard.json'), 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    const served = [...after.keys()];
    for (const name of new Set(exprs.match(/\b(boss_ingest|temporal)_[a-z_]+\b/g)))
      assert.ok(
        served.some((k) => k === name || k.startsWith(`${name}{`)),
        `the dashboard queries ${name}, which no worker serves; served: ${[...new Set(served.map((k) => k.replace(/\{.*/, '')))].join(' ')}`,
      );
    for (const [selector, name, label] of exprs.matchAll(/(\w+)\{(\w+="\w+")\}/g))
      assert.ok(
        served.some((k) => k.startsWith(`${name}{`) && k.includes(label!)),
        `the dashboard selects ${selector}, which matches no series`,
      );
    console.log(
      `      Boss requests by status ${JSON.stringify(Object.fromEntries(byStatus))}, ${unanswered} unanswered; SDK series ${[...after.keys()].filter((k) => k.startsWith('temporal_')).length}`,
    );
  });
});
