import type { Datatype } from '../config/types.js';
import { BYTES_PER_VOXEL, type VolumeDatatype } from '../volumes/volume.js';

export { BYTES_PER_VOXEL };

/** Whether every value of a source's datatype is exactly representable in the destination's. */
export function fits(source: VolumeDatatype, destination: Datatype): boolean {
  return BYTES_PER_VOXEL[source] <= BYTES_PER_VOXEL[destination];
}

/** Whether every sample is 0, a word at a time (a chunk is megabytes; this runs per chunk). */
export function allZero(samples: Uint8Array): boolean {
  const aligned = samples.byteOffset % 4 === 0 ? samples.length >> 2 : 0;
  const words = new Uint32Array(samples.buffer, samples.byteOffset, aligned);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  for (let i = aligned * 4; i < samples.length; i++) if (samples[i] !== 0) return false;
  return true;
}
