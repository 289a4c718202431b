/**
 * The cluster's PostgreSQL: one data directory made by initdb, the user and password the compose
 * file's `postgresql` service creates, listening on 127.0.0.1 only. PostgreSQL refuses to run as
 * root, so under root its programs run as the `postgres` user of the system's package.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { postgresPrograms } from './components.js';

const run = promisify(execFile);

/** POSTGRES_USER / POSTGRES_PASSWORD of the compose file's `postgresql` service. */
export const POSTGRES_USER = 'temporal';
export const POSTGRES_PASSWORD = 'temporal';
const SYSTEM_USER = 'postgres';

interface Owner {
  uid: number;
  gid: number;
}

async function systemUser(): Promise<Owner> {
  try {
    const [uid, gid] = await Promise.all(
      ['-u', '-g'].map(async (flag) => Number((await run('id', [flag, SYSTEM_USER])).stdout.trim())),
    );
    return { uid: uid!, gid: gid! };
  } catch {
    throw new Error(
      `PostgreSQL does not run as root, and there is no "${SYSTEM_USER}" user to run it as ` +
        '(apt-get install postgresql creates one), so run the cluster as an ordinary user',
    );
  }
}

/** Under root, every directory above `dir` must let the postgres user through. */
function assertReachable(dir: string, owner: Owner): void {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const s = statSync(d);
    if (s.uid !== owner.uid && (s.mode & 0o001) === 0)
      throw new Error(
        `the ${SYSTEM_USER} user cannot reach ${dir}: ${d} is not searchable by others ` +
          `(chmod o+x ${d}, or choose a data directory outside it with --data)`,
      );
    if (d === path.dirname(d)) return;
  }
}

export class Postgres {
  readonly dataDir: string;
  readonly logFile: string;
  private owner: Owner | undefined;

  /** `dir` holds the data directory and the log; `port` is where it listens on 127.0.0.1. */
  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.dataDir = path.join(dir, 'data');
    this.logFile = path.join(dir, 'postgres.log');
  }

  /** Runs a PostgreSQL program, as the postgres user when we are root. */
  private async pg(program: string, args: string[]): Promise<string> {
    const isRoot = process.getuid?.() === 0;
    const [file, argv] = isRoot ? ['runuser', ['-u', SYSTEM_USER, '--', program, ...args]] : [program, args];
    try {
      return (await run(file, argv, { cwd: this.dir })).stdout;
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(
        `${path.basename(program)} ${args.join(' ')} failed: ${e.stderr || e.stdout || e.message}` +
          (existsSync(this.logFile) ? ` (log: ${this.logFile})` : ''),
        { cause: err },
      );
    }
  }

  get initialized(): boolean {
    return existsSync(path.join(this.dataDir, 'PG_VERSION'));
  }

  /** initdb once: the compose file's user and password, TCP on 127.0.0.1 only. */
  async init(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    if (process.getuid?.() === 0) {
      this.owner ??= await systemUser();
      assertReachable(this.dir, this.owner);
      chownSync(this.dir, this.owner.uid, this.owner.gid);
    }
    if (this.initialized) return;
    const pwFile = path.join(this.dir, 'initdb.pw');
    writeFileSync(pwFile, `${POSTGRES_PASSWORD}\n`, { mode: 0o644 });
    const { initdb } = postgresPrograms();
    await this.pg(initdb, [
      '-D',
      this.dataDir,
      '-U',
      POSTGRES_USER,
      `--pwfile=${pwFile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    // No Unix socket (its default directory may not be ours): clients use TCP, like in compose.
    await appendFile(
      path.join(this.dataDir, 'postgresql.conf'),
      `\n# boss-ingest cluster\nlisten_addresses = '127.0.0.1'\nport = ${this.port}\nunix_socket_directories = ''\n`,
    );
  }

  async running(): Promise<boolean> {
    if (!this.initialized) return false;
    try {
      await this.pg(postgresPrograms().pgCtl, ['status', '-D', this.dataDir]);
      return true;
    } catch {
      return false;
    }
  }

  async start(): Promise<void> {
    if (await this.running()) return;
    await this.pg(postgresPrograms().pgCtl, [
      'start',
      '-w',
      '-t',
      '60',
      '-D',
      this.dataDir,
      '-l',
      this.logFile,
    ]);
  }

  /** A fast shutdown: open transactions are rolled back, the data stays. */
  async stop(): Promise<void> {
    if (!(await this.running())) return;
    await this.pg(postgresPrograms().pgCtl, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', this.dataDir]);
  }
}
