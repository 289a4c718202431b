/**
 * Assembles and writes one row of chunks: consecutive chunks sharing t, z and y, so every tile
 * along the row is read once. Runs inside a chunk thread (see pool.ts).
 */
import type { JobConfig } from '../config/types.js';
import { BYTES_PER_VOXEL } from '../destinations/datatype.js';
import { checkTile } from '../tiles/check.js';
import { openDestination, type OpenDestination } from '../destinations/index.js';
import { boxVoxels, copyBox, intersect, type Box } from '../extent/box.js';
import { chunkBox, coversChunk, wholeChunk, type ChunkBox } from '../extent/grid.js';
import { indices, tileBox, tileRange } from '../extent/tiles.js';
import { createSource } from '../plugins/index.js';
import { chunkBytes } from './row-memory.js';
import { SpareBuffers } from './spare.js';
import { fillFromVolume } from './volume-fill.js';
import type { Source } from '../plugins/types.js';
import type { ChunkFailure, JobSpec } from '../job/types.js';
import { BossError, chunkReason, classify, TileError } from '../errors.js';
import { count } from '../metrics/counters.js';
import { inPhase } from '../metrics/phases.js';
import { sampleBytes, type Tile, type TilePlace } from '../tiles/tile.js';
import type { HeldPart } from '../pyramid/staging.js';
import { TileParts } from '../pyramid/tile-parts.js';

export interface RowResult {
  written: number;
  /** Chunks the destination chose not to store (all zeros, with skip_zero_chunks). */
  skipped: number;
  /** Voxels of the chunks written (skipped ones not included). */
  voxels: number;
  failures: ChunkFailure[];
  /** Pyramid parts the destination wrote into held level-1 samples (see PartStage.hold). */
  parts?: HeldPart[];
}

/** One chunk of the row being assembled: its voxels inside the extent and the whole chunk's samples. */
export interface RowChunk {
  index: number;
  box: ChunkBox;
  samples: Uint8Array;
}

/** Chunks of the row that failed, by index, with the reason. */
export type Failures = Map<number, ChunkFailure>;

/** Sources are set up once per thread and job, not once per row. */
const sources = new Map<string, Promise<Source>>();

export function sourceFor(config: JobConfig): Promise<Source> {
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

type TileAt = { xi: number; yi: number; z: number };

/** Copies the part of a tile at (xi, yi, z) that falls inside a chunk's box into the chunk's samples. */
function copyTile(tile: Tile, at: TileAt, job: JobSpec, chunk: RowChunk): void {
  const size = job.config.ingest_job.tile_size!;
  copyBox(
    sampleBytes(tile.data),
    tileBox(at.xi, at.yi, at.z, chunk.box.t, size, tile.width, tile.height),
    chunk.samples,
    wholeChunk(job.grid.chunk, chunk.box.coord),
    BYTES_PER_VOXEL[job.destination.datatype],
    { within: chunk.box, srcBytesPerVoxel: BYTES_PER_VOXEL[tile.datatype] },
  );
}

/**
 * Where a tile's samples go in the one chunk it falls in, when it lies inside the chunk's part of
 * the extent: a decoder can write them there (see TilePlace); undefined otherwise.
 */
function placeInChunk(cell: Box, job: JobSpec, chunk: RowChunk): TilePlace | undefined {
  const inside = (r: [number, number], within: [number, number]) => r[0] >= within[0] && r[1] <= within[1];
  if (!inside(cell.x, chunk.box.x) || !inside(cell.y, chunk.box.y) || !inside(cell.z, chunk.box.z))
    return undefined;
  const whole = wholeChunk(job.grid.chunk, chunk.box.coord);
  const bytesPerSample = BYTES_PER_VOXEL[job.destination.datatype];
  const { x, y } = job.grid.chunk;
  const voxel = ((cell.z[0] - whole.z[0]) * y + (cell.y[0] - whole.y[0])) * x + (cell.x[0] - whole.x[0]);
  return {
    samples: chunk.samples,
    start: voxel * bytesPerSample,
    rowBytes: x * bytesPerSample,
    width: cell.x[1] - cell.x[0],
    height: cell.y[1] - cell.y[0],
    bytesPerSample,
  };
}

/**
 * Reads every tile the row's chunks need, each once, decoded straight into the one chunk it lies
 * in when its decoder can (see TilePlace), else copied into the chunks it overlaps. A bad tile
 * fails the chunks it belongs to (recorded in `failed`); other errors end the row.
 */
async function fillFromTiles(
  job: JobSpec,
  source: Source,
  chunks: RowChunk[],
  failed: Failures,
  parts?: TileParts,
): Promise<void> {
  const { config, destination } = job;
  const size = config.ingest_job.tile_size!;
  const row = chunks[0]!.box;
  const tiles = tileRange(
    { x: [row.x[0], chunks[chunks.length - 1]!.box.x[1]], y: row.y, z: row.z, t: [row.t, row.t + 1] },
    size,
  );
  for (const z of indices(tiles.z)) {
    for (const yi of indices(tiles.y)) {
      const reads = indices(tiles.x)
        .map((xi) => {
          const cell = tileBox(xi, yi, z, row.t, size);
          const targets = chunks.filter((c) => !failed.has(c.index) && intersect(cell, c.box));
          const at = targets.length === 1 ? placeInChunk(cell, job, targets[0]!) : undefined;
          return { xi, targets, at };
        })
        .filter((read) => read.targets.length > 0);
      await Promise.all(
        reads.map(async ({ xi, targets, at }) => {
          let file = `tile (x ${xi}, y ${yi}, z ${z}, t ${row.t})`;
          try {
            file = source.path.process(xi, yi, z, row.t);
            const tile = await source.tile.process(file, xi, yi, z, row.t, at);
            count('boss_ingest_tiles_decoded_total');
            count(
              'boss_ingest_source_bytes_read_total',
              tile.width * tile.height * BYTES_PER_VOXEL[tile.datatype],
            );
            checkTile(tile, file, config.ingest_job, destination.datatype, xi, yi);
            inPhase('copy', () => {
              if (!tile.placed) for (const c of targets) copyTile(tile, { xi, yi, z }, job, c);
              if (!parts) return;
              const box = tileBox(xi, yi, z, row.t, size, tile.width, tile.height);
              for (const c of targets) parts.tile(c, box);
            });
          } catch (err) {
            if (classify(err) !== 'chunk') throw err;
            const reason = chunkReason(err);
            // A TileError names what it read (a URL, when the path processor gives no file).
            if (err instanceof TileError && err.file) file = err.file;
            for (const c of targets)
              if (!failed.has(c.index)) failed.set(c.index, { chunk: c.index, file, reason });
          }
        }),
      );
    }
  }
}

/**
 * Hands the row's chunks that did not fail to the destination, all together, so one chunk's
 * encoding overlaps another's upload; counts what the destination wrote and what it skipped.
 */
export async function writeChunks(
  destination: OpenDestination,
  chunks: RowChunk[],
  failed: Failures,
): Promise<RowResult> {
  const result: RowResult = { written: 0, skipped: 0, voxels: 0, failures: [] };
  const bytesPerVoxel = BYTES_PER_VOXEL[destination.spec.datatype];
  await Promise.all(
    chunks
      .filter((c) => !failed.has(c.index))
      .map(async (c) => {
        let outcome;
        try {
          outcome = await destination.write(c.box, c.samples);
        } catch (err) {
          // The server refused this chunk's data (400, 413): the chunk fails, the job goes on. Its
          // storage layer failing (400 code 9001) is not a refusal: the batch is retried.
          if (!(err instanceof BossError && err.refusedChunk)) throw err;
          failed.set(c.index, { chunk: c.index, reason: err.message });
          return;
        }
        if ('skipped' in outcome) {
          result.skipped++;
        } else {
          if (outcome.part) (result.parts ??= []).push(outcome.part);
          result.written++;
          result.voxels += boxVoxels(c.box);
          count('boss_ingest_chunks_written_total');
          count('boss_ingest_destination_bytes_written_total', boxVoxels(c.box) * bytesPerVoxel);
        }
      }),
  );
  count('boss_ingest_chunks_failed_total', failed.size);
  result.failures = [...failed.values()];
  return result;
}

/** Chunk samples the thread's rows give back once written, taken again (zeroed) by the next row. */
const spareSamples = new SpareBuffers(64 * 2 ** 20);

/** Assembles chunks [first, end), one row of the grid, from their tiles and writes them. */
export async function ingestRow(job: JobSpec, first: number, end: number): Promise<RowResult> {
  const parts = TileParts.of(job.destination, job.grid, first, end);
  const { chunks, failed } = await assembleRow(job, first, end, parts);
  const destination = await openDestination(parts?.writeSpec(failed) ?? job.destination);
  const result = await writeChunks(destination, chunks, failed);
  // Only now, every write done: after a failed one, others may still be reading their samples.
  releaseRow(chunks);
  return result;
}

/** Gives the row's chunk samples back to the thread, once nothing reads them any more. */
export function releaseRow(chunks: RowChunk[]): void {
  for (const c of chunks) spareSamples.give(c.samples);
}

/**
 * Chunks [first, end), one row of the grid, as the source gives them (what the ingest writes and
 * verify compares), with the chunks that could not be assembled.
 */
export async function assembleRow(
  job: JobSpec,
  first: number,
  end: number,
  /** The ingest's: level-1 parts taken tile by tile (see tile-parts.ts). */
  parts?: TileParts,
): Promise<{ chunks: RowChunk[]; failed: Failures }> {
  const volumetric = job.config.ingest_job.ingest_type === 'volumetric';
  const bytes = chunkBytes(job.grid.chunk, job.destination.datatype);
  const chunks: RowChunk[] = indices([first, end]).map((index) => {
    const box = chunkBox(job.grid, index);
    // A chunk inside the extent gets every voxel from its tiles (each is checked to cover its part,
    // or the chunk fails and is not written): a spare buffer need not be zeroed first, 4 MiB a chunk.
    // A volume's reader may leave what lies outside its source to the zeros.
    const zeroed = volumetric || !coversChunk(box, job.grid.chunk);
    return { index, box, samples: spareSamples.take(bytes, zeroed) };
  });
  const failed: Failures = new Map();
  if (volumetric) await fillFromVolume(job, chunks, failed);
  else await fillFromTiles(job, await sourceFor(job.config), chunks, failed, parts);
  return { chunks, failed };
}
