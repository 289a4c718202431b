/**
 * What the HDF5 readers share: each reads a box of target voxels (a tile: one z plane) out of one
 * open file into a new array of the box's size; what the file does not cover stays zero.
 */
import {
  allocate,
  boxSize,
  type VolumeBox,
  type VolumeData,
  type VolumeDatatype,
} from '../../volumes/volume.js';

/** A zeroed array for the box's voxels. */
export function zeroBox(datatype: VolumeDatatype, box: VolumeBox): VolumeData {
  const s = boxSize(box);
  return allocate(datatype, s.x * s.y * s.z);
}
