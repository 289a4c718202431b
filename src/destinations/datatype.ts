import type { Datatype } from '../config/types.js';
import { BYTES_PER_VOXEL, type VolumeDatatype } from '../volumes/volume.js';

export { BYTES_PER_VOXEL };

/** Whether every value of a source's datatype is exactly representable in the destination's. */
export function fits(source: VolumeDatatype, destination: Datatype): boolean {
  return BYTES_PER_VOXEL[source] <= BYTES_PER_VOXEL[destination];
}
