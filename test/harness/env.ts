/** The real parts integration tests run against: a Temporal dev server, our CLI, zarr-python. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import { freePort, freePortBelow } from '../../src/server/ports.js';

export { freePort };

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = path.join(REPO, 'dist', 'src', 'cli', 'main.js');

/** Every folder tempDir made in this test process, removed when it exits (mocha's --exit included). */
const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new folder under the system's temporary folder, removed when the tests end if not before. */
/** Sets an environment variable of this process; the function returned puts back what was there. */
export function setEnv(name: string, value: string): () => void {
  const was = process.env[name];
  process.env[name] = value;
  return () => {
    if (was === undefined) delete process.env[name];
    else process.env[name] = was;
  };
}

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `boss-ingest-${prefix}-`));
  made.push(dir);
  return dir;
}

export interface TestServer extends EmbeddedServer {
  dbFile: string;
  home: string;
}

/**
 * A port for a Temporal server a test starts: below the kernel's ephemeral range (32768 up), where
 * a port found free can be taken by any outgoing connection before the server binds it, or while
 * it is stopped for a restart (seen in CI: "bind: address already in use").
 */
export function serverPort(): Promise<number> {
  return freePortBelow(32768);
}

/** A dev server of its own for a test file, persisting to a temp SQLite file. */
export async function startTestServer(): Promise<TestServer> {
  const home = tempDir('home');
  const dbFile = path.join(home, 'temporal.sqlite');
  const address = `127.0.0.1:${await serverPort()}`;
  const server = await startEmbeddedServer({ address, namespace: 'default', dbFile, ui: false });
  return {
    ...server,
    dbFile,
    home,
    stop: async () => {
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A command's environment in a test: its own home, and no local service unless the test asks for
 * one (test/local-service.e2e.test.ts), so that a command's server and workers end with it.
 */
export function cliEnv(home: string, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, BOSS_INGEST_HOME: home, BOSS_INGEST_KEEP_WARM: '0', ...extra };
}

/** Runs `boss-ingest ARGS` to completion. */
export function cli(
  args: string[],
  home: string,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: cliEnv(home, options.env), timeout: options.timeoutMs ?? 110_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

export interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `boss-ingest ARGS` in the background (workers, `start --wait`). */
export function spawnCli(args: string[], home: string, env?: NodeJS.ProcessEnv): RunningCli {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: cliEnv(home, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let errText = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => errText, exited };
}

export async function stopCli(
  running: RunningCli,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill(signal);
  return running.exited;
}

export function jobIdOf(stdout: string): string {
  const first = stdout.split('\n')[0] ?? '';
  const m = /^job id: (\S+)$/.exec(first);
  if (!m) throw new Error(`the first line of stdout is not the job id: ${JSON.stringify(first)}`);
  return m[1]!;
}

export interface ZarrRead {
  shape: number[];
  dtype: string;
  /** Inner chunks when the array is sharded. */
  chunks: number[];
  /** The shard shape, or null when the array is not sharded. */
  shards: number[] | null;
  dimension_names: string[];
  ome: { version: string; multiscales: { axes: { name: string }[] }[] };
  data: Buffer;
}

/** The Python with zarr-python 3 and numpy: BOSS_INGEST_PYTHON, else the venv .ci/run sets up, else python3. */
export function venvPython(): string {
  const cached = path.join(
    process.env.BOSS_INGEST_CACHE ?? path.join(os.homedir(), '.cache', 'boss-ingest'),
    'venv',
    'bin',
    'python',
  );
  return process.env.BOSS_INGEST_PYTHON ?? (existsSync(cached) ? cached : 'python3');
}

/** Runs a script of test/harness with the test Python; rejects with its stderr. */
export function runPython(script: string, args: string[]): Promise<string> {
  const interpreter = venvPython();
  return new Promise((resolve, reject) => {
    execFile(
      interpreter,
      [path.join(REPO, 'test', 'harness', script), ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(
              `${script} failed (${interpreter}; run .ci/run to set up its venv): ${stderr || err.message}`,
            ),
          );
        else resolve(stdout);
      },
    );
  });
}

/** Reads array `array` of the volume with zarr-python 3. */
export async function readWithZarrPython(volume: string, array = '0'): Promise<ZarrRead> {
  const out = path.join(tempDir('read'), 'data.bin');
  try {
    const meta = JSON.parse(await runPython('readback.py', [volume, out, array])) as Omit<ZarrRead, 'data'>;
    return { ...meta, data: readFileSync(out) };
  } finally {
    rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

/** Every voxel of a (z, y, x) volume: inside the extent it must equal `expected`, outside it 0. */
export function assertVolume(
  read: ZarrRead,
  extent: { x: [number, number]; y: [number, number]; z: [number, number] },
  expected: (x: number, y: number, z: number) => number,
  skip?: (x: number, y: number, z: number) => boolean,
): void {
  const [Z, Y, X] = read.shape as [number, number, number];
  const bytes = read.dtype === 'uint16' ? 2 : read.dtype === 'uint8' ? 1 : 8;
  const sample = (i: number) =>
    bytes === 1
      ? read.data[i]!
      : bytes === 2
        ? read.data.readUInt16LE(2 * i)
        : Number(read.data.readBigUInt64LE(8 * i));
  let mismatches = 0;
  let first = '';
  for (let z = 0; z < Z; z++) {
    for (let y = 0; y < Y; y++) {
      for (let x = 0; x < X; x++) {
        const inside =
          x >= extent.x[0] &&
          x < extent.x[1] &&
          y >= extent.y[0] &&
          y < extent.y[1] &&
          z >= extent.z[0] &&
          z < extent.z[1];
        if (inside && skip?.(x, y, z)) continue;
        const want = inside ? expected(x, y, z) : 0;
        const got = sample((z * Y + y) * X + x);
        if (got !== want) {
          if (mismatches === 0) first = `first at (x ${x}, y ${y}, z ${z}): got ${got}, expected ${want}`;
          mismatches++;
        }
      }
    }
  }
  if (mismatches > 0) throw new Error(`${mismatches} voxel(s) differ from the source; ${first}`);
}

/**
 * The dev server and temp directory of a describe block: started before its tests, removed after.
 * `use` receives them (the block keeps them in its own variables).
 */
export function useDevServer(prefix: string, use: (server: TestServer, dir: string) => void): void {
  let server: TestServer | undefined;
  let dir: string | undefined;
  before(async () => {
    server = await startTestServer();
    dir = tempDir(prefix);
    use(server, dir);
  });
  after(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}
