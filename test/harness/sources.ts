/**
 * Real servers and writers for the source tests: Python scripts run in the test venv (zarr-python,
 * CloudVolume, h5py), a static HTTP server over a directory, and moto's S3 server on localhost.
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { freePort, REPO, tempDir, venvPython } from './env.js';

/** Runs test/fixtures/volumes/SCRIPT with ARGS; resolves with its stdout parsed as JSON. */
export function runFixtureScript<T>(script: string, args: string[]): Promise<T> {
  const python = venvPython();
  return new Promise((resolve, reject) => {
    execFile(
      python,
      [path.join(REPO, 'test', 'fixtures', 'volumes', script), ...args],
      { maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new Error(
              `${script} failed (${python}; run .ci/run to set up its venv): ${stderr || err.message}`,
            ),
          );
          return;
        }
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? 'null') as T);
      },
    );
  });
}

export interface StaticServer {
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves DIR read-only over HTTP, with Range support and 404 for absent files, like a plain web server. */
export async function serveDirectory(dir: string): Promise<StaticServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url.pathname);
    const file = path.join(dir, decodeURIComponent(url.pathname));
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const size = statSync(file).size;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      let start: number;
      let end: number;
      if (range[1] === '') {
        start = Math.max(0, size - Number(range[2]));
        end = size - 1;
      } else {
        start = Number(range[1]);
        end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
      }
      res.writeHead(206, {
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${size}`,
      });
      createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-length': size });
    createReadStream(file).pipe(res);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface S3Server {
  endpoint: string;
  /** Environment for our S3 reads: endpoint and the test credentials. */
  env: Record<string, string>;
  /** Uploads DIR's files under s3://BUCKET/PREFIX/ (creating the bucket). */
  upload(dir: string, bucket: string, prefix: string): Promise<void>;
  stop(): Promise<void>;
}

const S3_KEYS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

/** moto's S3 server (pip moto[server]) on a free localhost port; it checks SigV4 signatures' form. */
export async function startS3Server(): Promise<S3Server> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(venvPython(), ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto server exited ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto server did not start on ${endpoint}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const env = { ...S3_KEYS, AWS_ENDPOINT_URL: endpoint };
  return {
    endpoint,
    env,
    upload: (dir, bucket, prefix) =>
      new Promise((resolve, reject) =>
        execFile(
          venvPython(),
          [path.join(REPO, 'test', 'fixtures', 'volumes', 's3_upload.py'), dir, bucket, prefix],
          { env: { ...process.env, ...env } },
          (err, _out, stderr) =>
            err ? reject(new Error(`s3 upload failed: ${stderr || err.message}`)) : resolve(),
        ),
      ),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

export interface ServedFixtures<T> {
  /** Where the script wrote its files. */
  dir: string;
  /** What the script printed. */
  written: T;
  http: StaticServer;
  s3: S3Server;
  /** The same files under S3 (the process environment points our S3 reads at the server). */
  s3Root: string;
  stop(): Promise<void>;
}

/**
 * Runs a fixture script into a temp directory and serves the result over HTTP and S3 as well
 * (on `shared`, an S3 server another fixture started, if given: the environment names one).
 */
export async function serveFixtures<T>(
  script: string,
  prefix: string,
  shared?: S3Server,
): Promise<ServedFixtures<T>> {
  const dir = tempDir(prefix);
  const written = await runFixtureScript<T>(script, [dir]);
  const http = await serveDirectory(dir);
  const s3 = shared ?? (await startS3Server());
  await s3.upload(dir, 'lab-data', prefix);
  const savedEnv = Object.fromEntries(Object.keys(s3.env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, s3.env);
  return {
    dir,
    written,
    http,
    s3,
    s3Root: `s3://lab-data/${prefix}`,
    stop: async () => {
      // Restored key by key: a plain object put in place of process.env would no longer reach the
      // threads started after it (a later test's chunk threads would miss what it sets).
      for (const [k, v] of Object.entries(savedEnv)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await http.close();
      if (!shared) await s3.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
