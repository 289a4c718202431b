/** The Python peer (bench/peers/pillow_zarr.py) run in the venv .ci/run sets up. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { venvPython } from '../test/harness/env.js';
import type { BenchStack } from './stack.js';

const SCRIPT = fileURLToPath(new URL('../../bench/peers/pillow_zarr.py', import.meta.url));

/** Pillow + numpy + zarr-python on `processes` processes; decodeOnly: Pillow decoding alone. */
export async function pythonPeer(
  stack: BenchStack,
  options: { decodeOnly?: boolean; processes?: number } = {},
): Promise<{ seconds: number; bytes: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-peer-'));
  const args = [
    SCRIPT,
    stack.root,
    stack.format ?? 'png',
    ...[stack.width, stack.height, stack.depth, stack.tile].map(String),
    path.join(dir, 'peer.zarr'),
    '--processes',
    String(options.processes ?? os.availableParallelism()),
    ...(options.decodeOnly ? ['--decode-only'] : []),
  ];
  try {
    const { stdout } = await promisify(execFile)(venvPython(), args, { maxBuffer: 1 << 20 });
    return JSON.parse(stdout) as { seconds: number; bytes: number };
  } catch (err) {
    throw new Error(
      `the Python peer failed (${venvPython()}; .ci/run sets up its venv): ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
