/**
 * The programs a cluster runs, found or built once into the cache (~/.cache/boss-ingest): the
 * Temporal server and its SQL tool, the Temporal Web UI server (both from the Go module proxy, at
 * the versions docker-compose.yml runs as images), and PostgreSQL from the system's packages.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The image tags docker-compose.yml names; test/compose.test.ts fails when they drift apart. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
export const TEMPORAL_UI_VERSION = '2.42.1';
export const POSTGRES_MAJOR = 15;

const SERVER_MODULE = 'go.temporal.io/server';
const UI_MODULE = 'github.com/temporalio/ui-server/v2';

export const CACHE_DIR = process.env.BOSS_INGEST_CACHE ?? path.join(os.homedir(), '.cache', 'boss-ingest');

export interface TemporalPrograms {
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 of the server module: the versioned schemas the SQL tool applies. */
  schemaDir: string;
}

export interface PostgresPrograms {
  initdb: string;
  pgCtl: string;
}

export class MissingProgramError extends Error {
  constructor(what: string, how: string) {
    super(`${what} is not available: ${how}`);
    this.name = 'MissingProgramError';
  }
}

type Say = (line: string) => void;

/** `go install MODULE/PKG@vVERSION` into `bin`, then the binary renamed to `name`. */
async function goInstall(pkg: string, version: string, bin: string, built: string, name: string, say: Say) {
  const gobin = path.join(bin, '.gobin');
  say(`building ${pkg}@v${version} with Go (minutes on a cold Go cache)...`);
  try {
    await run('go', ['install', `${pkg}@v${version}`], {
      env: { ...process.env, GOBIN: gobin },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT')
      throw new MissingProgramError(pkg, `Go is not installed; install Go to build ${pkg}@v${version}`);
    throw new Error(`go install ${pkg}@v${version} failed: ${e.stderr || e.message}`, { cause: err });
  }
  renameSync(path.join(gobin, built), path.join(bin, name));
  rmSync(gobin, { recursive: true, force: true });
}

/** The Temporal server, its SQL tool and the PostgreSQL schemas, built on first use. */
export async function temporalPrograms(say: Say): Promise<TemporalPrograms> {
  const dir = path.join(CACHE_DIR, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const programs = {
    server: path.join(dir, 'temporal-server'),
    sqlTool: path.join(dir, 'temporal-sql-tool'),
    schemaDir: path.join(dir, 'schema', 'postgresql', 'v12'),
  };
  mkdirSync(dir, { recursive: true });
  const v = TEMPORAL_SERVER_VERSION;
  if (!existsSync(programs.server))
    await goInstall(`${SERVER_MODULE}/cmd/server`, v, dir, 'server', 'temporal-server', say);
  if (!existsSync(programs.sqlTool))
    await goInstall(`${SERVER_MODULE}/cmd/tools/sql`, v, dir, 'sql', 'temporal-sql-tool', say);
  if (!existsSync(programs.schemaDir)) {
    // The schema files ship in the server module, not in the binaries: keep a copy next to them.
    const moduleDir = await moduleSource(SERVER_MODULE, v);
    cpSync(path.join(moduleDir, 'schema', 'postgresql', 'v12'), programs.schemaDir, { recursive: true });
  }
  return programs;
}

export interface UiPrograms {
  server: string;
  /** Holds docker.yaml, the config the `temporalio/ui` image runs with (set through its environment). */
  configDir: string;
}

/** The Temporal Web UI server (its web app is embedded in the module), built on first use. */
export async function uiPrograms(say: Say): Promise<UiPrograms> {
  const dir = path.join(CACHE_DIR, `temporal-ui-${TEMPORAL_UI_VERSION}`);
  const programs = { server: path.join(dir, 'temporal-ui-server'), configDir: path.join(dir, 'config') };
  mkdirSync(dir, { recursive: true });
  const v = TEMPORAL_UI_VERSION;
  if (!existsSync(programs.server))
    await goInstall(`${UI_MODULE}/cmd/server`, v, dir, 'server', 'temporal-ui-server', say);
  if (!existsSync(programs.configDir)) {
    const moduleDir = await moduleSource(UI_MODULE, v);
    mkdirSync(programs.configDir);
    cpSync(path.join(moduleDir, 'config', 'docker.yaml'), path.join(programs.configDir, 'docker.yaml'));
  }
  return programs;
}

/** Where the Go module cache holds a module's files (downloaded if needed). */
async function moduleSource(module: string, version: string): Promise<string> {
  const { stdout } = await run('go', ['mod', 'download', '-json', `${module}@v${version}`]);
  return (JSON.parse(stdout) as { Dir: string }).Dir;
}

/** initdb and pg_ctl of PostgreSQL POSTGRES_MAJOR (Debian's `postgresql` package), or of PG_BIN. */
export function postgresPrograms(): PostgresPrograms {
  const dirs = [process.env.PG_BIN, `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`].filter(
    (d): d is string => !!d,
  );
  const dir = dirs.find((d) => existsSync(path.join(d, 'initdb')) && existsSync(path.join(d, 'pg_ctl')));
  if (!dir)
    throw new MissingProgramError(
      `PostgreSQL ${POSTGRES_MAJOR}`,
      `no initdb/pg_ctl in ${dirs.join(' or ')}; on Debian: apt-get install postgresql (or set PG_BIN to its bin directory)`,
    );
  return { initdb: path.join(dir, 'initdb'), pgCtl: path.join(dir, 'pg_ctl') };
}
