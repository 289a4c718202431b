/**
 * A command's end of the local service (see protocol.ts): finds the one that fits, or starts it,
 * and follows jobs through it. Loads no Temporal module: that is the point.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { JobStart } from '../cli/job-start.js';
import type { Outcome, ProgressView } from '../cli/progress-view.js';
import { addressListens, isLocalAddress } from '../server/embedded.js';
import {
  FINGERPRINT_ENV,
  KEEP_WARM_ENV,
  MAIN,
  fingerprint,
  keepWarmSeconds,
  onMessages,
  send,
  serviceLogPath,
  socketPath,
  type ServiceMessage,
  type ServiceSettings,
} from './protocol.js';

/** How long a new service gets to start its server and answer. */
const START_TIMEOUT_MS = 120_000;

type Hello = Extract<ServiceMessage, { t: 'hello' }>;

export class ServiceLink {
  /** Resolves when the service closes the connection (it stopped, or it stops). */
  readonly closed: Promise<void>;
  private current?: {
    view: ProgressView;
    resolve: (o: Outcome) => void;
    reject: (e: Error) => void;
  };
  private idleAnswer?: (busy: boolean) => void;

  constructor(
    readonly socket: Socket,
    readonly hello: Hello,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    onMessages<ServiceMessage>(socket, (m) => {
      if (m.t === 'progress') this.current?.view.update(m.result);
      else if (m.t === 'outcome') this.settle((c) => c.resolve(m.outcome));
      else if (m.t === 'failed') this.settle((c) => c.reject(new Error(m.message)));
      else if (m.t === 'busy') this.idleAnswer?.(true);
    });
    void this.closed.then(() => {
      this.idleAnswer?.(false);
      this.settle((c) => c.reject(new Error(`the local service stopped; its log: ${hello.log}`)));
    });
  }

  private settle(how: (c: NonNullable<ServiceLink['current']>) => void): void {
    const c = this.current;
    this.current = undefined;
    if (c) {
      c.view.stop();
      how(c);
    }
  }

  /** Starts (or joins) the job in the service and shows its progress until it ends. */
  follow(start: JobStart, view: ProgressView): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.current = { view, resolve, reject };
      send(this.socket, { t: 'follow', start });
    });
  }

  /** Stops the service (its workers hand back their batches) and waits until it has. */
  async stop(): Promise<void> {
    send(this.socket, { t: 'stop' });
    await this.closed;
  }

  /** Stops the service unless another command follows a job in it; whether it stopped. */
  async stopIfIdle(): Promise<boolean> {
    const busy = new Promise<boolean>((resolve) => (this.idleAnswer = resolve));
    send(this.socket, { t: 'stop', ifIdle: true });
    if (await busy) return false;
    await this.closed;
    return true;
  }

  close(): void {
    this.socket.end();
  }
}

/**
 * The service listening at `socket`, or undefined. A socket left by one that died stays: the next
 * service takes it over (serve.ts). Removed here, it could be the new socket of a service starting
 * meanwhile, which would then listen where no command finds it.
 */
export async function connectService(socket: string): Promise<ServiceLink | undefined> {
  const conn = await new Promise<Socket | undefined>((resolve) => {
    const s = connect(socket);
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
  if (!conn) return undefined;
  const hello = await new Promise<Hello | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 10_000);
    onMessages<ServiceMessage>(conn, (m) => {
      if (m.t !== 'hello') return;
      clearTimeout(timer);
      conn.removeAllListeners('data');
      resolve(m);
    });
    conn.once('close', () => resolve(undefined));
    conn.on('error', () => undefined);
  });
  if (!hello) {
    conn.destroy();
    return undefined;
  }
  return new ServiceLink(conn, hello);
}

/** Where a command runs its jobs: through the service, or on its own (holding a busy one up). */
export type LocalService = { link: ServiceLink; started: boolean } | { release(): void } | undefined;

/**
 * The service a command at these settings uses: the running one if it fits, else a new one, when
 * the address is local and nothing else serves it. A service that does not fit (another build,
 * directory or environment) is stopped first if it is idle; while it is busy the command runs its
 * own workers on its server, holding it up until then.
 */
export async function localService(
  settings: ServiceSettings,
  apiToken: string | undefined,
  say: (line: string) => void,
): Promise<LocalService> {
  if (!isLocalAddress(settings.address) || keepWarmSeconds() === 0) return undefined;
  const socket = socketPath(settings.address);
  if (!socket) return undefined;
  // The workers' environment: a token reaches them there, never through Temporal or a command line.
  const env = { ...process.env, ...(apiToken ? { INTERN_TOKEN: apiToken } : {}) };
  const wanted = fingerprint(settings, env);
  const running = await connectService(socket);
  if (running?.hello.fingerprint === wanted) return { link: running, started: false };
  if (running && !(await running.stopIfIdle())) return { release: () => running.close() };
  // A server someone else runs here: the command brings its own workers, as without a service.
  if (await addressListens(settings.address)) return undefined;
  const seconds = keepWarmSeconds();
  say(
    `No Temporal server at ${settings.address}: starting the local service, an embedded dev server and ` +
      `${settings.processes} worker process${settings.processes === 1 ? '' : 'es'}, kept warm ${seconds} s after ` +
      `its last command (\`boss-ingest service stop\` stops it, ${KEEP_WARM_ENV}=0 turns it off)...`,
  );
  return { link: await startService(socket, settings, { ...env, [FINGERPRINT_ENV]: wanted }), started: true };
}

async function startService(
  socket: string,
  settings: ServiceSettings,
  env: NodeJS.ProcessEnv,
): Promise<ServiceLink> {
  const logPath = serviceLogPath(socket);
  const log = openSync(logPath, 'a');
  const logStart = statSync(logPath).size;
  const args = ['service', 'serve', '--address', settings.address, '--namespace', settings.namespace];
  args.push('--task-queue', settings.taskQueue, '-p', String(settings.processes), '-v', settings.logLevel);
  if (settings.logFile) args.push('-l', settings.logFile);
  if (settings.metricsPort !== undefined) args.push('--metrics-port', String(settings.metricsPort));
  // Its own session: a Ctrl-C at the command's terminal is the command's to pass on.
  const child = spawn(process.execPath, [MAIN, ...args], {
    detached: true,
    env,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  child.unref();
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const link = await connectService(socket);
    if (link) return link;
    if (exited) {
      const said = readFileSync(logPath, 'utf8').slice(logStart);
      const reason = said.match(/^boss-ingest: (.*)$/m)?.[1] ?? `see its log ${logPath}`;
      throw new Error(`the local service did not start: ${reason}`);
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(
        `the local service did not answer within ${START_TIMEOUT_MS / 1000} s; its log: ${logPath}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
