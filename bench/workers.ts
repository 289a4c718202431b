/** What every bench needs: a dev server, `boss-ingest worker` processes, timing a job, peak memory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { jobStart, type JobKindName } from '../src/cli/job-start.js';
import { startJob } from '../src/cli/jobs.js';
import type { JobConfig } from '../src/config/types.js';
import type { JobResult } from '../src/job/types.js';
import { startEmbeddedServer } from '../src/server/embedded.js';
import { freePortBelow, portFree } from '../src/server/ports.js';

export const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const MiB = 1024 * 1024;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface BenchServer {
  address: string;
  client: Client;
  /** CPU time (user and system, all threads) the server process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** CPU time (user and system, all threads) process `pid` has used so far: fields 14 and 15 of /proc/PID/stat. */
export function processCpuSeconds(pid: number): number {
  // After the command's closing parenthesis; clock ticks of 1/100 s.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Where Linux starts the ports it gives connections' local ends (ip_local_port_range). */
const EPHEMERAL_PORTS = 32768;

/**
 * A free port for a dev server the bench starts, with the port of its UI (1000 above) free too,
 * both below the ephemeral range: there a port may be the local end of a live connection, which
 * a server cannot listen on.
 */
export async function benchPort(): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = await freePortBelow(EPHEMERAL_PORTS - 1000);
    if (await portFree(port + 1000)) return port;
  }
  throw new Error('no free pair of TCP ports for a dev server');
}

/** A dev server of the bench's own (temp SQLite file, a port of its own, no UI) and a client. */
export async function startBenchServer(): Promise<BenchServer> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'bench-server-'));
  const port = await benchPort();
  const server = await startEmbeddedServer({
    address: `127.0.0.1:${port}`,
    namespace: 'default',
    dbFile: path.join(home, 'db.sqlite'),
    ui: false,
  });
  const connection = await Connection.connect({ address: server.address });
  const pid = server.pid;
  if (pid === undefined) throw new Error('the bench needs a dev server of its own process');
  return {
    address: server.address,
    client: new Client({ connection }),
    cpuSeconds: () => processCpuSeconds(pid),
    stop: async () => {
      await connection.close();
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface BenchWorker {
  process: ChildProcess;
  /** Peak resident memory so far (the kernel's high-water mark) of the worker process. */
  peakRssMiB(): number;
  /** CPU time (user and system, all threads) the worker process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** `boss-ingest worker -p N` in a home of its own, once its pollers are on the task queue. */
export async function startWorker(
  server: BenchServer,
  processes = 1,
  env: NodeJS.ProcessEnv = {},
  /** A taskset CPU list the worker (and its threads and children) is confined to. */
  cpus?: string,
): Promise<BenchWorker> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'bench-worker-'));
  const command = [process.execPath, MAIN, 'worker', '-p', String(processes), '--address', server.address];
  if (cpus) command.unshift('taskset', '-c', cpus);
  const child = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, BOSS_INGEST_HOME: home, ...env },
    stdio: 'inherit',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; ; i++) {
    const res = await server.client.workflowService.describeTaskQueue({
      namespace: 'default',
      taskQueue: { name: 'boss-ingest' },
      taskQueueType: 2,
    });
    if ((res.pollers?.length ?? 0) >= processes) break;
    if (i > 600 || child.exitCode !== null) throw new Error('the worker did not start polling');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    process: child,
    peakRssMiB: () => {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    },
    cpuSeconds: () => processCpuSeconds(child.pid!),
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A job (an ingest, or a verify of what one stored) from submission to completion. */
export async function timeJob(
  server: BenchServer,
  config: JobConfig,
  id: string,
  kind: JobKindName = 'ingest',
): Promise<{ seconds: number; result: JobResult; clientCpuSeconds: number }> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const handle = await startJob(server.client, jobStart(config, id, 'boss-ingest', kind));
  const result = await handle.result();
  const cpu = process.cpuUsage(cpu0);
  return {
    seconds: (performance.now() - t0) / 1000,
    result,
    clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}
