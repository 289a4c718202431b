/** What a command uses when nothing else is said: the Temporal server, namespace and task queue; and our version. */
import { readFileSync } from 'node:fs';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_TASK_QUEUE = 'boss-ingest';

/** The package's version, from its package.json (two levels above the compiled dist/src/). */
export const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
