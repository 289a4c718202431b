/**
 * Assembles and writes one row of chunks: consecutive chunks sharing t, z and y, so every tile
 * along the row is read once. Runs inside a chunk thread (see pool.ts).
 */
import { BossError } from '../boss/api.js';
import type { Datatype, JobConfig } from '../config/types.js';
import { BYTES_PER_VOXEL } from '../destinations/datatype.js';
import { checkTile } from '../tiles/check.js';
import { readChunk, writeChunk } from '../destinations/index.js';
import { boxVoxels, chunkBox, coversChunk, type ChunkBox, type Grid } from '../extent/grid.js';
import { createSource } from '../plugins/index.js';
import type { Source } from '../plugins/types.js';
import type { ChunkFailure, JobSpec } from '../job/types.js';
import { isTransient, TileError, type Tile } from '../tiles/tile.js';
import { count } from '../metrics/counters.js';

export interface RowResult {
  written: number;
  voxels: number;
  failures: ChunkFailure[];
}

/** Sources are set up once per thread and job, not once per row. */
const sources = new Map<string, Promise<Source>>();

function sourceFor(config: JobConfig): Promise<Source> {
  const key = JSON.stringify([config.client.path_processor, config.client.tile_processor, config.ingest_job]);
  let source = sources.get(key);
  if (!source) {
    if (sources.size >= 4) sources.delete(sources.keys().next().value!);
    source = createSource(config);
    sources.set(key, source);
    source.catch(() => sources.delete(key));
  }
  return source;
}

/** A chunk buffer viewed in the destination's datatype; uint64 is written as low and high uint32 words. */
function writeSamples(
  datatype: Datatype,
  chunk: Uint8Array,
  at: number,
  from: Uint8Array | Uint16Array,
): void {
  if (datatype === 'uint8') {
    chunk.set(from, at);
  } else if (datatype === 'uint16') {
    new Uint16Array(chunk.buffer, chunk.byteOffset, chunk.length / 2).set(from, at);
  } else {
    const words = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
    for (let i = 0; i < from.length; i++) words[2 * (at + i)] = from[i]!;
  }
}

/** Copies the part of a tile that falls inside a chunk's box. */
function copyTile(
  tile: Tile,
  xi: number,
  yi: number,
  z: number,
  box: ChunkBox,
  grid: Grid,
  size: { x: number; y: number },
  datatype: Datatype,
  chunk: Uint8Array,
): void {
  const tileX0 = xi * size.x;
  const tileY0 = yi * size.y;
  const x0 = Math.max(box.x[0], tileX0);
  const x1 = Math.min(box.x[1], tileX0 + size.x);
  const y0 = Math.max(box.y[0], tileY0);
  const y1 = Math.min(box.y[1], tileY0 + size.y);
  if (x0 >= x1 || y0 >= y1) return;
  const { x: cx, y: cy, z: cz } = grid.chunk;
  const origin = { x: box.coord.x * cx, y: box.coord.y * cy, z: box.coord.z * cz };
  for (let y = y0; y < y1; y++) {
    const from = (y - tileY0) * tile.width + (x0 - tileX0);
    const at = ((z - origin.z) * cy + (y - origin.y)) * cx + (x0 - origin.x);
    writeSamples(datatype, chunk, at, tile.data.subarray(from, from + (x1 - x0)));
  }
}

function range(first: number, end: number): number[] {
  return Array.from({ length: end - first }, (_, i) => first + i);
}

export async function ingestRow(job: JobSpec, first: number, end: number): Promise<RowResult> {
  const { config, grid, destination } = job;
  const source = await sourceFor(config);
  const size = config.ingest_job.tile_size!;
  const datatype = destination.datatype;
  const chunkBytes = grid.chunk.x * grid.chunk.y * grid.chunk.z * BYTES_PER_VOXEL[datatype];
  const chunks = range(first, end).map((index) => ({
    index,
    box: chunkBox(grid, index),
    samples: new Uint8Array(chunkBytes),
  }));
  const failed = new Map<number, ChunkFailure>();

  // A chunk the extent covers only in part keeps what earlier jobs stored in the rest of it.
  for (const c of chunks) {
    if (!coversChunk(grid, c.box)) {
      const stored = await readChunk(destination, c.box.coord);
      if (stored) c.samples.set(stored);
    }
  }

  const row = chunks[0]!.box;
  const x0 = row.x[0];
  const x1 = chunks[chunks.length - 1]!.box.x[1];
  for (let z = row.z[0]; z < row.z[1]; z++) {
    for (let yi = Math.floor(row.y[0] / size.y); yi * size.y < row.y[1]; yi++) {
      const tiles: { xi: number; targets: typeof chunks }[] = [];
      for (let xi = Math.floor(x0 / size.x); xi * size.x < x1; xi++) {
        const targets = chunks.filter(
          (c) => c.box.x[0] < (xi + 1) * size.x && c.box.x[1] > xi * size.x && !failed.has(c.index),
        );
        if (targets.length > 0) tiles.push({ xi, targets });
      }
      await Promise.all(
        tiles.map(async ({ xi, targets }) => {
          let file = `tile (x ${xi}, y ${yi}, z ${z}, t ${row.t})`;
          try {
            file = source.path.process(xi, yi, z, row.t);
            const tile = await source.tile.process(file, xi, yi, z, row.t);
            count('boss_ingest_tiles_decoded_total');
            count('boss_ingest_source_bytes_read_total', tile.data.byteLength);
            checkTile(tile, file, config.ingest_job, datatype, xi, yi);
            for (const c of targets) copyTile(tile, xi, yi, z, c.box, grid, size, datatype, c.samples);
          } catch (err) {
            if (isTransient(err) || !(err instanceof TileError || err instanceof RangeError)) throw err;
            const reason = err instanceof TileError ? err.reason : err.message;
            for (const c of targets)
              if (!failed.has(c.index)) failed.set(c.index, { chunk: c.index, file, reason });
          }
        }),
      );
    }
  }

  let written = 0;
  let voxels = 0;
  // The row's chunks are written together, so one chunk's encoding overlaps another's upload.
  await Promise.all(
    chunks
      .filter((c) => !failed.has(c.index))
      .map(async (c) => {
        try {
          await writeChunk(destination, c.box, c.samples);
        } catch (err) {
          // The server refused this chunk's data (400, 413): the chunk fails, the job goes on.
          if (!(err instanceof BossError) || (err.status !== 400 && err.status !== 413)) throw err;
          failed.set(c.index, { chunk: c.index, reason: err.message });
          return;
        }
        written++;
        voxels += boxVoxels(c.box);
        count('boss_ingest_chunks_written_total');
        count('boss_ingest_destination_bytes_written_total', boxVoxels(c.box) * BYTES_PER_VOXEL[datatype]);
      }),
  );
  count('boss_ingest_chunks_failed_total', failed.size);
  return { written, voxels, failures: [...failed.values()] };
}
