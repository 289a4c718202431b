/**
 * The local destination: an OME-Zarr 0.5 volume (Zarr v3) with one array `0` in absolute
 * coordinates: source voxel (x, y, z) at 0[z][y][x], or 0[t][z][y][x] for time series.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { jobWantsDirectIo } from '../objects/direct-io.js';
import { readLocalFile, readLocalFileLent } from '../objects/local-file.js';
import type { Compressor } from '../config/types.js';
import { boxVoxels, copyBox, intersect, type Box } from '../extent/box.js';
import { chunkBytes, ROW_BYTES } from '../chunks/row-memory.js';
import { SpareBuffers } from '../chunks/spare.js';
import {
  BOSS_CUBOID,
  coversChunk,
  extentVoxels,
  formatChunkShape,
  sameExtent,
  unionExtent,
  wholeChunk,
  type ChunkBox,
  type ChunkCoord,
  type ChunkShape,
  type Extent,
} from '../extent/grid.js';
import { decodeChunk, encodeChunkParts, zarrCodecs } from './codec.js';
import { copyRows } from './copy-rows.js';
import { allZero, BYTES_PER_VOXEL } from './datatype.js';
import {
  chunksPerShard,
  decodeShard,
  innerChunkBoxes,
  mergeShard,
  type EncodedChunk,
  ShardError,
  shardingCodecs,
} from './shard.js';
import type { Destination, DestinationSpecBase, LentSamples } from './types.js';
import { withLock } from './lock.js';
import { writeAtomically } from './atomic-write.js';
import {
  halvesZ,
  nextLevelShape,
  partsPossible,
  resolveMultiscale,
  type MultiscaleConfig,
} from '../pyramid/levels.js';
import { pyramidTop } from '../pyramid/job.js';
import {
  chunkStamp,
  newStaging,
  partStage,
  stagePart,
  type ChunkStamp,
  type HeldPart,
  type PartStage,
  type PyramidStaging,
} from '../pyramid/staging.js';
import { multiscalesAttributes, type VoxelSize } from '../pyramid/multiscales.js';
import {
  firstMismatch,
  type SpaceUnit,
  type ZarrArrayMetadata,
  type ZarrCodec,
  type VolumeRecord,
  type ZarrGroupMetadata,
} from './zarr-metadata.js';
import { VolumeError } from '../errors.js';

export interface ZarrVolume extends DestinationSpecBase {
  name: 'zarr';
  /** Absolute path of the volume's root group. */
  path: string;
  compressor: Compressor;
  /** A t axis comes first when the job spans more than one time point. */
  timeAxis: boolean;
  /**
   * When the volume is sharded: `chunk` is the shard (the array's chunk grid, what a job writes
   * at once) and its inner chunks have this shape (`chunk` is a multiple of it).
   */
  innerChunk?: ChunkShape;
  /** Level 0's physical voxel size and unit, when the config gives them. */
  voxelSize?: VoxelSize;
  unit?: SpaceUnit;
  /** The pyramid the job builds above level 0, when it asks for one. */
  multiscale?: MultiscaleConfig;
  /** Where a job with a pyramid stages level 1's parts as it writes level 0 (see staging.ts). */
  staging?: PyramidStaging;
  /**
   * The job writes more than the planning node's kernel lets wait in the page cache: its chunk
   * files go to the disk directly (objects/direct-io.ts). Absent in plans made before it existed.
   */
  directIo?: boolean;
}

export { VolumeError };

function axes(volume: ZarrVolume): string[] {
  return volume.timeAxis ? ['t', 'z', 'y', 'x'] : ['z', 'y', 'x'];
}

function chunkShape(volume: ZarrVolume, chunk: ChunkShape = volume.chunk): number[] {
  const zyx = [chunk.z, chunk.y, chunk.x];
  return volume.timeAxis ? [1, ...zyx] : zyx;
}

function groupMetadata(
  volume: ZarrVolume,
  record: VolumeRecord,
  pyramid?: { top: number; multiscale: MultiscaleConfig },
): ZarrGroupMetadata {
  return {
    zarr_format: 3,
    node_type: 'group',
    attributes: {
      boss_ingest: record,
      ome: multiscalesAttributes({
        name: path.basename(volume.path),
        top: pyramid?.top ?? 0,
        timeAxis: volume.timeAxis,
        ...(pyramid ? { method: pyramid.multiscale.method, downsample: pyramid.multiscale.downsample } : {}),
        ...(volume.voxelSize ? { voxelSize: volume.voxelSize } : {}),
        ...(volume.unit ? { unit: volume.unit } : {}),
      }),
    },
  };
}

function arrayMetadata(volume: ZarrVolume, shape: number[]): ZarrArrayMetadata {
  return {
    zarr_format: 3,
    node_type: 'array',
    shape,
    data_type: volume.datatype,
    // A sharded array's grid is its shards; the inner chunks live inside them.
    chunk_grid: { name: 'regular', configuration: { chunk_shape: chunkShape(volume) } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 0,
    codecs: volume.innerChunk
      ? shardingCodecs(
          volume.compressor,
          BYTES_PER_VOXEL[volume.datatype],
          chunkShape(volume, volume.innerChunk),
        )
      : zarrCodecs(volume.compressor, BYTES_PER_VOXEL[volume.datatype]),
    dimension_names: axes(volume),
    attributes: {},
  } satisfies ZarrArrayMetadata;
}

/** Parsed JSON: what another tool wrote may have any shape, so every field is unknown. */
type Untrusted<T> = Partial<Record<keyof T, unknown>>;

async function readJson<T>(file: string): Promise<Untrusted<T> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Untrusted<T>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VolumeError(`${file}: cannot be read as Zarr metadata: ${(err as Error).message}`);
  }
}

/**
 * Several jobs (on several nodes) may write one volume at once: every read-modify-write of a file
 * of the volume holds that file's lock, kept in one flat folder beside the array.
 */
function lockFile(volume: ZarrVolume, key: string): string {
  return path.join(volume.path, LOCK_DIR, `${key.replaceAll('/', '.')}.lock`);
}

export const LOCK_DIR = '.boss-ingest-locks';

/**
 * Creates the volume, or checks that an existing one can take the job (same datatype, chunks,
 * codecs and axes) and grows its shape to reach the extent's stop. Data already there stays.
 * The shape is merged under the metadata's lock and read back after writing, so two jobs
 * opening the volume together both end up inside it: neither shrinks what the other grew.
 */
export async function openZarrVolume(volume: ZarrVolume, extent: Extent): Promise<void> {
  const needed = [extent.z[1], extent.y[1], extent.x[1]];
  if (volume.timeAxis) needed.unshift(extent.t[1]);
  const groupFile = path.join(volume.path, 'zarr.json');
  const arrayFile = path.join(volume.path, '0', 'zarr.json');
  await mkdir(path.join(volume.path, LOCK_DIR), { recursive: true });
  await withLock(lockFile(volume, '0/zarr.json'), async (lease) => {
    const group = await readJson<ZarrGroupMetadata>(groupFile);
    const array = await readJson<ZarrArrayMetadata>(arrayFile);
    let shape = needed;
    let record: VolumeRecord = { extent };
    if (group || array) {
      if (!array)
        throw new VolumeError(
          `${volume.path} exists but has no array 0: it is not an OME-Zarr volume written by boss-ingest`,
        );
      const mismatch = firstMismatch(array, arrayMetadata(volume, needed));
      if (mismatch) {
        throw new VolumeError(
          `${arrayFile}: ${mismatch.key} is ${JSON.stringify(mismatch.found)} but this job writes ${JSON.stringify(mismatch.wanted)}; ` +
            'choose another output path or matching destination settings',
        );
      }
      shape = needed.map((n, i) => Math.max(n, storedShape(array)[i] ?? 0));
      const stored = recordOf(group);
      // A volume without a record (an older boss-ingest's): its data may lie anywhere in the array.
      const before = stored.extent ?? arrayExtent(storedShape(array), volume.timeAxis);
      record = { ...stored, extent: unionExtent(before, extent) };
      const grown = !stored.extent || !sameExtent(before, record.extent!);
      if (group && shape.every((n, i) => n === storedShape(array)[i]) && !grown) return;
    }
    await mkdir(path.join(volume.path, '0'), { recursive: true });
    await lease.assertHeld();
    // An existing group keeps its metadata (the pyramid's levels among it); only the record grows.
    const metadata = group
      ? { ...group, attributes: { ...(group.attributes as object), boss_ingest: record } }
      : groupMetadata(volume, record);
    await writeAtomically(groupFile, JSON.stringify(metadata, null, 2));
    await writeAtomically(arrayFile, JSON.stringify(arrayMetadata(volume, shape), null, 2));
    const written = storedShape((await readJson<ZarrArrayMetadata>(arrayFile)) ?? {});
    if (shape.some((n, i) => (written[i] ?? 0) < n))
      throw new VolumeError(
        `${arrayFile}: another writer changed it while it was locked; shape is ${JSON.stringify(written)}`,
      );
  });
}

function storedShape(array: Untrusted<ZarrArrayMetadata>): number[] {
  return Array.isArray(array.shape) ? (array.shape as unknown[]).map(Number) : [];
}

function recordOf(group: Untrusted<ZarrGroupMetadata> | undefined): VolumeRecord {
  const attributes = group?.attributes as { boss_ingest?: VolumeRecord } | undefined;
  return attributes?.boss_ingest ?? {};
}

/** The whole array as an extent: (t,) z, y, x from 0 to the shape. */
function arrayExtent(shape: number[], timeAxis: boolean): Extent {
  const [z, y, x] = shape.slice(-3);
  return { x: [0, x ?? 0], y: [0, y ?? 0], z: [0, z ?? 0], t: [0, timeAxis ? (shape[0] ?? 1) : 1] };
}

/**
 * The pyramid the volume already holds, as it was built: a job that writes into the volume without
 * asking for one still updates it, or its levels would no longer show level 0.
 */
async function storedPyramid(volume: string): Promise<MultiscaleConfig | undefined> {
  const pyramid = recordOf(await readJson<ZarrGroupMetadata>(path.join(volume, 'zarr.json'))).pyramid;
  return pyramid
    ? { levels: pyramid.top, method: pyramid.method, downsample: pyramid.downsample }
    : undefined;
}

/** Level 0's extent and the pyramid's, as recorded in the volume; level 0's is the whole array when unrecorded. */
export async function readVolumeRecord(
  volume: ZarrVolume,
): Promise<Required<Pick<VolumeRecord, 'extent'>> & VolumeRecord> {
  const level0 = path.join(volume.path, '0', 'zarr.json');
  const array = await readJson<ZarrArrayMetadata>(level0);
  if (!array || !Array.isArray(array.shape)) throw new VolumeError(`${level0}: no level-0 array`);
  const record = recordOf(await readJson<ZarrGroupMetadata>(path.join(volume.path, 'zarr.json')));
  return { ...record, extent: record.extent ?? arrayExtent(storedShape(array), volume.timeAxis) };
}

/**
 * Arrays 1..top of a pyramid over level 0 as it stands (its shape halved level by level), and
 * the group's multiscales listing them all, with the level-0 extent it is built over. Chunks
 * already in the arrays stay, unless `fresh`: a pyramid rebuilt whole starts from empty arrays,
 * so nothing of one built with other settings or over another extent is left in them.
 */
export async function openPyramid(
  volume: ZarrVolume,
  top: number,
  multiscale: MultiscaleConfig,
  over: Extent,
  fresh = false,
): Promise<void> {
  const level0 = path.join(volume.path, '0', 'zarr.json');
  const array = await readJson<ZarrArrayMetadata>(level0);
  if (!array || !Array.isArray(array.shape))
    throw new VolumeError(`${level0}: no level-0 array to build a pyramid over`);
  const shape = (array.shape as unknown[]).map(Number);
  await mkdir(path.join(volume.path, LOCK_DIR), { recursive: true });
  if (fresh)
    for (const entry of await readdir(volume.path))
      if (/^[1-9][0-9]*$/.test(entry))
        await rm(path.join(volume.path, entry), { recursive: true, force: true });
  const zyx = shape.slice(-3);
  let size = { z: zyx[0]!, y: zyx[1]!, x: zyx[2]! };
  for (let level = 1; level <= top; level++) {
    size = nextLevelShape(size, multiscale.downsample);
    const levelShape = [...shape.slice(0, -3), size.z, size.y, size.x];
    await mkdir(path.join(volume.path, String(level)), { recursive: true });
    await writeAtomically(
      path.join(volume.path, String(level), 'zarr.json'),
      JSON.stringify(arrayMetadata(volume, levelShape), null, 2),
    );
  }
  await withLock(lockFile(volume, '0/zarr.json'), async (lease) => {
    const groupFile = path.join(volume.path, 'zarr.json');
    const stored = recordOf(await readJson<ZarrGroupMetadata>(groupFile));
    const { method, downsample } = multiscale;
    const record: VolumeRecord = { ...stored, pyramid: { extent: over, top, method, downsample } };
    await lease.assertHeld();
    await writeAtomically(
      groupFile,
      JSON.stringify(groupMetadata(volume, record, { top, multiscale }), null, 2),
    );
  });
}

/** A chunk's file; `level` is the pyramid level, array 0 being the full resolution. */
export function chunkFile(volume: ZarrVolume, coord: ChunkCoord, level = 0): string {
  const keys = [coord.z, coord.y, coord.x].map(String);
  if (volume.timeAxis) keys.unshift(String(coord.t));
  return path.join(volume.path, String(level), 'c', ...keys);
}

/**
 * Stores the part `box` of one chunk from the whole chunk's (z, y, x) samples. A chunk the job
 * covers only in part is merged into what the volume holds, under the chunk's lock, so jobs
 * sharing the chunk each keep their voxels; a whole chunk is locked too, so that it cannot land
 * between another job's read and write. `level` is the pyramid level (0: full resolution).
 */
export async function writeZarrChunk(
  volume: ZarrVolume,
  box: ChunkBox,
  samples: Uint8Array,
  level = 0,
  stage?: PartStage,
): Promise<HeldPart | undefined> {
  const file = chunkFile(volume, box.coord, level);
  const whole = coversChunk(box, volume.chunk);
  const encoded = whole ? await encodeChunkParts(volume.compressor, samples) : undefined;
  let stored = samples;
  let stamp: ChunkStamp | undefined;
  await withLock(lockFile(volume, path.relative(volume.path, file)), async (lease) => {
    let data = encoded;
    if (!data) {
      const held = await readZarrChunk(volume, box.coord, level);
      if (held) {
        const chunkBox = wholeChunk(volume.chunk, box.coord);
        copyBox(samples, chunkBox, held, chunkBox, BYTES_PER_VOXEL[volume.datatype], { within: box });
        stored = held;
      }
      data = await encodeChunkParts(volume.compressor, stored);
    }
    await lease.assertHeld();
    await writeAtomically(file, data, { directIo: volume.directIo });
    // Under the lock, so the stamp is of this write: a part records the chunk it was computed from.
    if (stage) stamp = await chunkStamp(file);
  });
  return stage && stamp ? stagePart(stage, box.coord, stored, stamp) : undefined;
}

/**
 * Checks that the volume exists and that its array 0 stores chunks the way the spec reads them
 * (datatype, chunks, codecs, axes), before anything is read from it.
 */
export async function checkZarrVolume(volume: ZarrVolume): Promise<void> {
  const arrayFile = path.join(volume.path, '0', 'zarr.json');
  const array = await readJson<ZarrArrayMetadata>(arrayFile);
  if (!array) throw new VolumeError(`${volume.path}: no OME-Zarr volume here (${arrayFile} not found)`);
  const mismatch = firstMismatch(array, arrayMetadata(volume, storedShape(array)));
  if (mismatch)
    throw new VolumeError(
      `${arrayFile}: ${mismatch.key} is ${JSON.stringify(mismatch.found)} but the config gives ${JSON.stringify(mismatch.wanted)}`,
    );
}

/** The chunk's stored samples, or undefined when it was never written. */
export async function readZarrChunk(
  volume: ZarrVolume,
  coord: ChunkCoord,
  level = 0,
): Promise<Uint8Array | undefined> {
  const file = chunkFile(volume, coord, level);
  const encoded = await readIfExists(file);
  return encoded && storedSamples(volume, coord, file, encoded);
}

/** As readZarrChunk, the file read into a buffer the thread lends (see Destination.readLent). */
async function readZarrChunkLent(volume: ZarrVolume, coord: ChunkCoord): Promise<LentSamples | undefined> {
  const file = chunkFile(volume, coord);
  const lent = await ifExists(readLocalFileLent(file));
  if (!lent) return undefined;
  try {
    // Samples of a stored frame are a view of the file's bytes: the buffer goes back with them.
    return { samples: await storedSamples(volume, coord, file, lent.bytes), release: lent.release };
  } catch (err) {
    lent.release();
    throw err;
  }
}

function storedSamples(
  volume: ZarrVolume,
  coord: ChunkCoord,
  file: string,
  encoded: Uint8Array,
): Promise<Uint8Array> {
  if (volume.innerChunk) return shardSamples(volume, volume.innerChunk, coord, file, encoded);
  return decodeSamples(volume, volume.chunk, file, encoded);
}

function readIfExists(file: string): Promise<Uint8Array | undefined> {
  return ifExists(readLocalFile(file));
}

/** What `read` gives, undefined when the file does not exist. */
async function ifExists<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The samples of one encoded (inner) chunk of `shape`, stored in `file`. */
async function decodeSamples(
  volume: ZarrVolume,
  shape: ChunkShape,
  file: string,
  encoded: Uint8Array,
): Promise<Uint8Array> {
  const samples = await decodeChunk(volume.compressor, encoded);
  const expected = chunkBytes(shape, volume.datatype);
  if (samples.length !== expected)
    throw new VolumeError(`${file}: holds ${samples.length} bytes, expected ${expected}`);
  return samples;
}

/** A shard's encoded inner chunks in index order; a damaged shard is named. */
function innerChunksOf(volume: ZarrVolume, inner: ChunkShape, file: string, shard: Uint8Array) {
  const per = chunksPerShard(volume.chunk, inner);
  try {
    return decodeShard(shard, per.x * per.y * per.z);
  } catch (err) {
    if (err instanceof ShardError) throw new ShardError(`${file}: ${err.message}`);
    throw err;
  }
}

/** A whole shard's samples from its file's bytes; absent inner chunks are 0 (the fill value). */
async function shardSamples(
  volume: ZarrVolume,
  inner: ChunkShape,
  coord: ChunkCoord,
  file: string,
  encoded: Uint8Array,
): Promise<Uint8Array> {
  const stored = innerChunksOf(volume, inner, file, encoded);
  const shardBox = wholeChunk(volume.chunk, coord);
  const samples = new Uint8Array(chunkBytes(volume.chunk, volume.datatype));
  const boxes = innerChunkBoxes(volume.chunk, inner, coord);
  for (const [index, bytes] of stored.entries()) {
    if (!bytes) continue;
    const data = await decodeSamples(volume, inner, file, bytes);
    copyBox(data, boxes[index]!, samples, shardBox, BYTES_PER_VOXEL[volume.datatype]);
  }
  return samples;
}

/** Inner chunks' samples a thread's shard writes take again (see writeZarrShard). */
const spareInner = new SpareBuffers(64 * 2 ** 20);

/**
 * Stores the part `box` of one shard from the whole shard's (z, y, x) samples. Each inner chunk
 * the box covers is compressed, or left out when all its voxels are 0 (absent inner chunks read
 * as the fill value); an inner chunk the box covers in part is merged into the stored one. Under
 * the shard's lock, the shard's other inner chunks are kept byte for byte and the shard is
 * written whole through a temporary name and a rename, so jobs sharing the shard each keep their
 * voxels and a killed writer leaves the old shard or the new one, never half of one.
 */
export async function writeZarrShard(
  volume: ZarrVolume,
  box: ChunkBox,
  samples: Uint8Array,
  level = 0,
  stage?: PartStage,
): Promise<HeldPart | undefined> {
  const inner = volume.innerChunk;
  if (!inner) throw new VolumeError(`${volume.path} is not sharded`);
  const bytesPerVoxel = BYTES_PER_VOXEL[volume.datatype];
  const file = chunkFile(volume, box.coord, level);
  const shardBox = wholeChunk(volume.chunk, box.coord);
  // Inner chunks' samples are taken from the thread's spare buffers and given back once the shard
  // is written: a whole one's are all copied from the shard's, so they need no zeroing.
  const taken: Uint8Array[] = [];
  const innerSamples = (cell: Box, from?: Uint8Array) => {
    const whole = boxVoxels(intersect(cell, box)!) === boxVoxels(cell);
    const out = from ?? spareInner.take(chunkBytes(inner, volume.datatype), !whole);
    if (!from) taken.push(out);
    copyBox(samples, shardBox, out, cell, bytesPerVoxel, { within: box, ...(copyRows ? { copyRows } : {}) });
    return out;
  };
  const encode = (data: Uint8Array) =>
    allZero(data) ? undefined : encodeChunkParts(volume.compressor, data);
  const updates = new Map<number, EncodedChunk | undefined>();
  const partial: number[] = [];
  let stamp: ChunkStamp | undefined;
  const cells = innerChunkBoxes(volume.chunk, inner, box.coord);
  try {
    for (const [index, cell] of cells.entries()) {
      const shared = intersect(cell, box);
      if (!shared) continue;
      if (boxVoxels(shared) < boxVoxels(cell)) partial.push(index);
      else updates.set(index, await encode(innerSamples(cell)));
    }
    await withLock(lockFile(volume, path.relative(volume.path, file)), async (lease) => {
      const existing = coversChunk(box, volume.chunk) ? undefined : await readIfExists(file);
      const stored = existing && innerChunksOf(volume, inner, file, existing);
      for (const index of partial) {
        const old = stored?.[index];
        const base = old && (await decodeSamples(volume, inner, file, old));
        updates.set(index, await encode(innerSamples(cells[index]!, base)));
      }
      const per = chunksPerShard(volume.chunk, inner);
      const merged = mergeShard(existing, per.x * per.y * per.z, updates);
      await lease.assertHeld();
      if (merged) await writeAtomically(file, merged, { directIo: volume.directIo });
      else await rm(file, { force: true });
      // A whole shard's samples are what it stores; a part of one is merged, so it stages nothing.
      if (stage && merged && coversChunk(box, volume.chunk)) stamp = await chunkStamp(file);
    });
  } finally {
    for (const buffer of taken) spareInner.give(buffer);
  }
  return stage && stamp ? stagePart(stage, box.coord, samples, stamp) : undefined;
}

/**
 * The chunk of a job that gives no `chunk_size`: the volume's own when it exists; for a new one
 * the Boss cuboid, and for a time series no deeper than its z extent's stop (4 slices: a 16-deep
 * chunk would hold 12 empty slices that every write encodes, and would make each chunk a partial
 * one, written under a lock after reading it back).
 */
async function defaultChunk(volume: string, extent: Extent): Promise<ChunkShape> {
  const array = await readJson<ZarrArrayMetadata>(path.join(volume, '0', 'zarr.json'));
  if (array) {
    const codecs = Array.isArray(array.codecs) ? (array.codecs as Partial<ZarrCodec>[]) : [];
    const sharding = codecs[0]?.name === 'sharding_indexed' ? codecs[0] : undefined;
    const grid = array.chunk_grid as Partial<ZarrArrayMetadata['chunk_grid']> | undefined;
    const shape =
      (sharding?.configuration as { chunk_shape?: unknown } | undefined)?.chunk_shape ??
      grid?.configuration?.chunk_shape;
    if (Array.isArray(shape) && shape.length >= 3 && shape.every((n) => Number.isInteger(n) && n > 0)) {
      const [z, y, x] = (shape as number[]).slice(-3) as [number, number, number];
      return { x, y, z };
    }
    // Not one of ours: openZarrVolume names what does not match.
  }
  // Only for a time series: jobs that split one volume over z, starting at the same moment, must
  // all choose the same chunk.
  const series = extent.t[1] - extent.t[0] > 1;
  return { ...BOSS_CUBOID, z: series ? Math.min(BOSS_CUBOID.z, extent.z[1]) : BOSS_CUBOID.z };
}

export const zarrDestination: Destination<ZarrVolume> = {
  datatypeFrom: 'config',
  async resolve(config, { datatype, extent }) {
    const backend = config.client.backend;
    if (backend.name !== 'zarr') throw new VolumeError(`client.backend.name is ${backend.name}, not zarr`);
    const spec: ZarrVolume = {
      name: 'zarr',
      path: backend.path,
      datatype,
      compressor: backend.compressor ?? 'blosc',
      chunk: backend.chunk_size ?? (await defaultChunk(backend.path, extent)),
      timeAxis: extent.t[1] - extent.t[0] > 1,
      ...(backend.voxel_size ? { voxelSize: backend.voxel_size } : {}),
      ...(backend.voxel_unit ? { unit: backend.voxel_unit } : {}),
    };
    const multiscale = backend.multiscale
      ? resolveMultiscale(backend.multiscale)
      : await storedPyramid(backend.path);
    if (multiscale) spec.multiscale = multiscale;
    return { spec: backend.shard_size ? sharded(spec, backend.shard_size) : spec, checks: [] };
  },
  describe: (spec) =>
    `OME-Zarr ${spec.path} (${spec.datatype}, ${spec.compressor}, ` +
    (spec.innerChunk
      ? `shards ${spec.chunk.z}x${spec.chunk.y}x${spec.chunk.x} of ${formatChunkShape(spec.innerChunk)})`
      : `${formatChunkShape(spec.chunk)})`) +
    (spec.multiscale
      ? `, with its pyramid (levels ${spec.multiscale.levels}, ${spec.multiscale.method})`
      : ''),
  async prepare(spec, extent) {
    await openZarrVolume(spec, extent);
    const bytes = extentVoxels(extent) * BYTES_PER_VOXEL[spec.datatype];
    return { ...spec, ...(await stagingOf(spec)), ...(jobWantsDirectIo(bytes) ? { directIo: true } : {}) };
  },
  async write(spec, box, samples) {
    const write = spec.innerChunk ? writeZarrShard : writeZarrChunk;
    const part = await write(spec, box, samples, 0, levelZeroStage(spec));
    return part ? { written: true, part } : { written: true };
  },
  read: (spec, box) => readZarrChunk(spec, box.coord),
  readLent: (spec, box) => readZarrChunkLent(spec, box.coord),
  checkReadable: checkZarrVolume,
};

/**
 * A job that builds a pyramid stages level 1's parts as it writes level 0, over the volume's
 * level-0 extent as its prepare left it; none when the pyramid has no level 1 or its blocks can
 * straddle chunks (odd chunk sizes).
 */
async function stagingOf(spec: ZarrVolume): Promise<Pick<ZarrVolume, 'staging'>> {
  const { multiscale } = spec;
  if (!multiscale || !partsPossible(spec.chunk, halvesZ(multiscale.downsample))) return {};
  const { extent } = await readVolumeRecord(spec);
  if (pyramidTop(spec, extent, multiscale) === 0) return {};
  return { staging: newStaging(spec.path, extent) };
}

function levelZeroStage(spec: ZarrVolume): PartStage | undefined {
  const { staging, multiscale } = spec;
  if (!staging || !multiscale) return undefined;
  const stage = partStage(staging.dir, 0, staging.extent, multiscale, spec);
  return staging.hold ? { ...stage, hold: staging.hold } : stage;
}

/**
 * The spec of a sharded volume: the job writes whole shards (its chunk grid is the shards'), the
 * configured chunks become the inner chunks. A chunk thread holds a whole shard's samples, so a
 * shard bigger than a row's memory is refused.
 */
function sharded(spec: ZarrVolume, shard: ChunkShape): ZarrVolume {
  const bytes = chunkBytes(shard, spec.datatype);
  if (bytes > ROW_BYTES)
    throw new VolumeError(
      `client.backend.shard_size: a shard of ${shard.z}x${shard.y}x${shard.x} ${spec.datatype} voxels is ` +
        `${bytes / MIB} MiB; a chunk thread holds a whole shard in memory, at most ${ROW_BYTES / MIB} MiB: ` +
        'choose a smaller shard_size',
    );
  return { ...spec, chunk: shard, innerChunk: spec.chunk };
}

const MIB = 2 ** 20;
