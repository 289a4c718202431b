/** HDF5 values into a volume datatype, exactly or not at all. */
import { TileError } from '../../errors.js';
import { allocate, type VolumeData, type VolumeDatatype } from '../../volumes/volume.js';
import type { Hdf5Numbers } from './file.js';

const MAX: Record<VolumeDatatype, number> = {
  uint8: 255,
  uint16: 65535,
  uint32: 2 ** 32 - 1,
  uint64: Number.MAX_SAFE_INTEGER,
};

/**
 * Copies `values` into a new array of `datatype`. A value the datatype cannot hold (negative,
 * too large, fractional) is an error naming the file and dataset: nothing is silently cast.
 */
export function convertExact(values: Hdf5Numbers, datatype: VolumeDatatype, where: string): VolumeData {
  const out = allocate(datatype, values.length);
  if (values instanceof BigUint64Array || values instanceof BigInt64Array) {
    const max = datatype === 'uint64' ? 2n ** 64n - 1n : BigInt(MAX[datatype]);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v < 0n || v > max) throw new TileError(where, `value ${v} does not fit ${datatype}`);
      out[i] = (datatype === 'uint64' ? v : Number(v)) as never;
    }
    return out;
  }
  const max = MAX[datatype];
  const wide = datatype === 'uint64';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= max && Number.isInteger(v))) {
      throw new TileError(where, `value ${v} cannot be stored as ${datatype} without loss`);
    }
    out[i] = (wide ? BigInt(v) : v) as never;
  }
  return out;
}
