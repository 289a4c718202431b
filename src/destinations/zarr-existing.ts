/**
 * A zarr volume as it is stored, for work on a volume without a job config (`downsample VOLUME`):
 * datatype, chunks (and shards), compressor, axes and voxel size read from its metadata. Only what boss-ingest
 * itself writes is taken; anything else is refused, naming the file and the field.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { COMPRESSORS, DATATYPES, type Datatype } from '../config/types.js';
import { VolumeError } from '../errors.js';
import { zarrCodecs } from './codec.js';
import { shardingCodecs } from './shard.js';
import { BYTES_PER_VOXEL } from './datatype.js';
import type { ZarrVolume } from './zarr.js';
import type { OmeAttributes, SpaceUnit, ZarrArrayMetadata } from './zarr-metadata.js';

async function readMetadata<T>(file: string): Promise<Partial<T>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<T>;
  } catch (err) {
    throw new VolumeError(`${file}: not a boss-ingest OME-Zarr volume's metadata: ${(err as Error).message}`);
  }
}

function isShape(shape: unknown): shape is number[] {
  return (
    Array.isArray(shape) &&
    (shape.length === 3 || shape.length === 4) &&
    shape.every((n) => Number.isInteger(n) && n > 0)
  );
}

function zyx(shape: number[]): { x: number; y: number; z: number } {
  const [z, y, x] = shape.slice(-3) as [number, number, number];
  return { x, y, z };
}

export async function existingZarrVolume(volumePath: string): Promise<ZarrVolume> {
  const arrayFile = path.join(volumePath, '0', 'zarr.json');
  const array = await readMetadata<ZarrArrayMetadata>(arrayFile);
  const datatype = array.data_type as Datatype;
  if (!DATATYPES.includes(datatype))
    throw new VolumeError(
      `${arrayFile}: data_type ${JSON.stringify(array.data_type)} is not one of ${DATATYPES.join(', ')}`,
    );
  const codecs = JSON.stringify(array.codecs);
  // A sharded array's grid is its shards; the chunks inside them are in the sharding codec.
  const sharding = (
    array.codecs as { name?: string; configuration?: { chunk_shape?: unknown } }[] | undefined
  )?.[0];
  const inner = sharding?.name === 'sharding_indexed' ? sharding.configuration?.chunk_shape : undefined;
  if (sharding?.name === 'sharding_indexed' && !isShape(inner))
    throw new VolumeError(
      `${arrayFile}: sharding_indexed chunk_shape ${JSON.stringify(inner)} is not (t,) z, y, x`,
    );
  const compressor = COMPRESSORS.find((c) => {
    const ours = isShape(inner)
      ? shardingCodecs(c, BYTES_PER_VOXEL[datatype], inner)
      : zarrCodecs(c, BYTES_PER_VOXEL[datatype]);
    return JSON.stringify(ours) === codecs;
  });
  if (!compressor) throw new VolumeError(`${arrayFile}: codecs ${codecs} are not ones boss-ingest writes`);
  const shape = array.chunk_grid?.configuration?.chunk_shape ?? [];
  if (shape.length !== 3 && shape.length !== 4)
    throw new VolumeError(`${arrayFile}: chunk_grid ${JSON.stringify(array.chunk_grid)} is not (t,) z, y, x`);
  const { x, y, z } = zyx(shape);
  const group = await readMetadata<{ attributes: { ome?: OmeAttributes } }>(
    path.join(volumePath, 'zarr.json'),
  );
  const multiscale = group.attributes?.ome?.multiscales?.[0];
  const scale = multiscale?.datasets[0]?.coordinateTransformations.find((t) => t.type === 'scale');
  const unit = multiscale?.axes.at(-1)?.unit as SpaceUnit | undefined;
  const size = scale?.type === 'scale' ? scale.scale.slice(-3) : undefined;
  return {
    name: 'zarr',
    path: path.resolve(volumePath),
    datatype,
    compressor,
    chunk: { x, y, z },
    ...(isShape(inner) ? { innerChunk: zyx(inner) } : {}),
    timeAxis: shape.length === 4,
    ...(size ? { voxelSize: { z: size[0]!, y: size[1]!, x: size[2]! } } : {}),
    ...(unit ? { unit } : {}),
  };
}
