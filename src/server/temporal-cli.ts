/**
 * The Temporal CLI (which contains the dev server): the one on this machine, else one built with Go
 * into the cache exactly as .ci/run builds it, so that the first `run` works on a machine that
 * reaches only package registries. Only without Go does the SDK download one.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** The newest CLI whose go.mod `go install` accepts; it embeds server 1.29.1 and UI 2.42.1. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

const CACHE_BIN = path.join(
  process.env.BOSS_INGEST_CACHE ?? path.join(os.homedir(), '.cache', 'boss-ingest'),
  'bin',
);

/** The Temporal CLI on this machine: TEMPORAL_CLI_PATH, `temporal` on the PATH, else the cache. */
export function installedTemporalCli(): string | undefined {
  const candidates = [
    process.env.TEMPORAL_CLI_PATH,
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => dir && path.join(dir, 'temporal')),
    path.join(CACHE_BIN, 'temporal'),
  ];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** `go install` of the CLI into the cache; undefined when Go is not installed. */
export async function buildTemporalCli(say: (line: string) => void): Promise<string | undefined> {
  try {
    await promisify(execFile)('go', ['version']);
  } catch {
    return undefined;
  }
  say(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${CACHE_BIN} (minutes, once)...`);
  mkdirSync(CACHE_BIN, { recursive: true });
  try {
    await promisify(execFile)('go', ['install', `${CLI_PACKAGE}@v${TEMPORAL_CLI_VERSION}`], {
      env: { ...process.env, GOBIN: CACHE_BIN },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`go install ${CLI_PACKAGE}@v${TEMPORAL_CLI_VERSION} failed: ${e.stderr || e.message}`, {
      cause: err,
    });
  }
  return path.join(CACHE_BIN, 'temporal');
}
