/**
 * The local service: the embedded Temporal dev server and this node's worker processes, kept
 * warm between commands. `run` (and `verify`, `downsample`) start it when nothing answers at
 * their local address, and hand it their jobs over a Unix socket beside the server's database;
 * it stays up `BOSS_INGEST_KEEP_WARM` seconds (default 600) after its last command, so that the
 * next one costs no server, Node, SDK or workflow-bundle start and loads no Temporal client.
 *
 * This module is what both ends share: where the socket is, which service a command may use,
 * and the messages, one JSON object per line.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import type { JobStart } from '../cli/job-start.js';
import type { Outcome } from '../cli/progress-view.js';
import type { JobResult } from '../job/types.js';
import { LOG_FILE_ENV, LOG_LEVEL_ENV } from '../log/file-log.js';
import { STATE_DIR } from '../log/logger.js';
import { VERSION } from '../defaults.js';

export const KEEP_WARM_ENV = 'BOSS_INGEST_KEEP_WARM';
const DEFAULT_KEEP_WARM_SECONDS = 600;

/** Seconds the service stays up after its last command; 0: no service (each command runs its own). */
export function keepWarmSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const text = env[KEEP_WARM_ENV];
  if (text === undefined || text === '') return DEFAULT_KEEP_WARM_SECONDS;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(
      `${KEEP_WARM_ENV} must be a number of seconds (0: no local service), not ${JSON.stringify(text)}`,
    );
  return n;
}

/** What a service runs with: a command uses it only when its own would be the same. */
export interface ServiceSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  processes: number;
  logLevel: string;
  /** Only a log file the user named: the default one is per process. */
  logFile?: string;
  metricsPort?: number;
}

export const MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/**
 * The Unix socket of the service at this address, or undefined when its path would be too long
 * for one (108 bytes on Linux).
 */
export function socketPath(address: string, stateDir = STATE_DIR): string | undefined {
  const file = path.join(stateDir, `service-${address.replace(/[^A-Za-z0-9.]+/g, '_')}.sock`);
  return Buffer.byteLength(file) < 100 ? file : undefined;
}

export function serviceLogPath(socket: string): string {
  return socket.replace(/\.sock$/, '.log');
}

/**
 * Variables that change from one shell command to the next and mean nothing to a worker, and the
 * log a command sets up for its own children (the service has its own).
 */
const VOLATILE = new Set(['_', 'OLDPWD', 'PWD', 'SHLVL', LOG_FILE_ENV, LOG_LEVEL_ENV]);
export const FINGERPRINT_ENV = 'BOSS_INGEST_SERVICE_FINGERPRINT';

/**
 * Which service a command may use: the same build, settings, working directory (relative paths in
 * a config are the workers') and environment (tokens, credentials, thread counts are the workers'),
 * hashed: the service holds the hash, never the values.
 */
export function fingerprint(settings: ServiceSettings, env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  const vars = Object.entries(env)
    .filter(([k]) => !VOLATILE.has(k) && k !== FINGERPRINT_ENV)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const build = { main: MAIN, version: VERSION, built: statSync(MAIN).mtimeMs };
  return createHash('sha256')
    .update(JSON.stringify({ build, settings, cwd, vars }))
    .digest('hex')
    .slice(0, 32);
}

/** From the service. */
export type ServiceMessage =
  | { t: 'hello'; fingerprint: string; pid: number; log: string; ui?: string; following: number }
  | { t: 'progress'; result: JobResult }
  | { t: 'outcome'; outcome: Outcome }
  /** The job could not be followed to its end here (its workers exited, the service stopped). */
  | { t: 'failed'; message: string }
  /** `stop` with `ifIdle` while another command follows a job. */
  | { t: 'busy' };

/** To the service. */
export type CommandMessage =
  /** Start (or join) the job and follow it to its end. */
  | { t: 'follow'; start: JobStart }
  /** Stop the service: its workers hand back their batches, its server stops. */
  | { t: 'stop'; ifIdle?: boolean };

export function send(socket: Socket, message: ServiceMessage | CommandMessage): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
}

/** Calls `each` with every message that arrives, one per line. */
export function onMessages<T>(socket: Socket, each: (message: T) => void): void {
  let pending = '';
  socket.setEncoding('utf8');
  socket.on('data', (data: string) => {
    pending += data;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (line.trim() !== '') each(JSON.parse(line) as T);
    }
  });
}
