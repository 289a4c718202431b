/**
 * Where a chunk's time goes, measured on one thread in this process for the first rows of a
 * stack: reading the tiles, decoding them, assembling the chunks (the engine's row work that is
 * neither decoding nor writing), compressing and writing them. The warm ingest's wall time beyond
 * that work, spread over the threads, is orchestration and hand-off (Temporal, the thread pool).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareJob } from '../src/activities/prepare-job.js';
import { ingestRow } from '../src/chunks/row.js';
import type { JobConfig } from '../src/config/types.js';
import { encodeChunk } from '../src/destinations/codec.js';
import { chunkBox, chunkCount, chunkRows } from '../src/extent/grid.js';
import { decodeGreyImage } from '../src/tiles/decode.js';
import { tilePath, type BenchStack } from './stack.js';

export interface ChunkProfile {
  /** Milliseconds per chunk on one thread. */
  read: number;
  decode: number;
  assemble: number;
  compress: number;
  write: number;
  /** The engine's whole row work per chunk (all of the above, as ingestRow does it). */
  row: number;
}

const ROWS = 4;
const PASSES = 3;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await work();
  return [value, performance.now() - t0];
}

/** `config` is the stack's job config; its backend is replaced by a temporary OME-Zarr volume. */
export async function profileChunks(stack: BenchStack, config: JobConfig): Promise<ChunkProfile> {
  const sharp = (await import('sharp')).default;
  sharp.concurrency(1);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-profile-'));
  try {
    const job = {
      ...config,
      client: { ...config.client, backend: { name: 'zarr', path: path.join(dir, 'p.ome.zarr') } },
    } as JobConfig;
    const plan = await prepareJob(job);
    const rows = chunkRows(plan.job.grid, 0, chunkCount(plan.job.grid), 8).slice(0, ROWS);
    const chunks = rows.flatMap(([first, end]) => Array.from({ length: end - first }, (_, i) => first + i));
    const least = { read: Infinity, decode: Infinity, compress: Infinity, write: Infinity, row: Infinity };
    // The least of several passes for each part: the machine may be shared.
    for (let pass = 0; pass < PASSES; pass++) {
      const ms = { read: 0, decode: 0, compress: 0, write: 0, row: 0 };
      for (const index of chunks) {
        const box = chunkBox(plan.job.grid, index);
        const files: string[] = [];
        for (let z = box.z[0]; z < box.z[1]; z++)
          files.push(tilePath(stack, box.x[0] / stack.tile, box.y[0] / stack.tile, z));
        ms.read += (await timed(() => Promise.all(files.map((f) => readFile(f)))))[1];
        const tiles: Uint8Array[] = [];
        for (const f of files) {
          const [tile, t] = await timed(() => decodeGreyImage(f));
          ms.decode += t;
          tiles.push(new Uint8Array(tile.data.buffer, tile.data.byteOffset, tile.data.byteLength));
        }
        const [encoded, t] = await timed(() => encodeChunk('blosc', Buffer.concat(tiles)));
        ms.compress += t;
        ms.write += (await timed(() => writeFile(path.join(dir, `${index}.chunk`), encoded)))[1];
      }
      // decodeGreyImage reads the file too: decoding is what it takes beyond the read.
      ms.decode -= ms.read;
      for (const [first, end] of rows) ms.row += (await timed(() => ingestRow(plan.job, first, end)))[1];
      for (const k of Object.keys(least) as (keyof typeof least)[])
        least[k] = Math.min(least[k], ms[k] / chunks.length);
    }
    const assemble = Math.max(0, least.row - least.read - least.decode - least.compress - least.write);
    return { ...least, assemble };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
