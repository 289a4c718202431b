/** Where a job's chunks go, resolved once per job from `client.backend`. */
import type { Datatype, JobConfig } from '../config/types.js';
import { BOSS_CUBOID, type ChunkBox, type ChunkCoord, type ChunkShape, type Extent } from '../extent/grid.js';
import { bossPreflight } from '../boss/preflight.js';
import { writeBossChunk, type BossChannel } from './boss.js';
import { openZarrVolume, readZarrChunk, VolumeError, writeZarrChunk, type ZarrVolume } from './zarr.js';

/** Accepts every chunk and keeps none: measures the engine without storage. */
export interface Discard {
  name: 'discard';
  datatype: Datatype;
  chunk: ChunkShape;
}

export type DestinationSpec = ZarrVolume | Discard | BossChannel;

export interface ResolvedDestination {
  destination: DestinationSpec;
  /** What was checked on the way (the Boss's preflight), for progress and `validate`. */
  checks: string[];
}

/**
 * The job's destination. `sourceDatatype` (the first tile's, when readable) decides a local
 * volume's datatype when the config does not; a Boss channel has its own, checked against it.
 */
export async function resolveDestination(
  config: JobConfig,
  sourceDatatype: Datatype | undefined,
  extent: Extent,
): Promise<ResolvedDestination> {
  if (config.client.backend.name === 'boss') {
    const { destination, checks } = await bossPreflight(
      config,
      sourceDatatype === 'uint64' ? undefined : sourceDatatype,
    );
    return { destination, checks };
  }
  const datatype = configuredDatatype(config) ?? sourceDatatype;
  if (!datatype)
    throw new VolumeError('cannot tell the datatype: set client.backend.datatype (or --datatype)');
  return { destination: resolveLocalDestination(config, datatype, extent), checks: [] };
}

function resolveLocalDestination(
  config: JobConfig,
  datatype: Datatype,
  extent: Extent,
): ZarrVolume | Discard {
  const backend = config.client.backend;
  if (backend.name === 'zarr') {
    return {
      name: 'zarr',
      path: backend.path,
      datatype,
      compressor: backend.compressor ?? 'blosc',
      chunk: backend.chunk_size ?? BOSS_CUBOID,
      timeAxis: extent.t[1] - extent.t[0] > 1,
    };
  }
  if (backend.name === 'discard')
    return { name: 'discard', datatype, chunk: backend.chunk_size ?? BOSS_CUBOID };
  throw new VolumeError(`client.backend.name ${JSON.stringify(backend.name)} is not a local destination`);
}

/** The datatype the config sets, if any (else it comes from the source). */
export function configuredDatatype(config: JobConfig): Datatype | undefined {
  const backend = config.client.backend;
  return backend.name === 'boss' ? undefined : backend.datatype;
}

export function describeDestination(spec: DestinationSpec): string {
  const chunks = `chunks ${spec.chunk.z}x${spec.chunk.y}x${spec.chunk.x}`;
  switch (spec.name) {
    case 'zarr':
      return `OME-Zarr ${spec.path} (${spec.datatype}, ${spec.compressor}, ${chunks})`;
    case 'boss':
      return `Boss ${spec.baseUrl} ${spec.collection}/${spec.experiment}/${spec.channel} resolution ${spec.resolution} (${spec.datatype})`;
    case 'discard':
      return `discard (${spec.datatype}, ${chunks})`;
  }
}

export async function prepareDestination(spec: DestinationSpec, extent: Extent): Promise<void> {
  if (spec.name === 'zarr') await openZarrVolume(spec, extent);
}

/** Stores the box of one chunk from the whole chunk's samples; false when the destination skipped it. */
export async function writeChunk(
  spec: DestinationSpec,
  box: ChunkBox,
  samples: Uint8Array,
): Promise<boolean> {
  if (spec.name === 'zarr') await writeZarrChunk(spec, box.coord, samples);
  if (spec.name === 'boss') return writeBossChunk(spec, box, samples);
  return true;
}

/** What is stored in a chunk, for a job that covers it in part; the Boss takes partial boxes as they are. */
export async function readChunk(spec: DestinationSpec, coord: ChunkCoord): Promise<Uint8Array | undefined> {
  return spec.name === 'zarr' ? readZarrChunk(spec, coord) : undefined;
}

export { VolumeError };
