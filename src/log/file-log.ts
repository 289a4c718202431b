/**
 * Lines in the node's log file from code that has no Temporal logger: the chunk threads (Boss
 * requests run there). The CLI's logger (logger.ts) names the file and level in the environment,
 * which the chunk threads inherit when they start. Never pass a token in `meta`.
 */
import { appendFileSync } from 'node:fs';

export const LOG_FILE_ENV = 'BOSS_INGEST_LOG_FILE';
export const LOG_LEVEL_ENV = 'BOSS_INGEST_LOG_LEVEL';

const RANK: Record<string, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

/** One log line, as the SDK's entries are written: time, process, level, message, metadata. */
export function formatLogLine(when: Date, level: string, message: string, meta?: object): string {
  const extra = meta && Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
  return `${when.toISOString()} pid${process.pid} ${level} ${message}${extra}\n`;
}

export function fileLog(level: 'DEBUG' | 'INFO' | 'WARN', message: string, meta?: object): void {
  const file = process.env[LOG_FILE_ENV];
  if (!file || RANK[level]! < (RANK[process.env[LOG_LEVEL_ENV] ?? 'WARN'] ?? 3)) return;
  try {
    appendFileSync(file, formatLogLine(new Date(), level, message, meta));
  } catch {
    // A log line is not worth failing a chunk for.
  }
}
