/**
 * The Temporal Web UI of a running job, as a person sees it: headless Chromium (Debian's package)
 * opens the job's page on the cluster of `npm run cluster -- up` (the UI server built from the
 * module the `temporalio/ui` image runs) and finds the job's summary, the current details table
 * (chunks, rate, ETA, failures) and the pending batch activities. The screenshot it takes is the
 * one in the README when BOSS_INGEST_SCREENSHOT names where to put it.
 */
import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type FrameLocator, type Page } from 'playwright-core';
import { Cluster } from '../src/cluster/cluster.js';
import type { JobConfig } from '../src/config/types.js';
import { tempDir } from './harness/env.js';
import { JobProbe, waitForJobId } from './harness/durability.js';
import { Nodes, output } from './harness/nodes.js';
import { chunkTotal, syntheticConfig, type SyntheticJob } from './harness/synthetic-job.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The first element showing `text` on screen (the UI also keeps hidden copies, e.g. for tooltips). */
function visible(page: Page, text: string | RegExp) {
  return page.getByText(text).filter({ visible: true }).first();
}

/** The frame (of the page's iframes) that shows `text`, once one does. */
async function frameShowing(page: Page, text: string | RegExp, timeoutMs = 30_000): Promise<FrameLocator> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frames = await page.locator('iframe').count();
    for (let i = 0; i < frames; i++) {
      const frame = page.frameLocator('iframe').nth(i);
      if (
        (await frame
          .getByText(text)
          .count()
          .catch(() => 0)) > 0
      )
        return frame;
    }
    if (Date.now() > deadline) throw new Error(`no frame of the page shows ${String(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** What a person checks on the job's page, mid-job. */
async function checkJobPage(
  page: Page,
  config: JobConfig,
  jobId: string,
  total: number,
  doneBefore: number,
): Promise<void> {
  // The history timeline: batch activities labelled with their chunk ranges.
  await visible(page, /ingestBatch • chunks \d+-\d+ of \d+/).waitFor({ timeout: 60_000 });
  // Batches in flight right now. The job's batches run in step (the same work each), so the page
  // may be drawn in the moment between one wave's completions and the next wave's scheduling:
  // a person would look again, and so does the test, for a few seconds.
  const pendingTab = page
    .getByRole('tab', { name: /Pending Activities/ })
    .or(page.getByText(/^Pending Activities/));
  let pending: RegExpExecArray | null = null;
  for (let look = 0; look < 10; look++) {
    pending = /Pending Activities\s*(\d+)/.exec(await pendingTab.first().innerText());
    if (pending && Number(pending[1]) > 0) break;
    await page.reload();
    await visible(page, /ingestBatch • chunks \d+-\d+ of \d+/).waitFor({ timeout: 60_000 });
  }
  assert.ok(pending && Number(pending[1]) > 0, `batches in flight: ${pending?.[0]}`);

  // The summary given at start and the job's own Markdown details: the UI renders Markdown in
  // sandboxed frames of their own.
  await visible(page, 'User Metadata').click();
  const { collection, experiment, channel } = config.database;
  const summary = await frameShowing(page, `boss-ingest ${collection}/${experiment}/${channel}`);
  const details = await frameShowing(page, /: running$/);
  assert.ok(summary && details, 'the summary and the current details are shown');
  assert.ok(await details.getByText(jobId).count(), `the current details name the job ${jobId}`);
  const table = details.locator('table', { hasText: 'ETA' }).first();
  const rows = new Map<string, string>();
  for (const row of await table.locator('tr').all()) {
    const cells = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
    if (cells.length === 2) rows.set(cells[0]!, cells[1]!);
  }
  const chunks = /^(\d+) of (\d+) \((\d+) written, (\d+) failed\)$/.exec(rows.get('chunks') ?? '');
  assert.ok(chunks, `the chunks row: ${JSON.stringify([...rows])}`);
  assert.equal(Number(chunks[2]), total);
  assert.ok(Number(chunks[3]) >= doneBefore && Number(chunks[3]) < total, `mid-job: ${chunks[0]}`);
  assert.equal(chunks[4], '0', 'no chunk failed');
  assert.match(rows.get('rate') ?? '', /voxels\/s$/);
  assert.ok(rows.get('ETA'), `the ETA row: ${JSON.stringify([...rows])}`);
}

describe('the Temporal Web UI of a running job, in headless Chromium', function () {
  this.timeout(180_000);
  let dir: string;
  let cluster: Cluster;
  let nodes: Nodes;
  let browser: Browser;

  before(async function () {
    this.timeout(45 * 60_000);
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does)`);
    dir = tempDir('webui');
    chmodSync(dir, 0o711);
    cluster = await Cluster.open(path.join(dir, 'cluster'), { anyFreePorts: true });
    await cluster.up();
    assert.ok(cluster.ui.running, `the Web UI runs: ${cluster.uiUnavailable ?? cluster.ui.tail()}`);
    nodes = new Nodes(dir, cluster.address);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await nodes?.killAll();
    await cluster?.down();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the summary, the current details (chunks, rate, ETA, failures) and the batches in flight', async () => {
    const job: SyntheticJob = {
      out: path.join(dir, 'ui.ome.zarr'),
      extent: { x: [0, 512], y: [0, 512], z: [0, 256] },
      tile: { x: 128, y: 128 },
      chunk: { x: 128, y: 128, z: 8 },
      bits: 8,
      delayMs: 250,
      engine: { chunks_per_batch: 4, window: 4 },
    };
    const total = chunkTotal(job);
    nodes.startWorker('ui-a');
    nodes.startWorker('ui-b');
    const config = syntheticConfig(job);
    const waiting = nodes.startJob(nodes.writeConfig('ui', config));
    const jobId = await waitForJobId(waiting);
    const probe = new JobProbe(cluster.address);
    const progress = await nodes.midJob(probe, jobId, total, 8).finally(() => probe.close());

    const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    const url = `${cluster.uiUrl}/namespaces/default/workflows/${encodeURIComponent(jobId)}`;
    const shot = process.env.BOSS_INGEST_SCREENSHOT ?? path.join(dir, 'webui.png');
    try {
      await page.goto(url);
      await checkJobPage(page, config, jobId, total, progress.doneChunks);
    } catch (err) {
      // What the page showed instead, for the failure message.
      await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
      const text = (
        await page
          .locator('body')
          .innerText()
          .catch(() => '')
      ).slice(0, 3000);
      throw new Error(`${(err as Error).message}\n--- the page (${url}, screenshot ${shot}):\n${text}`, {
        cause: err,
      });
    }
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`      ${url}; screenshot ${shot}`);
    await page.close();
    assert.ok(!waiting.child.exitCode, `the job is still followed\n${output(waiting)}`);
  });
});
