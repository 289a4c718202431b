/**
 * A pyramid in a zarr volume: level k+1's chunks computed from level k's as stored. A chunk needs
 * only the (up to 8) chunks under it, so any set of one level's chunks is independent work once
 * the level below is written, and a chunk rebuilt twice comes out the same (idempotent).
 */
import {
  chunkFile,
  openPyramid,
  readZarrChunk,
  writeZarrChunk,
  writeZarrShard,
} from '../destinations/zarr.js';
import { chunkBytes } from '../chunks/row-memory.js';
import {
  boxOfChunk,
  chunkBox,
  chunkCount,
  chunkIndex,
  sameCoord,
  type ChunkBox,
  type ChunkCoord,
} from '../extent/grid.js';
import { downsampleChunk, type DownsampleTask } from './downsample.js';
import { halvesZ, partsPossible } from './levels.js';
import { coordAbove, inputsOf, levelGrid, topOf, type PyramidJob } from './job.js';
import {
  builtFrom,
  chunkStamp,
  downsamplePart,
  dropPart,
  clearPart,
  joinPart,
  markBuilt,
  partStage,
  sameStamp,
  type ChunkStamp,
  type HeldParts,
  type PartStage,
} from './staging.js';

/** Creates arrays 1..top (empty ones when the whole pyramid is built) and lists them in the group's multiscales. */
export function preparePyramid(job: PyramidJob): Promise<void> {
  return openPyramid(job.volume, topOf(job), job.multiscale, job.extents[0]!, !job.regions);
}

/**
 * The parts staged by level `level`'s chunks (for level + 1), with what computing them needs;
 * undefined when that level stages none, or (`reading`) when its parts cannot be trusted.
 */
function stageOf(job: PyramidJob, level: number, reading = false): PartStage | undefined {
  const { staging, volume, multiscale } = job;
  if (!staging || level >= topOf(job) || (reading && level === 0 && !staging.level0)) return undefined;
  return partStage(staging.dir, level, job.extents[level]!, multiscale, volume);
}

/** A level-(k+1) chunk computed: its voxels inside the level's extent, its samples, the parts it joined. */
interface Computed {
  box: ChunkBox;
  samples: Uint8Array;
  joined: ChunkCoord[];
}

/**
 * Chunk `index` of level `level` (1..top) as the pyramid's definition gives it from level
 * `level - 1` as stored: the whole chunk's samples, and the part of it inside the level's extent.
 * With `useParts`, each input's part is taken from the staged parts where one matches the input
 * as stored, and computed from the input read back otherwise. With `held`, the samples are the
 * held chunk's, its parts already in place where they match the inputs as stored. `stamps`: the
 * inputs' stamps when the caller has taken them (see inputStamps), so they are not taken twice.
 */
export async function computePyramidChunk(
  job: PyramidJob,
  level: number,
  index: number,
  useParts = false,
  held?: HeldParts,
  stamps?: Promise<InputStamps>,
): Promise<Computed> {
  const { volume } = job;
  const { coord } = chunkBox(levelGrid(job, level), index);
  // The chunk's voxels inside the level's extent: all of them are recomputed, not only the region's.
  const box = boxOfChunk({ extent: job.extents[level]!, chunk: volume.chunk }, coord);
  const halveZ = halvesZ(job.multiscale.downsample);
  const inputs = inputsOf(job, level, coord);
  const task: DownsampleTask = {
    datatype: volume.datatype,
    method: job.multiscale.method,
    chunk: volume.chunk,
    below: job.extents[level - 1]!,
    halveZ,
    coord,
    inputs: [],
  };
  const read = (input: ChunkCoord | undefined) =>
    input ? readZarrChunk(volume, input, level - 1) : Promise.resolve(undefined);
  const parts = useParts ? stageOf(job, level - 1, true) : undefined;
  // Shards are large: theirs are taken one at a time, each into its part of the output.
  const oneByOne = volume.innerChunk !== undefined && partsPossible(volume.chunk, halveZ);
  if (!parts && !oneByOne && !held) {
    const samples = downsampleChunk({ ...task, inputs: await Promise.all(inputs.map(read)) });
    return { box, samples, joined: [] };
  }
  // Each voxel's block lies in one input: the chunk is the sum of its inputs' parts.
  const samples = held?.samples ?? new Uint8Array(chunkBytes(volume.chunk, volume.datatype));
  const joined: ChunkCoord[] = [];
  const add = async (input: ChunkCoord | undefined, at: number) => {
    if (!input) return;
    const stamp = stamps ? (await stamps)[at] : await chunkStamp(chunkFile(volume, input, level - 1));
    if (held?.parts.some((part) => sameCoord(part.coord, input) && sameStamp(part.stamp, stamp))) return;
    if (!stamp) {
      // Never written: zeros, which fresh samples are; held ones may hold another chunk's.
      if (held) clearPart(task, input, samples);
      return;
    }
    if (parts && (await joinPart(parts, input, stamp, samples))) {
      joined.push(input);
      return;
    }
    const stored = await read(input);
    if (stored) downsamplePart(task, input, stored, samples);
  };
  if (oneByOne) for (const [at, input] of inputs.entries()) await add(input, at);
  else await Promise.all(inputs.map(add));
  return { box, samples, joined };
}

/** The chunks under a level's chunk as stored now, in inputsOf's order (undefined: none there, or never written). */
type InputStamps = (ChunkStamp | undefined)[];

function inputStamps(job: PyramidJob, level: number, coord: ChunkCoord): Promise<InputStamps> {
  return Promise.all(
    inputsOf(job, level, coord).map((input) =>
      input ? chunkStamp(chunkFile(job.volume, input, level - 1)) : undefined,
    ),
  );
}

/** Stamps as a mark records them (see markBuilt): inode, change time, size of each, as text. */
function stampsText(stamps: InputStamps): string {
  return JSON.stringify(stamps.map((s) => (s ? [s.ino, s.ctimeNs, s.size].map(String) : null)));
}

/** Whether chunk `coord` of `level` was built early from its inputs as stored now (see markBuilt). */
function builtEarly(dir: string, job: PyramidJob, level: number, coord: ChunkCoord): Promise<boolean> {
  return builtFrom(dir, level, coord, async () => stampsText(await inputStamps(job, level, coord)));
}

/**
 * Computes and stores chunk `index` of level `level` (1..top), from the staged parts of the
 * chunks under it where the job has them, and stages its own part of the chunk above. Voxels of
 * the chunk outside the level's extent keep what the volume holds there, as an ingest over part
 * of a chunk does. `early`: built by the batch that wrote the chunks under it, and marked so
 * (see markBuilt); a chunk so marked and still current is skipped. Returns whether it was built.
 */
export async function buildPyramidChunk(
  job: PyramidJob,
  level: number,
  index: number,
  early = false,
  held?: HeldParts,
): Promise<boolean> {
  const dir = job.staging?.dir;
  const { coord } = chunkBox(levelGrid(job, level), index);
  if (dir && !early && (await builtEarly(dir, job, level, coord))) return false;
  // An early build's mark records the stamps its parts were matched against: an input rewritten
  // since makes the mark stale, and the level's batch builds the chunk again.
  const stamps = dir && early ? inputStamps(job, level, coord) : undefined;
  // Awaited below, unless computing fails first: that failure is the one to report.
  stamps?.catch(() => undefined);
  const { box, samples, joined } = await computePyramidChunk(job, level, index, true, held, stamps);
  // The volume merges a chunk the level's extent covers in part into what it holds, under its lock.
  const write = job.volume.innerChunk ? writeZarrShard : writeZarrChunk;
  await write(job.volume, box, samples, level, stageOf(job, level));
  const used = stageOf(job, level - 1);
  await Promise.all([
    ...(used ? joined.map((input) => dropPart(used, input)) : []),
    dir && stamps ? stamps.then((s) => markBuilt(dir, level, coord, stampsText(s))) : undefined,
  ]);
  return true;
}

/**
 * Builds chunk `index` of level `level` early (see buildPyramidChunk), then the chunk above it
 * while every chunk under that one the job rebuilds is built early and current, and so on up: of
 * the batches that wrote a chunk's inputs, the last to finish builds it, so the pyramid keeps pace
 * with level 0. Two batches finishing at once may both build a chunk, which comes out the same.
 * `held`: the first chunk's samples as the batch wrote its inputs' parts into them. Returns the chunks
 * built, as (level, index).
 */
export async function buildEarly(
  job: PyramidJob,
  level: number,
  index: number,
  held?: HeldParts,
): Promise<[level: number, index: number][]> {
  const halveZ = halvesZ(job.multiscale.downsample);
  const dir = job.staging?.dir;
  const built: [number, number][] = [];
  for (let at = level, i: number | undefined = index; i !== undefined; at++) {
    await buildPyramidChunk(job, at, i, true, at === level ? held : undefined);
    built.push([at, i]);
    if (!dir || at >= topOf(job)) break;
    const above = coordAbove(chunkBox(levelGrid(job, at), i).coord, halveZ);
    i = chunkIndex(levelGrid(job, at + 1), above);
    if (i === undefined) break;
    // Chunks outside the region the job rebuilds keep what they hold. The inputs are asked at
    // once: this runs after a batch's last rows, while its threads wait for it.
    const rebuilt = inputsOf(job, at + 1, above).filter(
      (input): input is ChunkCoord =>
        input !== undefined && chunkIndex(levelGrid(job, at), input) !== undefined,
    );
    const current = await Promise.all(rebuilt.map((input) => builtEarly(dir, job, at, input)));
    if (!current.every(Boolean)) return built;
  }
  return built;
}

/** Every level in turn, chunk by chunk, on this thread: for the CLI's small volumes and tests. */
export async function buildPyramid(job: PyramidJob): Promise<void> {
  await preparePyramid(job);
  for (let level = 1; level <= topOf(job); level++) {
    const count = chunkCount(levelGrid(job, level));
    for (let i = 0; i < count; i++) await buildPyramidChunk(job, level, i);
  }
}
