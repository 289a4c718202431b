/**
 * The Temporal server a command talks to: the one at the address if it answers, else (for a
 * local address) an embedded dev server persisting to ~/.boss-ingest, started from the Temporal
 * CLI binary the way the SDK's test environment does it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { STATE_DIR } from '../log/logger.js';
import { NoServerError } from '../errors.js';

const CACHED_CLI = path.join(process.env.HOME ?? '', '.cache', 'boss-ingest', 'bin', 'temporal');

export interface ServerOptions {
  address: string;
  namespace: string;
}

/** The Temporal CLI on this machine: TEMPORAL_CLI_PATH, `temporal` on the PATH, else the CI cache. */
export function installedTemporalCli(): string | undefined {
  const candidates = [
    process.env.TEMPORAL_CLI_PATH,
    ...(process.env.PATH ?? '').split(path.delimiter).map((dir) => dir && path.join(dir, 'temporal')),
    CACHED_CLI,
  ];
  return candidates.find((p): p is string => !!p && existsSync(p));
}

/** The installed Temporal CLI, else a download as the SDK's test environment does it. */
function temporalExecutable():
  { type: 'existing-path'; path: string } | { type: 'cached-download'; downloadDir: string } {
  const found = installedTemporalCli();
  return found
    ? { type: 'existing-path', path: found }
    : { type: 'cached-download', downloadDir: path.join(STATE_DIR, 'temporal-cli') };
}

/** Whether a Temporal server answers at the address. */
export async function serverAnswers(address: string): Promise<boolean> {
  let connection: Connection | undefined;
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
  stop(): Promise<void>;
}

export { NoServerError };

/** Starts a dev server on the address's port, persisting to `dbFile`. */
export async function startEmbeddedServer(
  options: ServerOptions & { dbFile?: string; ui?: boolean },
): Promise<EmbeddedServer> {
  const [host, portText] = splitAddress(options.address);
  const port = Number(portText);
  const dbFile = options.dbFile ?? path.join(STATE_DIR, 'temporal.sqlite');
  const uiPort = port + 1000;
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: temporalExecutable(),
        ip: host === 'localhost' ? '127.0.0.1' : host,
        port,
        namespace: options.namespace,
        dbFilename: dbFile,
        ui: options.ui ?? true,
        uiPort,
      },
    });
    return { address: options.address, uiUrl: `http://localhost:${uiPort}`, stop: () => env.teardown() };
  } catch (err) {
    throw new NoServerError(options.address, (err as Error).message);
  }
}

function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return i < 0 ? [address, '7233'] : [address.slice(0, i), address.slice(i + 1)];
}

export function isLocalAddress(address: string): boolean {
  const [host] = splitAddress(address);
  return ['localhost', '127.0.0.1', '::1', '[::1]'].includes(host);
}
