/** Where a job's chunks go, resolved once per job from `client.backend`. */
import type { Datatype, JobConfig } from '../config/types.js';
import { BOSS_CUBOID, type ChunkCoord, type ChunkShape, type Extent } from '../extent/grid.js';
import { openZarrVolume, readZarrChunk, VolumeError, writeZarrChunk, type ZarrVolume } from './zarr.js';

/** Accepts every chunk and keeps none: measures the engine without storage. */
export interface Discard {
  name: 'discard';
  datatype: Datatype;
  chunk: ChunkShape;
}

export type DestinationSpec = ZarrVolume | Discard;

export function resolveDestination(config: JobConfig, datatype: Datatype, extent: Extent): DestinationSpec {
  const backend = config.client.backend;
  switch (backend.name) {
    case 'zarr':
      return {
        name: 'zarr',
        path: backend.path,
        datatype,
        compressor: backend.compressor ?? 'blosc',
        chunk: backend.chunk_size ?? BOSS_CUBOID,
        timeAxis: extent.t[1] - extent.t[0] > 1,
      };
    case 'discard':
      return { name: 'discard', datatype, chunk: backend.chunk_size ?? BOSS_CUBOID };
    case 'boss':
      throw new VolumeError(
        'the Boss destination (client.backend.name "boss") is not available in this version of boss-ingest; ' +
          'run with --output PATH to write a local OME-Zarr volume instead',
      );
  }
}

/** The datatype the config sets, if any (else it comes from the source). */
export function configuredDatatype(config: JobConfig): Datatype | undefined {
  const backend = config.client.backend;
  return backend.name === 'boss' ? undefined : backend.datatype;
}

export function describeDestination(spec: DestinationSpec): string {
  const chunks = `chunks ${spec.chunk.z}x${spec.chunk.y}x${spec.chunk.x}`;
  return spec.name === 'zarr'
    ? `OME-Zarr ${spec.path} (${spec.datatype}, ${spec.compressor}, ${chunks})`
    : `discard (${spec.datatype}, ${chunks})`;
}

export async function prepareDestination(spec: DestinationSpec, extent: Extent): Promise<void> {
  if (spec.name === 'zarr') await openZarrVolume(spec, extent);
}

export async function writeChunk(
  spec: DestinationSpec,
  coord: ChunkCoord,
  samples: Uint8Array,
): Promise<void> {
  if (spec.name === 'zarr') await writeZarrChunk(spec, coord, samples);
}

export async function readChunk(spec: DestinationSpec, coord: ChunkCoord): Promise<Uint8Array | undefined> {
  return spec.name === 'zarr' ? readZarrChunk(spec, coord) : undefined;
}

export { VolumeError };
