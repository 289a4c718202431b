/**
 * `npm run bench`: ingest throughput beside the limit it approaches, measured in one run.
 *   (a) decode ceiling: sharp decoding every tile with all cores, nothing else;
 *   (b) ingest into a local OME-Zarr volume (default settings), server and worker already up;
 *   (c) the same split across two worker processes;
 *   plus zstd, a uint16 stack, and the start-up time of `boss-ingest run` with its embedded server.
 * `npm run bench -- --config JOB.json` measures another stack (any tile job config) instead.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { jobExtent } from '../src/config/job.js';
import type { JobConfig } from '../src/config/types.js';
import { validateConfig } from '../src/config/validate.js';
import { extentVoxels } from '../src/extent/grid.js';
import { indices, tileRange } from '../src/extent/tiles.js';
import { createSource } from '../src/plugins/index.js';
import { startBossEmulator } from '../test/boss-emulator/index.js';
import { ensureStack, stackConfig } from './stack.js';
import { benchTimeSeries } from './timeseries.js';
import { MAIN, MiB, startBenchServer, startWorker, timeJob, type BenchServer } from './workers.js';

const cores = os.availableParallelism();

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function tileFiles(config: JobConfig): Promise<string[]> {
  return createSource(config).then((source) => {
    const tiles = tileRange(jobExtent(config), config.ingest_job.tile_size!);
    const files: string[] = [];
    for (const t of indices(tiles.t))
      for (const z of indices(tiles.z))
        for (const yi of indices(tiles.y))
          for (const xi of indices(tiles.x)) files.push(source.path.process(xi, yi, z, t));
    return [...new Set(files)];
  });
}

/** (a) every tile decoded to raw grey samples, `cores` decodes in flight. */
async function decodeCeiling(config: JobConfig): Promise<{ seconds: number; bytes: number }> {
  const files = await tileFiles(config);
  sharp.concurrency(1);
  sharp.cache(false);
  let bytes = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (next < files.length) {
        const file = files[next++]!;
        const meta = await sharp(file).metadata();
        const img =
          meta.depth === 'ushort'
            ? sharp(file).toColourspace('grey16').raw({ depth: 'ushort' })
            : sharp(file).extractChannel(0).raw();
        // Not `bytes += await ...`: that reads `bytes` before the await and loses concurrent updates.
        const decoded = await img.toBuffer();
        bytes += decoded.length;
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

interface IngestFigure {
  seconds: number;
  bytes: number;
  state: string;
}

/** (b), (c): job submission to completion, the server and the worker(s) already running. */
async function ingest(
  server: BenchServer,
  config: JobConfig,
  processes: number,
  bytesPerVoxel: number,
  env: NodeJS.ProcessEnv = {},
): Promise<IngestFigure> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-out-'));
  const job = {
    ...config,
    client: {
      ...config.client,
      backend: { ...config.client.backend, path: path.join(out, 'bench.ome.zarr') },
    },
  } as JobConfig;
  const worker = await startWorker(server, processes, env);
  try {
    const { seconds, result } = await timeJob(server, job, `bench-${Date.now()}`);
    return { seconds, bytes: extentVoxels(jobExtent(job)) * bytesPerVoxel, state: result.state };
  } finally {
    await worker.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

/** `boss-ingest run` from nothing: embedded server start, worker start, a one-chunk job, shutdown. */
async function runStartup(config: JobConfig): Promise<number> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'bench-run-'));
  const size = config.ingest_job.tile_size!;
  const e = config.ingest_job.extent;
  const small = {
    ...config,
    ingest_job: {
      ...config.ingest_job,
      extent: { ...e, x: [e.x[0], e.x[0] + size.x], y: [e.y[0], e.y[0] + size.y], z: [e.z[0], e.z[0] + 1] },
    },
  };
  const file = path.join(home, 'one-chunk.json');
  writeFileSync(file, JSON.stringify(small));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [MAIN, 'run', file, '--output', path.join(home, 'out.zarr'), '-f', '--address', `127.0.0.1:${port}`],
      {
        env: { ...process.env, BOSS_INGEST_HOME: home },
        stdio: 'ignore',
      },
    );
    child.once('exit', resolve);
  });
  const seconds = (performance.now() - t0) / 1000;
  rmSync(home, { recursive: true, force: true });
  if (code !== 0) throw new Error(`boss-ingest run exited ${code}`);
  return seconds;
}

/** The same job into the Boss emulator (test/boss-emulator), through the cutout API over HTTP. */
async function bossFigure(
  server: BenchServer,
  config: JobConfig,
): Promise<IngestFigure & { emulatorCpuSeconds: number }> {
  const token = 'bench-token';
  const boss = await startBossEmulator({ tokens: [{ token, canWrite: true, canCreate: true }] });
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
    const cpu = process.cpuUsage();
    const figure = await ingest(server, job, 1, 1, { INTERN_TOKEN: token });
    const used = process.cpuUsage(cpu);
    // The emulator runs in this process, on the same cores as the worker: say how much it took.
    return { ...figure, emulatorCpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await boss.stop();
  }
}

function rate(f: { seconds: number; bytes: number }): number {
  return f.bytes / MiB / f.seconds;
}

async function main(): Promise<void> {
  const configFile = arg('--config');
  let config: JobConfig;
  let config16: JobConfig | undefined;
  if (configFile) {
    config = validateConfig(JSON.parse(readFileSync(configFile, 'utf8')), configFile);
    config = { ...config, client: { ...config.client, backend: { name: 'zarr', path: 'set-per-run' } } };
  } else {
    const stack = await ensureStack('catmaid-u8-2048x2048x256', {
      width: 2048,
      height: 2048,
      depth: 256,
      tile: 512,
      bits: 8,
    });
    config = validateConfig(stackConfig(stack, { name: 'zarr', path: 'set-per-run' }));
    const stack16 = await ensureStack('catmaid-u16-2048x2048x64-v2', {
      width: 2048,
      height: 2048,
      depth: 64,
      tile: 512,
      bits: 16,
    });
    config16 = validateConfig(stackConfig(stack16, { name: 'zarr', path: 'set-per-run' }));
  }
  const server = await startBenchServer();
  const rows: [string, string][] = [];
  const say = (label: string, value: string) => {
    rows.push([label, value]);
    console.log(`${label.padEnd(58)} ${value}`);
  };
  try {
    const voxels = extentVoxels(jobExtent(config));
    console.log(
      `\nboss-ingest bench: ${os.cpus()[0]?.model ?? 'cpu'}, ${cores} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
    );
    console.log(
      `stack: ${configFile ?? 'generated CATMAID 2048x2048x256 uint8 PNG, 512x512 tiles'} (${(voxels / MiB).toFixed(0)} MiB of voxels)\n`,
    );
    const a = await decodeCeiling(config);
    say('(a) decode ceiling, sharp on all cores', `${rate(a).toFixed(1)} MiB/s (${a.seconds.toFixed(1)} s)`);
    const b = await ingest(server, config, 1, 1);
    say(
      '(b) ingest to OME-Zarr, defaults, 1 worker process',
      `${rate(b).toFixed(1)} MiB/s (${b.seconds.toFixed(1)} s, ${b.state})`,
    );
    const c = await ingest(server, config, 2, 1);
    say(
      '(c) same, split across 2 worker processes',
      `${rate(c).toFixed(1)} MiB/s (${c.seconds.toFixed(1)} s, ${c.state})`,
    );
    const zstd = {
      ...config,
      client: { ...config.client, backend: { name: 'zarr', path: 'set-per-run', compressor: 'zstd' } },
    } as JobConfig;
    const z = await ingest(server, zstd, 1, 1);
    say(
      'ingest with zstd compression, 1 worker process',
      `${rate(z).toFixed(1)} MiB/s (${z.seconds.toFixed(1)} s, ${z.state})`,
    );
    if (config16) {
      const a16 = await decodeCeiling(config16);
      say('uint16 2048x2048x64: decode ceiling', `${rate(a16).toFixed(1)} MiB/s`);
      const b16 = await ingest(server, config16, 1, 2);
      say(
        'uint16 2048x2048x64: ingest, 1 worker process',
        `${rate(b16).toFixed(1)} MiB/s (${b16.seconds.toFixed(1)} s, ratio ${(rate(b16) / rate(a16)).toFixed(2)})`,
      );
    }
    const boss = await bossFigure(server, config);
    say(
      'ingest into the Boss emulator on localhost, 1 worker process',
      `${rate(boss).toFixed(1)} MiB/s (${boss.seconds.toFixed(1)} s, ${boss.state}, ${(rate(boss) / rate(b)).toFixed(2)} of (b); the emulator itself used ${boss.emulatorCpuSeconds.toFixed(1)} CPU-s of the same cores)`,
    );
    if (!configFile) {
      for (const pages of [100, 1000]) {
        const ts = await benchTimeSeries(server, pages);
        say(
          `time series 512x512, 4 z x ${pages} uint16 pages: ingest`,
          `${ts.mibPerSec.toFixed(1)} MiB/s, worker peak RSS ${ts.peakRssMiB.toFixed(0)} MiB`,
        );
      }
    }
    const startup = await runStartup(config);
    say('`boss-ingest run` start-up (embedded server, 1-chunk job)', `${startup.toFixed(1)} s`);
    console.log(`\nratio (b)/(a) = ${(rate(b) / rate(a)).toFixed(2)}   (target >= 0.7)`);
    console.log(`ratio (c)/(a) = ${(rate(c) / rate(a)).toFixed(2)}`);
  } finally {
    await server.stop();
  }
}

await main();
process.exit(0);
