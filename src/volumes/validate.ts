/**
 * `boss-ingest validate` for a volumetric job: opens the source (its metadata), checks that the
 * extent lies inside it and that its datatype can be stored, then reads the extent's first and
 * last destination-chunk-sized boxes to show the data is there. Writes nothing.
 */
import { jobExtent } from '../config/job.js';
import type { Datatype, JobConfig } from '../config/types.js';
import { BYTES_PER_VOXEL } from '../destinations/datatype.js';
import { configuredDatatype } from '../destinations/index.js';
import { openJobVolume } from './open.js';
import { checkVolumeCovers, formatBox, storedDatatype, VolumeError, type VolumeBox } from './volume.js';

export interface VolumeReport {
  source?: string;
  datatype?: Datatype;
  problems: { file: string; reason: string }[];
}

export async function validateVolume(config: JobConfig): Promise<VolumeReport> {
  const problems: VolumeReport['problems'] = [];
  let volume;
  try {
    volume = await openJobVolume(config);
  } catch (err) {
    if (!(err instanceof VolumeError)) throw err;
    return { problems: [{ file: err.source, reason: err.message }] };
  }
  try {
    const extent = jobExtent(config);
    const datatype = storedDatatype(volume.datatype);
    const configured = configuredDatatype(config);
    if (configured && BYTES_PER_VOXEL[datatype] > BYTES_PER_VOXEL[configured]) {
      problems.push({
        file: volume.source,
        reason: `${volume.datatype} voxels do not fit the destination's ${configured}`,
      });
    }
    try {
      checkVolumeCovers(volume, extent);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      return {
        source: volume.source,
        datatype,
        problems: [...problems, { file: volume.source, reason: err.message }],
      };
    }
    const corner = (end: boolean): VolumeBox => {
      const span = (axis: 'x' | 'y' | 'z'): [number, number] => {
        const [lo, hi] = extent[axis];
        const n = Math.min(hi - lo, volume!.chunk[axis]);
        return end ? [hi - n, hi] : [lo, lo + n];
      };
      return { x: span('x'), y: span('y'), z: span('z'), t: extent.t[0] };
    };
    for (const box of [corner(false), corner(true)]) {
      try {
        await volume.readBox(box);
      } catch (err) {
        if (!(err instanceof VolumeError)) throw err;
        problems.push({ file: volume.source, reason: `reading ${formatBox(box)}: ${err.message}` });
      }
    }
    return { source: volume.source, datatype, problems };
  } finally {
    await volume.close();
  }
}
