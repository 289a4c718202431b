/**
 * Assembles and writes chunks of one z-slab of a z-index stack (the chunks of one z band, in
 * grid order), reading each slice file of the band once: the band's slices are opened together
 * and advanced one row of chunks at a time, every row of a slice copied into the chunks it
 * covers. Runs inside a chunk thread (see pool.ts), like a row of chunks (row.ts).
 *
 * Memory: a row of chunks (16 x 512 x the extent's width) plus, per slice, either 64 rows of a
 * streamed PNG and its read and inflate buffers (about 2 MiB), or the slice decoded whole when the
 * band's slices together fit wholeSlabBytes(). A slice that can only be decoded whole (JPEG, TIFF, interlaced PNG) in a band too large for that
 * falls back to the row path, which decodes it once per row of chunks but holds one slice at a time.
 */
import type { Range } from '../config/types.js';
import { BYTES_PER_VOXEL, fits } from '../destinations/datatype.js';
import { openDestination } from '../destinations/index.js';
import { boxSize, copyBox, voxelIndex } from '../extent/box.js';
import { chunkBox, chunkRows, coversChunk, wholeChunk } from '../extent/grid.js';
import { indices, tileRange } from '../extent/tiles.js';
import { chunkReason, classify, TileError } from '../errors.js';
import type { ChunkFailure, JobSpec } from '../job/types.js';
import { count } from '../metrics/counters.js';
import type { TileProcessor } from '../plugins/types.js';
import type { RowPlace, RowStream } from '../tiles/rows.js';
import { sampleBytes } from '../tiles/tile.js';
import { keepWholeBuffers } from '../tiles/png-rows.js';
import { chunkBytes } from './row-memory.js';
import { ingestRow, sourceFor, writeChunks, type Failures, type RowChunk, type RowResult } from './row.js';

/**
 * Bytes of decoded slices one slab task may hold at once: BOSS_INGEST_WHOLE_SLAB_MIB, default 256.
 * Bands larger than that stream their PNG slices row by row.
 */
function wholeSlabBytes(): number {
  const mib = Number(process.env.BOSS_INGEST_WHOLE_SLAB_MIB ?? 256);
  return (Number.isFinite(mib) && mib >= 0 ? mib : 256) * 2 ** 20;
}

/** A tile processor whose files each hold a whole z slice (the z-index stack's). */
export interface SliceSource extends TileProcessor {
  openSlice(file: string, whole: boolean): Promise<RowStream | undefined>;
}

export function readsSlices(tile: TileProcessor): tile is SliceSource {
  return typeof (tile as Partial<SliceSource>).openSlice === 'function';
}

/** One slice of the band: its rows, how far they have been read, or why it cannot be. */
interface Slice {
  z: number;
  file: string;
  rows?: RowStream;
  /** Rows read so far. */
  at: number;
  failure?: Omit<ChunkFailure, 'chunk'>;
}

function failureOf(err: unknown, file: string): Omit<ChunkFailure, 'chunk'> {
  if (classify(err) !== 'chunk') throw err;
  return { file: err instanceof TileError && err.file ? err.file : file, reason: chunkReason(err) };
}

/** Opens the band's slices; undefined when one of them cannot be streamed and the band is too large to hold whole. */
async function openSlices(job: JobSpec, first: number, zs: number[]): Promise<Slice[] | undefined> {
  const { config, grid, destination } = job;
  const source = await sourceFor(config);
  const tile = source.tile;
  if (!readsSlices(tile)) throw new Error(`${source.tileClass} does not read whole slices`);
  const { extent } = grid;
  const t = chunkBox(grid, first).t;
  const whole =
    zs.length * extent.x[1] * extent.y[1] * BYTES_PER_VOXEL[destination.datatype] <= wholeSlabBytes();
  // A slab's worth, kept for the next slabs: twice that (a slab a thread) measured no faster.
  if (whole) keepWholeBuffers(wholeSlabBytes());
  const at = tileRange(extent, config.ingest_job.tile_size!);
  const opened = await Promise.allSettled(
    zs.map(async (z): Promise<Slice | undefined> => {
      let file = `slice z ${z}`;
      try {
        file = source.path.process(at.x[0], at.y[0], z, t);
        const rows = await tile.openSlice(file, whole);
        if (!rows) return undefined;
        count('boss_ingest_slices_decoded_total');
        if (!fits(rows.datatype, destination.datatype)) {
          await rows.close();
          throw new TileError(
            file,
            `is ${rows.datatype} but the destination is ${destination.datatype}; it would lose precision`,
          );
        }
        return { z, file, rows, at: 0 };
      } catch (err) {
        return { z, file, at: 0, failure: failureOf(err, file) };
      }
    }),
  );
  const slices = opened.map((o) => (o.status === 'fulfilled' ? o.value : undefined));
  if (opened.every((o) => o.status === 'fulfilled' && o.value)) return slices as Slice[];
  // A slice that cannot be streamed, or an error that ends the slab (retried): close the others.
  await closeSlices(slices);
  const error = opened.find((o) => o.status === 'rejected');
  if (error) throw error.reason;
  return undefined;
}

async function closeSlices(slices: (Slice | undefined)[]): Promise<void> {
  await Promise.all(slices.map((s) => s?.rows?.close()));
}

/** The largest row of chunks a slab holds twice, to decode one while writing the other. */
const PIPELINED_ROW_BYTES = 256 * 2 ** 20;

/** Rows of a slice taken at a time: a streamed slice holds this many rows, not a whole band. */
const ROWS_AT_A_TIME = 64;

/** Reads the slice's rows of the chunk row's band into its chunks. */
async function readBand(job: JobSpec, slice: Slice, chunks: RowChunk[]): Promise<void> {
  const rows = slice.rows!;
  const band = chunks[0]!.box.y;
  const bytes = BYTES_PER_VOXEL[job.destination.datatype];
  const srcBytesPerVoxel = BYTES_PER_VOXEL[rows.datatype];
  // The native stream decodes off this thread and places each row straight into its chunks.
  const rowsInto = srcBytesPerVoxel === bytes ? rows.rowsInto?.bind(rows) : undefined;
  // Rows above the extent, or above the first band of a batch resumed part-way through its slab.
  if (rowsInto && slice.at < band[0]) {
    await rowsInto(band[0] - slice.at, []);
    slice.at = band[0];
  }
  for (; slice.at < band[0]; slice.at += Math.min(ROWS_AT_A_TIME, band[0] - slice.at))
    await rows.rows(Math.min(ROWS_AT_A_TIME, band[0] - slice.at));
  if (rowsInto) {
    const places = chunks.map((c): RowPlace => {
      const whole = wholeChunk(job.grid.chunk, c.box.coord);
      const at = voxelIndex(whole, c.box.x[0], band[0], slice.z);
      return { samples: c.samples, x: c.box.x, offset: at * bytes, stride: boxSize(whole).x * bytes };
    });
    await rowsInto(band[1] - band[0], places);
    count('boss_ingest_source_bytes_read_total', (band[1] - band[0]) * rows.width * bytes);
    slice.at = band[1];
    return;
  }
  while (slice.at < band[1]) {
    const y: Range = [slice.at, Math.min(band[1], slice.at + ROWS_AT_A_TIME)];
    const samples = sampleBytes(await rows.rows(y[1] - y[0]));
    slice.at = y[1];
    count('boss_ingest_source_bytes_read_total', samples.byteLength);
    const box = { x: [0, rows.width] as Range, y, z: [slice.z, slice.z + 1] as Range, t: chunks[0]!.box.t };
    for (const c of chunks)
      copyBox(samples, box, c.samples, wholeChunk(job.grid.chunk, c.box.coord), bytes, {
        within: c.box,
        srcBytesPerVoxel,
      });
  }
}

function addRow(total: RowResult, row: RowResult): void {
  total.written += row.written;
  total.skipped += row.skipped;
  total.voxels += row.voxels;
  total.failures.push(...row.failures);
  if (row.parts) (total.parts ??= []).push(...row.parts);
}

/** Assembles chunks [first, end), all in one z band of the grid, from the band's slices and writes them. */
export async function ingestSlab(job: JobSpec, first: number, end: number): Promise<RowResult> {
  const result: RowResult = { written: 0, skipped: 0, voxels: 0, failures: [] };
  const rows = chunkRows(job.grid, first, end, Number.POSITIVE_INFINITY);
  const slices = await openSlices(job, first, indices(chunkBox(job.grid, first).z));
  if (!slices) {
    for (const [a, b] of rows) addRow(result, await ingestRow(job, a, b));
    return result;
  }
  const { chunk } = job.grid;
  const bytesPerChunk = chunkBytes(chunk, job.destination.datatype);
  // Two rows of chunk buffers for the whole slab, so that the slices decode the next row while this
  // thread compresses and writes the last one; one where a row is too large for two. Fresh buffers
  // for each row of a 16k-wide slab (128 MiB a row) piled up faster than the GC returned them.
  const rowBytes = (rows[0]![1] - rows[0]![0]) * bytesPerChunk;
  const buffers: Uint8Array[][] = rowBytes <= PIPELINED_ROW_BYTES && rows.length > 1 ? [[], []] : [[]];
  const decodeRow = async (k: number): Promise<{ chunks: RowChunk[]; failed: Failures }> => {
    const set = buffers[k % buffers.length]!;
    const chunks: RowChunk[] = indices(rows[k]!).map((index, i) => {
      const box = chunkBox(job.grid, index);
      const samples = set[i] ?? (set[i] = new Uint8Array(bytesPerChunk));
      // A whole chunk's every voxel comes from its slices; one at the extent's edge keeps zeros.
      if (!coversChunk(box, chunk)) samples.fill(0);
      return { index, box, samples };
    });
    // Side by side: a native stream decodes on libuv's threads, and Node's zlib inflates there too.
    // Settled, all of them, before an error that ends the slab closes the slices.
    const read = await Promise.allSettled(
      slices.map(async (slice) => {
        if (slice.failure) return;
        try {
          await readBand(job, slice, chunks);
        } catch (err) {
          slice.failure = failureOf(err, slice.file);
        }
      }),
    );
    for (const r of read) if (r.status === 'rejected') throw r.reason;
    // Taken now: a slice that fails in the next row fails that row's chunks, not these.
    const failed: Failures = new Map();
    for (const slice of slices)
      if (slice.failure)
        for (const c of chunks)
          if (!failed.has(c.index)) failed.set(c.index, { chunk: c.index, ...slice.failure });
    return { chunks, failed };
  };
  let decoded: ReturnType<typeof decodeRow> | undefined;
  try {
    const destination = await openDestination(job.destination);
    decoded = decodeRow(0);
    for (let k = 0; k < rows.length; k++) {
      const { chunks, failed } = await decoded;
      const more = k + 1 < rows.length;
      if (more && buffers.length > 1) decoded = decodeRow(k + 1);
      addRow(result, await writeChunks(destination, chunks, failed));
      if (more && buffers.length === 1) decoded = decodeRow(k + 1);
    }
  } finally {
    // No slice is closed under a decode still running.
    await decoded?.catch(() => undefined);
    await closeSlices(slices);
  }
  return result;
}
