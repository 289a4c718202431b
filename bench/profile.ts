/**
 * Where a chunk's time goes, measured on one thread in this process for the first rows of a
 * stack: the engine's own row work (ingestRow, as a chunk thread runs it) with its phases timed
 * (src/metrics/phases.ts): reading the tiles, decoding them (straight into the chunks where they
 * fit), copying samples (tiles that do not fit, a pyramid's tile parts), compressing and writing
 * the chunks, and the rest of the row's work. The warm ingest's wall time beyond that work,
 * spread over the threads, is orchestration and hand-off (Temporal, the thread pool).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareJob } from '../src/activities/prepare-job.js';
import { ingestRow } from '../src/chunks/row.js';
import type { JobConfig } from '../src/config/types.js';
import { chunkCount, chunkRows } from '../src/extent/grid.js';
import { PHASES, phaseTotals, profilePhases, type Phase } from '../src/metrics/phases.js';

export type ChunkProfile = Record<Phase | 'other' | 'row', number>;

const ROWS = 4;
const PASSES = 3;

/** Milliseconds per chunk on one thread, each the least of several passes (the machine may be shared). */
export async function profileChunks(config: JobConfig): Promise<ChunkProfile> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-profile-'));
  try {
    const job = {
      ...config,
      client: { ...config.client, backend: { name: 'zarr', path: path.join(dir, 'p.ome.zarr') } },
    } as JobConfig;
    const plan = await prepareJob(job);
    const rows = chunkRows(plan.job.grid, 0, chunkCount(plan.job.grid), 8).slice(0, ROWS);
    const chunks = rows.reduce((n, [first, end]) => n + end - first, 0);
    const least = Object.fromEntries([...PHASES, 'other', 'row'].map((k) => [k, Infinity])) as ChunkProfile;
    for (let pass = 0; pass < PASSES; pass++) {
      profilePhases(true);
      const t0 = performance.now();
      for (const [first, end] of rows) await ingestRow(plan.job, first, end);
      const row = performance.now() - t0;
      const spent = phaseTotals();
      profilePhases(false);
      const other = row - PHASES.reduce((sum, p) => sum + spent[p], 0);
      for (const [k, ms] of Object.entries({ ...spent, other, row }) as [keyof ChunkProfile, number][])
        least[k] = Math.min(least[k], Math.max(0, ms) / chunks);
    }
    return least;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
