/** Where a job's chunks go, resolved once per job from `client.backend`. */
import type { Datatype, JobConfig } from '../config/types.js';
import { BOSS_CUBOID, type ChunkCoord, type Extent } from '../extent/grid.js';
import { openZarrVolume, readZarrChunk, VolumeError, writeZarrChunk, type ZarrVolume } from './zarr.js';

export type DestinationSpec = ZarrVolume;

export function resolveDestination(config: JobConfig, datatype: Datatype, extent: Extent): DestinationSpec {
  const backend = config.client.backend;
  if (backend.name !== 'zarr') {
    throw new VolumeError(
      'the Boss destination (client.backend.name "boss") is not available in this version of boss-ingest; ' +
        'run with --output PATH to write a local OME-Zarr volume instead',
    );
  }
  return {
    name: 'zarr',
    path: backend.path,
    datatype,
    compressor: backend.compressor ?? 'blosc',
    chunk: backend.chunk_size ?? BOSS_CUBOID,
    timeAxis: extent.t[1] - extent.t[0] > 1,
  };
}

export function describeDestination(spec: DestinationSpec): string {
  return `OME-Zarr ${spec.path} (${spec.datatype}, ${spec.compressor}, chunks ${spec.chunk.z}x${spec.chunk.y}x${spec.chunk.x})`;
}

export async function prepareDestination(spec: DestinationSpec, extent: Extent): Promise<void> {
  await openZarrVolume(spec, extent);
}

export function writeChunk(spec: DestinationSpec, coord: ChunkCoord, samples: Uint8Array): Promise<number> {
  return writeZarrChunk(spec, coord, samples);
}

export function readChunk(spec: DestinationSpec, coord: ChunkCoord): Promise<Uint8Array | undefined> {
  return readZarrChunk(spec, coord);
}

export { VolumeError };
