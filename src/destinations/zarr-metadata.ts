/** The Zarr v3 and OME-Zarr 0.5 metadata boss-ingest writes, typed as the specs define them. */
import type { Datatype } from '../config/types.js';

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

export interface OmeAxis {
  name: string;
  type: 'time' | 'space';
}

export interface OmeMultiscale {
  name: string;
  axes: OmeAxis[];
  datasets: { path: string; coordinateTransformations: { type: 'scale'; scale: number[] }[] }[];
}

export interface ZarrGroupMetadata {
  zarr_format: 3;
  node_type: 'group';
  attributes: { ome: { version: '0.5'; multiscales: OmeMultiscale[] } };
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
