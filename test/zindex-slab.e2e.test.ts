/**
 * Z-index stacks whose slices span several chunks in x and y: every slice file is decoded once per
 * job, however many rows of chunks it feeds and however many worker processes share the job, and
 * the volume reads back exactly with zarr-python. Both ways of reading a slice are exercised: whole
 * (the default for bands that fit the slab memory) and streamed row by row (BOSS_INGEST_WHOLE_SLAB_MIB=0).
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../src/server/ports.js';
import { stackConfig, stackSpec, voxel, writeStack, type StackSpec } from './fixtures/stack.js';
import { waitForJobId } from './harness/durability.js';
import {
  assertVolume,
  readWithZarrPython,
  startTestServer,
  tempDir,
  type TestServer,
} from './harness/env.js';
import { Nodes, output } from './harness/nodes.js';

async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(boss_ingest_\w+) (\d+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('z-index stacks of large slices: each slice decoded once per job', function () {
  this.timeout(240_000);
  let server: TestServer;
  let dir: string;
  let nodes: Nodes;

  before(async () => {
    server = await startTestServer();
    dir = tempDir('zindex-slab');
    nodes = new Nodes(dir, server.address);
  });
  afterEach(async () => nodes?.killAll());
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the stack's job on two worker processes and returns what their metrics counted, summed. */
  async function ingest(
    spec: StackSpec,
    name: string,
    env: NodeJS.ProcessEnv,
    extent?: Parameters<typeof stackConfig>[1],
  ): Promise<Map<string, number>> {
    await writeStack(spec);
    const config = stackConfig(spec, extent) as { client: { backend: unknown } };
    config.client.backend = { name: 'zarr', path: path.join(dir, `${name}.ome.zarr`) };
    const file = nodes.writeConfig(name, config as Record<string, unknown>);
    const ports = [await freePort(), await freePort()];
    const workers = ports.map((port, i) =>
      nodes.procs.spawn(
        ['worker', '--address', server.address, '--metrics-port', String(port), '-v', 'info'],
        nodes.subdir(`worker${i}`),
        { BOSS_INGEST_THREADS: '2', ...env },
      ),
    );
    const job = nodes.startJob(file);
    const jobId = await waitForJobId(job);
    const code = await nodes.exitOf(job, 180_000, `the z-index job ${name}`, jobId);
    assert.equal(code, 0, `${output(job)}\n${workers.map(output).join('\n')}`);
    const sum = new Map<string, number>();
    for (const port of ports) for (const [k, v] of await scrape(port)) sum.set(k, (sum.get(k) ?? 0) + v);
    return sum;
  }

  it('8-bit PNG slices of 1300x1100 (3 x 3 chunks), streamed row by row from y 300: 20 slices, 20 decodes, read back exactly', async () => {
    const spec = stackSpec(path.join(dir, 'z8'), 'zindex', [1300, 1100, 20], 8);
    const extent = { x: [0, 1300], y: [300, 1100], z: [0, 20], t: [0, 1] } as never;
    const counts = await ingest(spec, 'z8', { BOSS_INGEST_WHOLE_SLAB_MIB: '0' }, extent);
    assert.equal(counts.get('boss_ingest_slices_decoded_total'), 20, JSON.stringify([...counts]));
    assert.equal(counts.get('boss_ingest_tiles_decoded_total'), 0, 'no slice is cropped tile by tile');
    assert.equal(counts.get('boss_ingest_chunks_written_total'), 3 * 3 * 2);
    assert.equal(counts.get('boss_ingest_chunks_failed_total'), 0);
    const read = await readWithZarrPython(path.join(dir, 'z8.ome.zarr'));
    assert.deepEqual(read.shape, [20, 1100, 1300]);
    assertVolume(read, { x: [0, 1300], y: [300, 1100], z: [0, 20] }, (x, y, z) => voxel(spec, x, y, z));
  });

  it('16-bit PNG slices of 1100x1300, decoded whole, with tiles smaller than a chunk: 18 slices, 18 decodes, read back exactly', async () => {
    const spec = stackSpec(path.join(dir, 'z16'), 'zindex', [1100, 1300, 18], 16, {
      tile: { x: 300, y: 200 },
    });
    const counts = await ingest(spec, 'z16', {});
    assert.equal(counts.get('boss_ingest_slices_decoded_total'), 18, JSON.stringify([...counts]));
    assert.equal(counts.get('boss_ingest_tiles_decoded_total'), 0, 'no slice is cropped tile by tile');
    assert.equal(counts.get('boss_ingest_chunks_written_total'), 3 * 3 * 2);
    const read = await readWithZarrPython(path.join(dir, 'z16.ome.zarr'));
    assert.equal(read.dtype, 'uint16');
    assertVolume(read, { x: [0, 1100], y: [0, 1300], z: [0, 18] }, (x, y, z) => voxel(spec, x, y, z));
  });
});
