/**
 * A zarr volume as it is stored, for work on a volume without a job config (`downsample VOLUME`):
 * datatype, chunks, compressor, axes and voxel size read from its metadata. Only what boss-ingest
 * itself writes is taken; anything else is refused, naming the file and the field.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { COMPRESSORS, DATATYPES, type Datatype } from '../config/types.js';
import { VolumeError } from '../errors.js';
import { zarrCodecs } from './codec.js';
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

export async function existingZarrVolume(volumePath: string): Promise<ZarrVolume> {
  const arrayFile = path.join(volumePath, '0', 'zarr.json');
  const array = await readMetadata<ZarrArrayMetadata>(arrayFile);
  const datatype = array.data_type as Datatype;
  if (!DATATYPES.includes(datatype))
    throw new VolumeError(
      `${arrayFile}: data_type ${JSON.stringify(array.data_type)} is not one of ${DATATYPES.join(', ')}`,
    );
  const codecs = JSON.stringify(array.codecs);
  if (codecs.includes('sharding_indexed'))
    throw new VolumeError(
      `${arrayFile}: the array is sharded; pyramids of sharded volumes are not built yet`,
    );
  const compressor = COMPRESSORS.find(
    (c) => JSON.stringify(zarrCodecs(c, BYTES_PER_VOXEL[datatype])) === codecs,
  );
  if (!compressor) throw new VolumeError(`${arrayFile}: codecs ${codecs} are not ones boss-ingest writes`);
  const shape = array.chunk_grid?.configuration?.chunk_shape ?? [];
  if (shape.length !== 3 && shape.length !== 4)
    throw new VolumeError(`${arrayFile}: chunk_grid ${JSON.stringify(array.chunk_grid)} is not (t,) z, y, x`);
  const [z, y, x] = shape.slice(-3) as [number, number, number];
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
    timeAxis: shape.length === 4,
    ...(size ? { voxelSize: { z: size[0]!, y: size[1]!, x: size[2]! } } : {}),
    ...(unit ? { unit } : {}),
  };
}
