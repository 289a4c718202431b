/**
 * The local service process (`boss-ingest service serve`, started by a command; see protocol.ts):
 * the embedded server, this node's worker processes and a Temporal client, answering on a Unix
 * socket until it has been idle `BOSS_INGEST_KEEP_WARM` seconds.
 */
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ensureServer, setUpLog } from '../cli/commands.js';
import type { JobStart } from '../cli/job-start.js';
import type { Outcome } from '../cli/progress-view.js';
import { spawnWorkers } from '../worker/processes.js';
import {
  FINGERPRINT_ENV,
  fingerprint,
  keepWarmSeconds,
  onMessages,
  send,
  socketPath,
  type CommandMessage,
  type ServiceSettings,
} from './protocol.js';

/** How long a new service waits for its first command, whatever BOSS_INGEST_KEEP_WARM says. */
const START_GRACE_MS = 30_000;

export async function serve(settings: ServiceSettings): Promise<number> {
  const socketFile = socketPath(settings.address);
  if (!socketFile) throw new Error(`no local service: the state directory's path is too long for a socket`);
  const id = process.env[FINGERPRINT_ENV] ?? fingerprint(settings, process.env);
  delete process.env[FINGERPRINT_ENV];
  const idleMs = keepWarmSeconds() * 1000;
  const logFile = setUpLog(settings);
  const workers = spawnWorkers({ ...settings, logFile });
  // The client loads while the server and the workers start.
  const jobs = import('../cli/jobs.js');
  const server = await ensureServer(settings).catch(async (err: unknown) => {
    await workers.stop();
    throw err;
  });
  const { connectClient, jobOutcome, queryProgress, startJob } = await jobs;
  const client = await connectClient(settings.address, settings.namespace);

  /** Each connection, and the job it follows now. */
  const following = new Map<Socket, string | undefined>();
  let stopping: Promise<void> | undefined;
  let done!: () => void;
  const ended = new Promise<void>((resolve) => (done = resolve));

  const stop = (reason: string): Promise<void> =>
    (stopping ??= (async () => {
      clearInterval(idle);
      // No new command finds it from here on.
      rmSync(socketFile, { force: true });
      listener.close();
      console.error(`${new Date().toISOString()} stopping: ${reason}`);
      for (const [socket, jobId] of following)
        if (jobId)
          send(socket, {
            t: 'failed',
            message: `the local service stopped (${reason}); job ${jobId} keeps what it did`,
          });
      await workers.stop();
      await server?.kill();
      await client.connection.close().catch(() => undefined);
      for (const socket of following.keys()) socket.end();
      done();
    })());

  // Idle: no command connected, and no job followed for idleMs. A `service status` does not count.
  // Until a first command connects (the one that started it, still loading on a busy machine),
  // at least START_GRACE_MS: with BOSS_INGEST_KEEP_WARM=2 a service once stopped 2 s after it was
  // ready, before its own command had connected, and that command failed.
  let lastJob = Date.now();
  let connected = false;
  const idle = setInterval(
    () => {
      const waited = Date.now() - lastJob;
      if (following.size === 0 && waited >= idleMs && (connected || waited >= START_GRACE_MS))
        void stop(`idle ${idleMs / 1000} s`);
    },
    Math.min(1000, idleMs / 4),
  );

  void workers.exited.then(() => stop(`its worker processes exited; their log: ${logFile}`));

  async function follow(socket: Socket, start: JobStart): Promise<void> {
    const handle = await startJob(client, start);
    const poll = setInterval(async () => {
      const result = await queryProgress(handle);
      if (result) send(socket, { t: 'progress', result });
    }, 1000);
    try {
      const outcome: Outcome = await jobOutcome(handle);
      send(socket, { t: 'outcome', outcome });
    } finally {
      clearInterval(poll);
    }
  }

  const listener: Server = createServer((socket) => {
    connected = true;
    following.set(socket, undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const jobId = following.get(socket);
      following.delete(socket);
      // The command following it was interrupted: stop this node's workers, as `run` does alone.
      if (jobId) void stop(`the command following job ${jobId} ended before it`);
    });
    onMessages<CommandMessage>(socket, (m) => {
      if (m.t === 'stop') {
        const busy = [...following].some(([s, jobId]) => s !== socket && jobId);
        if (m.ifIdle && busy) send(socket, { t: 'busy' });
        else void stop('stopped by a command');
        return;
      }
      following.set(socket, m.start.workflowId);
      lastJob = Date.now();
      follow(socket, m.start)
        .catch((err: Error) => send(socket, { t: 'failed', message: err.message }))
        .finally(() => {
          lastJob = Date.now();
          if (following.has(socket)) following.set(socket, undefined);
        });
    });
    send(socket, {
      t: 'hello',
      fingerprint: id,
      pid: process.pid,
      log: logFile,
      ui: server?.uiUrl,
      following: [...following.values()].filter(Boolean).length,
    });
  });

  await listen(listener, socketFile).catch(async (err: unknown) => {
    await workers.stop();
    await server?.kill();
    throw err;
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => void stop(`signal ${signal}`));
  lastJob = Date.now();
  console.error(`${new Date().toISOString()} ready at ${socketFile} (pid ${process.pid})`);
  await ended;
  return 0;
}

/** Listens at the socket, taking it over from a service that died without removing it. */
async function listen(listener: Server, file: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const taken = await new Promise<boolean>((resolve, reject) => {
      listener.once('error', (err: NodeJS.ErrnoException) =>
        err.code === 'EADDRINUSE' && attempt === 0 ? resolve(true) : reject(err),
      );
      listener.listen(file, () => resolve(false));
    });
    if (!taken) return;
    const alive = await new Promise<boolean>((resolve) => {
      const probe = connect(file);
      probe.once('connect', () => (probe.destroy(), resolve(true)));
      probe.once('error', () => resolve(false));
    });
    if (alive) throw new Error(`another local service answers at ${file}`);
    rmSync(file, { force: true });
  }
}
