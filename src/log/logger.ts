/**
 * The log file of a node (`-l/--log-file`, default ~/.boss-ingest/ingest_log<date>_pid<pid>.log)
 * and the Temporal runtime's logger writing to it. A Boss token never reaches it: tokens are read
 * from the worker's own environment and never put in messages.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DefaultLogger, LogEntry, LogLevel } from '@temporalio/worker';
import { formatLogLine, LOG_FILE_ENV, LOG_LEVEL_ENV } from './file-log.js';

export const STATE_DIR = process.env.BOSS_INGEST_HOME ?? path.join(os.homedir(), '.boss-ingest');

const LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  warning: 'WARN',
  error: 'ERROR',
  critical: 'ERROR',
};

export function parseLogLevel(value: string): LogLevel {
  const level = LEVELS[value.toLowerCase()];
  if (!level)
    throw new Error(
      `log level must be one of ${Object.keys(LEVELS).join(', ')}, not ${JSON.stringify(value)}`,
    );
  return level;
}

export function defaultLogFile(): string {
  const date = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');
  return path.join(STATE_DIR, `ingest_log${date}_pid${process.pid}.log`);
}

let logFile: string | undefined;
let logLevel: LogLevel = 'WARN';

function write(entry: LogEntry): void {
  if (!logFile) return;
  const when = new Date(Number(entry.timestampNanos / 1_000_000n));
  appendFileSync(logFile, formatLogLine(when, entry.level, entry.message, entry.meta));
}

/**
 * Sends this process's log to `file` at `level` and above: our lines here, the chunk threads'
 * through the environment. The Temporal SDK's lines join them once `installSdkLogger` runs, in
 * the processes that use the SDK's native runtime (a worker): the others (`run`'s own process,
 * which only submits and follows) never load it, which saves a fraction of a second per command.
 */
export function installLogger(file: string, level: LogLevel): void {
  mkdirSync(path.dirname(file), { recursive: true });
  logFile = file;
  logLevel = level;
  // The chunk threads, started later, inherit these and write to the same file (file-log.ts).
  process.env[LOG_FILE_ENV] = file;
  process.env[LOG_LEVEL_ENV] = level;
}

/**
 * Installs the Temporal runtime, with a logger writing to the file of `installLogger` (before any
 * native connection), and the SDK's metrics on a Prometheus exporter at `metricsAddress` if given.
 */
export async function installSdkLogger(metricsAddress?: string): Promise<DefaultLogger> {
  const { DefaultLogger, Runtime } = await import('@temporalio/worker');
  const logger = new DefaultLogger(logLevel, write);
  const metrics = metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : undefined;
  Runtime.install({ logger, ...(metrics ? { telemetryOptions: metrics } : {}) });
  return logger;
}
