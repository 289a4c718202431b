/**
 * Parts of the next level, computed where a chunk is written. With even chunk sizes each voxel of
 * level k+1 comes from one chunk of level k, so whoever writes a level-k chunk already holds what
 * its part of the level-(k+1) chunk above needs: it computes that part (a quarter, an eighth when
 * z is halved too) and stages it beside the volume. Building the level-(k+1) chunk then joins its
 * parts instead of reading and decoding the whole chunks under it again: the ingest's samples feed
 * level 1 directly, level 1's feed level 2, and so on. A level-1 chunk that the batch writing
 * every chunk under it builds itself is held in memory instead (HeldChunk): the parts are written
 * straight into its samples, and nothing is staged for it.
 *
 * A part is only a cache: it records the stored chunk it was computed from (inode, change time,
 * size), and a chunk rewritten since (by a retry, another job) does not match, so its part is
 * ignored and the chunk is read as stored. A missing or unreadable part is read the same way.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Datatype } from '../config/types.js';
import { boxVoxels, copyBox, type Box } from '../extent/box.js';
import { sameCoord, type ChunkCoord, type ChunkShape, type Extent } from '../extent/grid.js';
import { writeAtomically } from '../destinations/atomic-write.js';
import {
  localCall,
  readLocalFile,
  readLocalFileLent,
  statLocal,
  type LentBytes,
} from '../objects/local-file.js';
import { BYTES_PER_VOXEL } from '../destinations/datatype.js';
import { downsampleChunk, type DownsampleTask, type PartIndex } from './downsample.js';
import { halvesZ, type DownsampleMethod, type MultiscaleConfig } from './levels.js';
import { coordAbove } from './job.js';

/** Folder of the volume's staged parts: one sub-folder per job, removed when its pyramid is built. */
export const STAGING_DIR = '.boss-ingest-pyramid';

/** A job's staged parts: where they go, and level 0's extent those of level 1 are computed over. */
export interface PyramidStaging {
  dir: string;
  extent: Extent;
  /** Set per row of a batch: the level-1 chunks its writes put their parts into (see PartStage.hold). */
  hold?: HeldChunk[];
}

export function newStaging(volumePath: string, extent: Extent): PyramidStaging {
  return { dir: path.join(volumePath, STAGING_DIR, randomUUID()), extent };
}

/** What staging a written chunk's part needs: the chunk's level and its extent, the pyramid's rules. */
export interface PartStage {
  dir: string;
  /** The level of the chunk written; its part belongs to level + 1. */
  level: number;
  /** That level's extent. */
  below: Extent;
  method: DownsampleMethod;
  halveZ: boolean;
  datatype: Datatype;
  chunk: ChunkShape;
  /**
   * Chunks above whose parts are written straight into their samples in memory instead of
   * staged: the batch writing every chunk under them builds them as soon as those are written,
   * so a file would be written, read back and removed within the batch, and the parts copied
   * into the chunk once more.
   */
  hold?: readonly HeldChunk[];
}

/** A chunk of level k+1 whose samples, in memory the threads share, the parts of the chunks under it are written into. */
export interface HeldChunk {
  coord: ChunkCoord;
  samples: Uint8Array;
  /**
   * Chunks under it whose parts the row writing them already put in the samples, from the
   * samples it writes (see tile-parts.ts): their writes only record what the parts came from.
   */
  ready?: ChunkCoord[];
}

/**
 * A part written into its held chunk (see PartStage.hold): like a staged part, it records the
 * stored chunk it was computed from, and is used only while that chunk is stored as it was.
 */
export interface HeldPart {
  /** The chunk it was computed from (level k). */
  coord: ChunkCoord;
  stamp: ChunkStamp;
}

/** A held chunk's samples and the parts written into them, as the chunk's build takes them. */
export interface HeldParts {
  samples: Uint8Array;
  parts: HeldPart[];
}

/** The stage of level `level`'s chunks, over that level's extent `below`, by the pyramid's rules. */
export function partStage(
  dir: string,
  level: number,
  below: Extent,
  multiscale: MultiscaleConfig,
  volume: { datatype: Datatype; chunk: ChunkShape },
): PartStage {
  const { method, downsample } = multiscale;
  return {
    dir,
    level,
    below,
    method,
    halveZ: halvesZ(downsample),
    datatype: volume.datatype,
    chunk: volume.chunk,
  };
}

/** The stored chunk a part was computed from: a rewrite (a rename over it) changes all of these. */
export interface ChunkStamp {
  ino: bigint;
  ctimeNs: bigint;
  size: bigint;
}

/**
 * The stamp of a chunk as stored, undefined when it was never written. A pyramid build asks for
 * dozens, on the calling thread while the volume answers fast (see objects/local-file.ts).
 */
export async function chunkStamp(file: string): Promise<ChunkStamp | undefined> {
  const s = await statLocal(file);
  return s && { ino: s.ino, ctimeNs: s.ctimeNs, size: s.size };
}

const HEADER = 24;

function partIndex(coord: ChunkCoord, halveZ: boolean): PartIndex {
  return { x: coord.x % 2, y: coord.y % 2, z: halveZ ? coord.z % 2 : 0 };
}

/** The voxels of the level-(k+1) chunk (in its own coordinates) that a part covers. */
export function partBox(part: PartIndex, chunk: ChunkShape, halveZ: boolean): Box {
  const half = (i: number, size: number): [number, number] => [(i * size) / 2, ((i + 1) * size) / 2];
  return {
    x: half(part.x, chunk.x),
    y: half(part.y, chunk.y),
    z: halveZ ? half(part.z, chunk.z) : [0, chunk.z],
    t: 0,
  };
}

function chunkLocal(chunk: ChunkShape): Box {
  return { x: [0, chunk.x], y: [0, chunk.y], z: [0, chunk.z], t: 0 };
}

/** What computing a part needs: the pyramid's rules and the extent of the chunk's level. */
export type PartRules = Pick<DownsampleTask, 'below' | 'method' | 'halveZ' | 'datatype' | 'chunk'>;

/**
 * The part of the level-(k+1) chunk above that the level-k chunk at `coord` gives, from that
 * chunk's samples: written into `into` (the chunk above's samples), or alone, over its own box.
 */
export function downsamplePart(
  rules: PartRules,
  coord: ChunkCoord,
  samples: Uint8Array,
  into?: Uint8Array,
): Uint8Array {
  const { halveZ } = rules;
  const part = partIndex(coord, halveZ);
  const inputs: (Uint8Array | undefined)[] = new Array(halveZ ? 8 : 4).fill(undefined);
  inputs[(part.z * 2 + part.y) * 2 + part.x] = samples;
  const { below, method, datatype, chunk } = rules;
  const task = { below, method, datatype, chunk, halveZ, coord: coordAbove(coord, halveZ), inputs, part };
  return downsampleChunk(task, into);
}

/** The file of the part a level-k chunk gives level k+1. */
function partFile(stage: Pick<PartStage, 'dir' | 'level'>, coord: ChunkCoord): string {
  return path.join(stage.dir, `${stage.level + 1}.${coord.t}.${coord.z}.${coord.y}.${coord.x}`);
}

/**
 * Computes the part of the level-(k+1) chunk that the level-k chunk at `coord` feeds, from its
 * whole chunk's samples as stored (`stamp`), and stages it; when the stage holds the chunk above,
 * writes it into that chunk's samples instead and returns what it was computed from. Best
 * effort: a part that cannot be written is only a cache missed, so errors are not the write's.
 */
export async function stagePart(
  stage: PartStage,
  coord: ChunkCoord,
  samples: Uint8Array,
  stamp: ChunkStamp,
): Promise<HeldPart | undefined> {
  const above = coordAbove(coord, stage.halveZ);
  const held = stage.hold?.find((c) => sameCoord(c.coord, above));
  if (held) {
    if (!held.ready?.some((c) => sameCoord(c, coord))) downsamplePart(stage, coord, samples, held.samples);
    return { coord, stamp };
  }
  const samplesOfPart = downsamplePart(stage, coord, samples);
  const head = new Uint8Array(HEADER);
  const fields = new DataView(head.buffer);
  fields.setBigUint64(0, stamp.ino, true);
  fields.setBigUint64(8, stamp.ctimeNs, true);
  fields.setBigUint64(16, stamp.size, true);
  try {
    await writeAtomically(partFile(stage, coord), [head, samplesOfPart]);
  } catch {
    // A part not staged is read from its chunk instead.
  }
  return undefined;
}

/**
 * Copies the staged part of the level-k chunk at `coord` into `out` (the level-(k+1) chunk's
 * samples) when there is one computed from the chunk as stored now (`stamp`); false otherwise.
 */
export async function joinPart(
  stage: Pick<PartStage, 'dir' | 'level' | 'chunk' | 'halveZ' | 'datatype'>,
  coord: ChunkCoord,
  stamp: ChunkStamp | undefined,
  out: Uint8Array,
): Promise<boolean> {
  if (!stamp) return false;
  let lent: LentBytes;
  try {
    lent = await readLocalFileLent(partFile(stage, coord));
  } catch {
    return false;
  }
  try {
    const file = lent.bytes;
    const { chunk, halveZ, datatype } = stage;
    const box = partBox(partIndex(coord, halveZ), chunk, halveZ);
    const bytes = BYTES_PER_VOXEL[datatype];
    if (file.length !== HEADER + boxVoxels(box) * bytes) return false;
    const head = new DataView(file.buffer, file.byteOffset, HEADER);
    const from = {
      ino: head.getBigUint64(0, true),
      ctimeNs: head.getBigUint64(8, true),
      size: head.getBigUint64(16, true),
    };
    if (!sameStamp(from, stamp)) return false;
    copyBox(file.subarray(HEADER), box, out, chunkLocal(chunk), bytes);
    return true;
  } finally {
    lent.release();
  }
}

export function sameStamp(a: ChunkStamp, b: ChunkStamp | undefined): boolean {
  return b !== undefined && a.ino === b.ino && a.ctimeNs === b.ctimeNs && a.size === b.size;
}

/** Sets the voxels of the part the level-k chunk at `coord` gives its chunk above (`out`) to 0. */
export function clearPart(
  stage: Pick<PartStage, 'chunk' | 'halveZ' | 'datatype'>,
  coord: ChunkCoord,
  out: Uint8Array,
): void {
  const { chunk, halveZ, datatype } = stage;
  const box = partBox(partIndex(coord, halveZ), chunk, halveZ);
  const bytes = BYTES_PER_VOXEL[datatype];
  const width = (box.x[1] - box.x[0]) * bytes;
  for (let z = box.z[0]; z < box.z[1]; z++)
    for (let y = box.y[0]; y < box.y[1]; y++) {
      const at = ((z * chunk.y + y) * chunk.x + box.x[0]) * bytes;
      out.fill(0, at, at + width);
    }
}

/** Removes a part once the chunk above is built from it. */
export async function dropPart(stage: Pick<PartStage, 'dir' | 'level'>, coord: ChunkCoord): Promise<void> {
  const file = partFile(stage, coord);
  await localCall(
    () => rmSync(file, { force: true }),
    () => rm(file, { force: true }),
  );
}

/**
 * A chunk built early (by the batch that wrote every chunk under it) is marked with what it was
 * built from, `inputs` (the stamps of the chunks under it): the level's own batch then skips it
 * while those chunks are stored as they were. Only this job's staging holds such marks, so no
 * other build (`downsample VOLUME`, another job) ever skips a chunk. Best effort, as parts are.
 */
export async function markBuilt(
  dir: string,
  level: number,
  coord: ChunkCoord,
  inputs: string,
): Promise<void> {
  try {
    await writeAtomically(builtFile(dir, level, coord), [Buffer.from(inputs)]);
  } catch {
    // Unmarked, the chunk is built again by its level's batch.
  }
}

/** Whether the chunk was built early from chunks stored as `inputs()` (asked only when it was) describes them. */
export async function builtFrom(
  dir: string,
  level: number,
  coord: ChunkCoord,
  inputs: () => Promise<string>,
): Promise<boolean> {
  let mark: string;
  try {
    mark = (await readLocalFile(builtFile(dir, level, coord))).toString('utf8');
  } catch {
    return false;
  }
  return mark === (await inputs());
}

function builtFile(dir: string, level: number, coord: ChunkCoord): string {
  return path.join(dir, `built.${level}.${coord.t}.${coord.z}.${coord.y}.${coord.x}`);
}

/** Removes a job's staged parts (what a failed or cancelled job, or a skipped chunk, left). */
export async function dropStaging(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
