/** N worker processes on this node (`-p N`), each a full Temporal worker with its own chunk threads. */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { WorkerOptions } from './worker.js';

export interface WorkerProcessOptions extends WorkerOptions {
  processes: number;
  logFile: string;
  logLevel: string;
  /** The first child's --metrics-port; child i serves on metricsPort + i. */
  metricsPort?: number;
  /** Handed to the children in their environment only; never put on a command line or in Temporal. */
  apiToken?: string;
}

export interface WorkerProcesses {
  children: ChildProcess[];
  /** Resolves when every child has exited. */
  exited: Promise<void>;
  /** SIGTERM to every child: each finishes or hands back its batches within the grace time. */
  stop(): Promise<void>;
}

const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export function spawnWorkers(options: WorkerProcessOptions): WorkerProcesses {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: options.address,
    TEMPORAL_NAMESPACE: options.namespace,
  };
  // The machine's cores are shared by the processes, unless the user chose a thread count.
  env.BOSS_INGEST_THREADS ??= String(Math.max(1, Math.floor(availableParallelism() / options.processes)));
  // Streamed z-index slices decode on libuv's threads (png-stream.c), four unless told otherwise:
  // as many as the process's chunk threads, so that a large machine's cores all decode.
  env.UV_THREADPOOL_SIZE ??= String(Math.max(4, Number(env.BOSS_INGEST_THREADS) || 0));
  if (options.apiToken) env.INTERN_TOKEN = options.apiToken;
  const args = [
    'worker',
    '-p',
    '1',
    '--task-queue',
    options.taskQueue,
    '-l',
    options.logFile,
    '-v',
    options.logLevel,
  ];
  const metrics = (i: number) =>
    options.metricsPort === undefined ? [] : ['--metrics-port', String(options.metricsPort + i)];
  const children = Array.from({ length: options.processes }, (_, i) =>
    fork(MAIN, [...args, ...metrics(i)], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const exited = Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', () => resolve()))),
    ),
  ).then(() => undefined);
  return {
    children,
    exited,
    async stop() {
      for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
      await exited;
    },
  };
}
