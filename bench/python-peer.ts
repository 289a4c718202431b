/** The Python peers (bench/peers/*.py) run in the venv .ci/run sets up. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { venvPython } from '../test/harness/env.js';
import type { BenchStack } from './stack.js';

const PEERS = fileURLToPath(new URL('../../bench/peers/', import.meta.url));

async function runPeer(script: string, args: string[]): Promise<{ seconds: number; bytes: number }> {
  try {
    const { stdout } = await promisify(execFile)(venvPython(), [path.join(PEERS, script), ...args], {
      maxBuffer: 1 << 20,
    });
    return JSON.parse(stdout) as { seconds: number; bytes: number };
  } catch (err) {
    throw new Error(
      `the Python peer ${script} failed (${venvPython()}; .ci/run sets up its venv): ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Pillow + numpy + zarr-python on `processes` processes; decodeOnly: Pillow decoding alone. */
export async function pythonPeer(
  stack: BenchStack,
  options: { decodeOnly?: boolean; processes?: number } = {},
): Promise<{ seconds: number; bytes: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-peer-'));
  const args = [
    stack.root,
    stack.format ?? 'png',
    ...[stack.width, stack.height, stack.depth, stack.tile].map(String),
    path.join(dir, 'peer.zarr'),
    '--processes',
    String(options.processes ?? os.availableParallelism()),
    ...(options.decodeOnly ? ['--decode-only'] : []),
    ...(stack.layout === 'zindex' ? ['--zindex'] : []),
  ];
  try {
    return await runPeer('pillow_zarr.py', args);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** tifffile + zarr-python: a time series of one multipage TIFF per z slice into (t, z, y, x). */
export async function tifffilePeer(
  files: string[],
  pages: number,
): Promise<{ seconds: number; bytes: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-peer-'));
  try {
    const processes = String(os.availableParallelism());
    return await runPeer('tifffile_zarr.py', [
      path.join(dir, 'peer.zarr'),
      String(pages),
      ...files,
      '--processes',
      processes,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
