/** The Zarr v3 and OME-Zarr 0.5 metadata boss-ingest writes, typed as the specs define them. */
import type { Datatype } from '../config/types.js';
import type { Extent } from '../extent/grid.js';
import type { DownsampleAxes, DownsampleMethod } from '../pyramid/levels.js';

export type ZarrCodec =
  | { name: 'bytes'; configuration: { endian: 'little' | 'big' } }
  | { name: 'zstd'; configuration: { level: number; checksum: boolean } }
  | {
      name: 'blosc';
      configuration: {
        cname: string;
        clevel: number;
        shuffle: 'noshuffle' | 'shuffle' | 'bitshuffle';
        typesize: number;
        blocksize: number;
      };
    }
  | { name: 'crc32c' }
  | {
      name: 'sharding_indexed';
      configuration: {
        chunk_shape: number[];
        codecs: ZarrCodec[];
        index_codecs: ZarrCodec[];
        index_location: 'start' | 'end';
      };
    };

export interface ZarrArrayMetadata {
  zarr_format: 3;
  node_type: 'array';
  shape: number[];
  data_type: Datatype;
  chunk_grid: { name: 'regular'; configuration: { chunk_shape: number[] } };
  chunk_key_encoding: { name: 'default'; configuration: { separator: '/' | '.' } };
  fill_value: number;
  codecs: ZarrCodec[];
  dimension_names: string[];
  attributes: Record<string, unknown>;
}

/** The spatial units OME-Zarr allows (UDUNITS-2 names). */
export const SPACE_UNITS = [
  'angstrom',
  'attometer',
  'centimeter',
  'decimeter',
  'exameter',
  'femtometer',
  'foot',
  'gigameter',
  'hectometer',
  'inch',
  'kilometer',
  'megameter',
  'meter',
  'micrometer',
  'mile',
  'millimeter',
  'nanometer',
  'parsec',
  'petameter',
  'picometer',
  'terameter',
  'yard',
  'yoctometer',
  'yottameter',
  'zeptometer',
  'zettameter',
] as const;
export type SpaceUnit = (typeof SPACE_UNITS)[number];

export interface OmeAxis {
  name: string;
  type: 'time' | 'space';
  unit?: SpaceUnit;
}

export type CoordinateTransformation =
  { type: 'scale'; scale: number[] } | { type: 'translation'; translation: number[] };

export interface OmeDataset {
  path: string;
  /** A scale, then optionally a translation, as OME-Zarr 0.5 orders them. */
  coordinateTransformations: CoordinateTransformation[];
}

export interface OmeMultiscale {
  name: string;
  axes: OmeAxis[];
  datasets: OmeDataset[];
  /** The downsampling method (OME-Zarr's optional `type`). */
  type?: string;
}

export interface OmeAttributes {
  version: '0.5';
  multiscales: OmeMultiscale[];
}

export interface ZarrGroupMetadata {
  zarr_format: 3;
  node_type: 'group';
  attributes: { ome: OmeAttributes; boss_ingest?: VolumeRecord };
}

/**
 * What boss-ingest records in a volume's group beside the OME metadata: level 0's extent (the
 * bounding box of every job's, since voxels outside it are not data) and the pyramid built over it.
 * The pyramid's definition needs the extent, which the array's shape does not give.
 */
export interface VolumeRecord {
  extent?: Extent;
  pyramid?: {
    /** Level 0's extent when the pyramid was last opened: a different one means a rebuild. */
    extent: Extent;
    top: number;
    method: DownsampleMethod;
    downsample: DownsampleAxes;
  };
}

/** The fields an existing array must share with the job's for the job to write into it. */
export const MUST_MATCH = [
  'data_type',
  'chunk_grid',
  'codecs',
  'dimension_names',
] as const satisfies readonly (keyof ZarrArrayMetadata)[];

/**
 * The first field of `MUST_MATCH` on which an existing array (parsed JSON, so of unknown shape)
 * differs from the job's, or undefined when the job can write into it.
 */
export function firstMismatch(
  existing: Partial<Record<keyof ZarrArrayMetadata, unknown>>,
  expected: ZarrArrayMetadata,
): { key: (typeof MUST_MATCH)[number]; found: unknown; wanted: unknown } | undefined {
  for (const key of MUST_MATCH) {
    // Compared as JSON: key order and values as written, the way another tool would see them.
    if (JSON.stringify(existing[key]) !== JSON.stringify(expected[key]))
      return { key, found: existing[key], wanted: expected[key] };
  }
  return undefined;
}
