/**
 * The local destination: an OME-Zarr 0.5 volume (Zarr v3) with one array `0` in absolute
 * coordinates: source voxel (x, y, z) at 0[z][y][x], or 0[t][z][y][x] for time series.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Compressor, Datatype } from '../config/types.js';
import type { ChunkCoord, ChunkShape, Extent } from '../extent/grid.js';
import { decodeChunk, encodeChunk, zarrCodecs } from './codec.js';
import { BYTES_PER_VOXEL } from './datatype.js';
import { VolumeError } from '../errors.js';

export interface ZarrVolume {
  name: 'zarr';
  /** Absolute path of the volume's root group. */
  path: string;
  datatype: Datatype;
  compressor: Compressor;
  chunk: ChunkShape;
  /** A t axis comes first when the job spans more than one time point. */
  timeAxis: boolean;
}

export { VolumeError };

function axes(volume: ZarrVolume): string[] {
  return volume.timeAxis ? ['t', 'z', 'y', 'x'] : ['z', 'y', 'x'];
}

function chunkShape(volume: ZarrVolume): number[] {
  const zyx = [volume.chunk.z, volume.chunk.y, volume.chunk.x];
  return volume.timeAxis ? [1, ...zyx] : zyx;
}

function groupMetadata(volume: ZarrVolume): object {
  const names = axes(volume);
  return {
    zarr_format: 3,
    node_type: 'group',
    attributes: {
      ome: {
        version: '0.5',
        multiscales: [
          {
            name: path.basename(volume.path),
            axes: names.map((name) => ({ name, type: name === 't' ? 'time' : 'space' })),
            datasets: [
              { path: '0', coordinateTransformations: [{ type: 'scale', scale: names.map(() => 1) }] },
            ],
          },
        ],
      },
    },
  };
}

function arrayMetadata(volume: ZarrVolume, shape: number[]): object {
  return {
    zarr_format: 3,
    node_type: 'array',
    shape,
    data_type: volume.datatype,
    chunk_grid: { name: 'regular', configuration: { chunk_shape: chunkShape(volume) } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: 0,
    codecs: zarrCodecs(volume.compressor, BYTES_PER_VOXEL[volume.datatype]),
    dimension_names: axes(volume),
    attributes: {},
  };
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VolumeError(`${file}: cannot be read as Zarr metadata: ${(err as Error).message}`);
  }
}

/** Writes through a temporary file and a rename, so a killed writer never leaves half a file. */
async function writeAtomically(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

/**
 * Creates the volume, or checks that an existing one can take the job (same datatype, chunks,
 * codecs and axes) and grows its shape to reach the extent's stop. Data already there stays.
 */
export async function openZarrVolume(volume: ZarrVolume, extent: Extent): Promise<void> {
  const needed = [extent.z[1], extent.y[1], extent.x[1]];
  if (volume.timeAxis) needed.unshift(extent.t[1]);
  const groupFile = path.join(volume.path, 'zarr.json');
  const arrayFile = path.join(volume.path, '0', 'zarr.json');
  const group = await readJson(groupFile);
  const array = await readJson(arrayFile);
  let shape = needed;
  if (group || array) {
    const expected = arrayMetadata(volume, needed) as Record<string, unknown>;
    if (!array)
      throw new VolumeError(
        `${volume.path} exists but has no array 0: it is not an OME-Zarr volume written by boss-ingest`,
      );
    for (const key of ['data_type', 'chunk_grid', 'codecs', 'dimension_names']) {
      if (JSON.stringify(array[key]) !== JSON.stringify(expected[key])) {
        throw new VolumeError(
          `${arrayFile}: ${key} is ${JSON.stringify(array[key])} but this job writes ${JSON.stringify(expected[key])}; ` +
            'choose another output path or matching destination settings',
        );
      }
    }
    const existing = array.shape as number[];
    shape = needed.map((n, i) => Math.max(n, existing[i] ?? 0));
  }
  await mkdir(path.join(volume.path, '0'), { recursive: true });
  await writeAtomically(groupFile, JSON.stringify(groupMetadata(volume), null, 2));
  await writeAtomically(arrayFile, JSON.stringify(arrayMetadata(volume, shape), null, 2));
}

export function chunkFile(volume: ZarrVolume, coord: ChunkCoord): string {
  const keys = [coord.z, coord.y, coord.x].map(String);
  if (volume.timeAxis) keys.unshift(String(coord.t));
  return path.join(volume.path, '0', 'c', ...keys);
}

/** Stores one chunk, (z, y, x) C-order samples in the volume's datatype. */
export async function writeZarrChunk(
  volume: ZarrVolume,
  coord: ChunkCoord,
  samples: Uint8Array,
): Promise<number> {
  const file = chunkFile(volume, coord);
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const encoded = await encodeChunk(volume.compressor, samples);
  await writeAtomically(file, encoded);
  return encoded.length;
}

/** The chunk's stored samples, or undefined when it was never written. */
export async function readZarrChunk(volume: ZarrVolume, coord: ChunkCoord): Promise<Uint8Array | undefined> {
  const file = chunkFile(volume, coord);
  let encoded: Uint8Array;
  try {
    encoded = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const samples = await decodeChunk(volume.compressor, encoded);
  const expected = volume.chunk.x * volume.chunk.y * volume.chunk.z * BYTES_PER_VOXEL[volume.datatype];
  if (samples.length !== expected)
    throw new VolumeError(`${file}: holds ${samples.length} bytes, expected ${expected}`);
  return samples;
}
