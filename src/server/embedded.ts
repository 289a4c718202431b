/**
 * The Temporal server a command talks to: the one at the address if it answers, else (for a
 * local address) an embedded dev server persisting to ~/.boss-ingest, run from the Temporal CLI
 * (found, or built with Go). Its banner and logs go to a file beside its database, never to our
 * stdout, whose first line is the job id.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from '../log/logger.js';
import { NoServerError } from '../errors.js';
import { buildTemporalCli, installedTemporalCli } from './temporal-cli.js';
import { portListens } from './ports.js';
import { DISPATCH_FLAGS } from './dispatch.js';

export { installedTemporalCli } from './temporal-cli.js';

/** How long a dev server gets to answer after it is started. */
const START_TIMEOUT_MS = 60_000;

export interface ServerOptions {
  address: string;
  namespace: string;
}

/** Whether a Temporal server answers at the address. */
export async function serverAnswers(address: string): Promise<boolean> {
  if (!(await addressListens(address))) return false;
  // The SDK's client is loaded only when something listens: `run` starts the server sooner without it.
  const { Connection } = await import('@temporalio/client');
  let connection: Awaited<ReturnType<typeof Connection.connect>> | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: '3s' });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export interface EmbeddedServer {
  address: string;
  uiUrl: string;
  /** The server's process, where this one started it (not the SDK's downloaded server). */
  pid?: number;
  /** Stops the server gracefully: its frontend drains connections for at least a second. */
  stop(): Promise<void>;
  /**
   * Ends the server at once, as a crash would, once nothing uses it: `run` after its workers exit.
   * Nothing is lost, as the server acknowledges no change before its database holds it, and it
   * starts again from that database as fast as after a graceful stop (0.2-0.3 s either way,
   * measured), which takes 1.2-2 s here, most of it the frontend's fixed minimum drain time.
   */
  kill(): Promise<void>;
}

export { NoServerError };

interface DevServerOptions extends ServerOptions {
  dbFile?: string;
  ui?: boolean;
  /** Progress of a first-time build of the CLI (default: stderr). */
  say?: (line: string) => void;
}

/** Starts a dev server on the address's port, persisting to `dbFile`. */
export async function startEmbeddedServer(options: DevServerOptions): Promise<EmbeddedServer> {
  try {
    const cli = installedTemporalCli() ?? (await buildTemporalCli(options.say ?? ((l) => console.error(l))));
    return cli ? await startDevServer(cli, options) : await startDownloadedServer(options);
  } catch (err) {
    throw new NoServerError(options.address, (err as Error).message);
  }
}

function serverArgs(options: DevServerOptions) {
  const [host, portText] = splitAddress(options.address);
  const port = Number(portText);
  return {
    ip: host === 'localhost' ? '127.0.0.1' : host,
    port,
    dbFile: options.dbFile ?? path.join(STATE_DIR, 'temporal.sqlite'),
    ui: options.ui ?? true,
    uiPort: port + 1000,
  };
}

/**
 * Linux filesystems (statfs magic numbers) that give SQLite the shared memory its write-ahead log
 * needs: ext2-4, xfs, btrfs, tmpfs, overlayfs, zfs, f2fs. Network filesystems (NFS, SMB, Lustre,
 * GPFS: a lab's home directory, often) do not, and keep SQLite's default rollback journal.
 */
const LOCAL_FILESYSTEMS = new Set([
  0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630, 0x2fc12fc1, 0xf2f52010,
]);

/**
 * The dev server's database in write-ahead-log mode where its folder is on a local filesystem.
 * Every commit is still synced (synchronous stays FULL), so a crash of the server or the machine
 * loses nothing acknowledged; a commit costs one file and one sync instead of a journal file
 * created, synced and deleted. On the bench's 8-bit stack, warm, in interleaved pairs of 10 jobs:
 * the server's CPU 0.25 -> 0.20 s a job, job time 0.95 -> 0.92 s (medians), 0.91 -> 0.82 s (best).
 */
export function journalFlags(dbFile: string): string[] {
  try {
    if (process.platform === 'linux' && LOCAL_FILESYSTEMS.has(statfsSync(path.dirname(dbFile)).type))
      return ['--sqlite-pragma', 'journal_mode=wal'];
  } catch {
    // The server reports a missing folder itself.
  }
  return [];
}

/** `temporal server start-dev` as the SDK's test environment runs it, its output to a log file. */
async function startDevServer(cli: string, options: DevServerOptions): Promise<EmbeddedServer> {
  const { ip, port, dbFile, ui, uiPort } = serverArgs(options);
  const logFile = `${dbFile}.log`;
  const args = [
    ...['server', 'start-dev', '--ip', ip, '--port', String(port), '--namespace', options.namespace],
    ...['--db-filename', dbFile, '--log-format', 'pretty', '--log-level', 'warn'],
    // No call home for a version check (machines without internet), updates on, as the SDK does.
    ...['--dynamic-config-value', 'frontend.enableServerVersionCheck=false'],
    ...['--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true'],
    ...DISPATCH_FLAGS,
    ...journalFlags(dbFile),
    ...(ui ? ['--ui-port', String(uiPort)] : ['--headless']),
  ];
  const log = openSync(logFile, 'a');
  const child = spawn(cli, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const end = async (signal: NodeJS.Signals) => {
    if (!gone) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const address = options.address;
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await serverAnswers(address))) {
    const tail = () => readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    if (gone) throw new Error(`${cli} server start-dev exited: ${tail()}`);
    if (Date.now() > deadline) {
      await end('SIGTERM');
      throw new Error(
        `${cli} server start-dev did not answer within ${START_TIMEOUT_MS / 1000} s: ${tail()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    address,
    uiUrl: `http://localhost:${uiPort}`,
    pid: child.pid,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

/** Neither installed nor buildable: the SDK downloads the CLI (which prints its banner to stdout). */
async function startDownloadedServer(options: DevServerOptions): Promise<EmbeddedServer> {
  const { ip, port, dbFile, ui, uiPort } = serverArgs(options);
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download', downloadDir: path.join(STATE_DIR, 'temporal-cli') },
      ip,
      port,
      namespace: options.namespace,
      dbFilename: dbFile,
      ui,
      uiPort,
      extraArgs: [...DISPATCH_FLAGS, ...journalFlags(dbFile)],
    },
  });
  // The SDK's server has no hard stop of its own.
  const stop = () => env.teardown();
  return { address: options.address, uiUrl: `http://localhost:${uiPort}`, stop, kill: stop };
}

function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return i < 0 ? [address, '7233'] : [address.slice(0, i), address.slice(i + 1)];
}

/** Whether anything accepts TCP connections at the address (a refusal answers at once). */
export function addressListens(address: string): Promise<boolean> {
  const [host, port] = splitAddress(address);
  return portListens(host.replace(/^\[(.*)\]$/, '$1'), Number(port));
}

export function isLocalAddress(address: string): boolean {
  const [host] = splitAddress(address);
  return ['localhost', '127.0.0.1', '::1', '[::1]'].includes(host);
}
