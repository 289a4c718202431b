/** A new job's id: its channel and the time, unique enough for a user to type it back. */
import type { JobConfig } from '../config/types.js';

export function newJobId(config: JobConfig): string {
  const { collection, experiment, channel } = config.database;
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');
  return `${collection}-${experiment}-${channel}-${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
