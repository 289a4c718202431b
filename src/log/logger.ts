/**
 * The log file of a node (`-l/--log-file`, default ~/.boss-ingest/ingest_log<date>_pid<pid>.log)
 * and the Temporal runtime's logger writing to it. A Boss token never reaches it: tokens are read
 * from the worker's own environment and never put in messages.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
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

function write(entry: LogEntry): void {
  if (!logFile) return;
  const when = new Date(Number(entry.timestampNanos / 1_000_000n));
  appendFileSync(logFile, formatLogLine(when, entry.level, entry.message, entry.meta));
}

/**
 * Sends this process's log (ours and the Temporal SDK's) to `file` at `level` and above, and the
 * SDK's metrics to a Prometheus exporter at `metricsAddress` if given (the runtime is installed
 * once, before any connection, so both are set here).
 */
export function installLogger(file: string, level: LogLevel, metricsAddress?: string): DefaultLogger {
  mkdirSync(path.dirname(file), { recursive: true });
  logFile = file;
  // The chunk threads, started later, inherit these and write to the same file (file-log.ts).
  process.env[LOG_FILE_ENV] = file;
  process.env[LOG_LEVEL_ENV] = level;
  const logger = new DefaultLogger(level, write);
  const metrics = metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : undefined;
  Runtime.install({ logger, ...(metrics ? { telemetryOptions: metrics } : {}) });
  return logger;
}
