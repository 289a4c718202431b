/**
 * The Boss figure (issue 9): the same stack into a local OME-Zarr volume and into the Boss
 * emulator (test/boss-emulator, over HTTP on localhost), interleaved on one warm worker process.
 *
 * The emulator runs in the bench process. On shared cores its own work (receiving the bodies,
 * decoding and storing them) takes cores from the worker that a real Boss, on its own machines,
 * would not: so the figure is given twice, once with everything on every core, once with the
 * worker on all cores but one and the emulator, the bench's client and the Temporal server on
 * that one (both sides of the ratio on the same worker cores). The emulator's CPU is printed
 * beside both.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jobExtent } from '../src/config/job.js';
import type { JobConfig } from '../src/config/types.js';
import { extentVoxels } from '../src/extent/grid.js';
import { startBossEmulator } from '../test/boss-emulator/index.js';
import { median, MiB, startWorker, timeJob, type BenchServer } from './workers.js';
import { settle } from './settle.js';

const TOKEN = 'bench-token';

interface Side {
  seconds: number[];
  emulatorCpuSeconds: number[];
}

/** `cpus` (a taskset list) for a process and all its threads and descendants. */
function pinTree(pid: number, cpus: string, except: number | undefined): void {
  if (pid === except) return;
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
  for (const child of childrenOf(pid)) pinTree(child, cpus, except);
}

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

/** A zarr job into a fresh volume; the seconds from submission to completion. */
async function zarrJob(server: BenchServer, config: JobConfig): Promise<number> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-boss-zarr-'));
  try {
    const job = {
      ...config,
      client: { ...config.client, backend: { name: 'zarr', path: path.join(out, 'bench.ome.zarr') } },
    } as JobConfig;
    settle(extentVoxels(jobExtent(job)));
    const { seconds, result } = await timeJob(server, job, `bench-zarr-${Date.now()}`);
    if (result.state !== 'completed') throw new Error(`the OME-Zarr bench job ended ${result.state}`);
    return seconds;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** A job into a fresh emulator's channel; the seconds and the emulator's CPU (this process's). */
async function bossJob(server: BenchServer, config: JobConfig): Promise<{ seconds: number; cpu: number }> {
  const boss = await startBossEmulator({ tokens: [{ token: TOKEN, canWrite: true, canCreate: true }] });
  try {
    const e = jobExtent(config);
    boss.createCoordFrame('bench', {
      x_start: 0,
      x_stop: e.x[1],
      y_start: 0,
      y_stop: e.y[1],
      z_start: 0,
      z_stop: e.z[1],
    });
    boss.createCollection('bench');
    boss.createExperiment('bench', 'bench', { coord_frame: 'bench' });
    boss.createChannel('bench', 'bench', 'bench', { datatype: 'uint8' });
    const job = {
      ...config,
      client: {
        ...config.client,
        backend: {
          name: 'boss',
          class: 'BossBackend',
          host: boss.url.replace('http://', ''),
          protocol: 'http',
        },
      },
      database: { collection: 'bench', experiment: 'bench', channel: 'bench' },
    } as JobConfig;
    settle(extentVoxels(e));
    const cpu = process.cpuUsage();
    const { seconds, result } = await timeJob(server, job, `bench-boss-${Date.now()}`);
    const used = process.cpuUsage(cpu);
    if (result.state !== 'completed') throw new Error(`the Boss bench job ended ${result.state}`);
    return { seconds, cpu: (used.user + used.system) / 1e6 };
  } finally {
    await boss.stop();
  }
}

/** One layout: a warm worker (its first job of each kind unmeasured), then `reps` interleaved pairs. */
async function layout(
  server: BenchServer,
  config: JobConfig,
  reps: number,
  workerCpus: string | undefined,
): Promise<{ zarr: Side; boss: Side }> {
  const worker = await startWorker(server, 1, { INTERN_TOKEN: TOKEN }, workerCpus);
  const all = `0-${os.cpus().length - 1}`;
  try {
    if (workerCpus) {
      // Everything else of the bench (this process: the emulator and the client; the Temporal
      // server) on the core the worker does not have.
      const rest = String(os.cpus().length - 1);
      pinTree(process.pid, rest, worker.process.pid);
    }
    await zarrJob(server, config);
    await bossJob(server, config);
    const sides = {
      zarr: { seconds: [] as number[], emulatorCpuSeconds: [] as number[] },
      boss: { seconds: [] as number[], emulatorCpuSeconds: [] as number[] },
    };
    for (let rep = 0; rep < reps; rep++) {
      sides.zarr.seconds.push(await zarrJob(server, config));
      const b = await bossJob(server, config);
      sides.boss.seconds.push(b.seconds);
      sides.boss.emulatorCpuSeconds.push(b.cpu);
    }
    return sides;
  } finally {
    if (workerCpus) pinTree(process.pid, all, worker.process.pid);
    await worker.stop();
  }
}

/** Prints the figure for both layouts (the second only with two cores or more). */
export async function bossFigures(
  server: BenchServer,
  config: JobConfig,
  reps: number,
  say: (label: string, value: string) => void,
): Promise<void> {
  const mib = extentVoxels(jobExtent(config)) / MiB; // uint8
  const cores = os.cpus().length;
  const layouts: [string, string | undefined][] = [[`worker and emulator sharing ${cores} cores`, undefined]];
  if (cores >= 2)
    layouts.push([
      `worker on ${cores - 1} core(s), emulator and server on 1`,
      cores === 2 ? '0' : `0-${cores - 2}`,
    ]);
  for (const [label, cpus] of layouts) {
    const { zarr, boss } = await layout(server, config, reps, cpus);
    const [z, b] = [Math.min(...zarr.seconds), Math.min(...boss.seconds)];
    const [zm, bm] = [median(zarr.seconds), median(boss.seconds)];
    say(
      `into the Boss emulator, ${label}`,
      `${(mib / b).toFixed(1)} MiB/s beside OME-Zarr ${(mib / z).toFixed(1)}: ${(z / b).toFixed(2)} of it best of ${reps} ` +
        `(medians ${(zm / bm).toFixed(2)}; target >= 0.8); the emulator used ${median(boss.emulatorCpuSeconds).toFixed(1)} CPU-s a job`,
    );
  }
}
