/**
 * Fills a row of chunks from a volumetric source: one box read covering the whole row, so each
 * of the source's own chunks along it is read once, then copied (widened where the destination
 * is wider, e.g. uint32 labels into uint64) into each chunk. A source that cannot give the box
 * (a missing chunk without fill_missing) fails the row's chunks, naming it; the job goes on.
 */
import type { JobConfig } from '../config/types.js';
import { BYTES_PER_VOXEL } from '../destinations/datatype.js';
import { copyBox, type Box } from '../extent/box.js';
import { wholeChunk, type ChunkBox } from '../extent/grid.js';
import type { ChunkFailure, JobSpec } from '../job/types.js';
import { openJobVolume } from '../volumes/open.js';
import { VolumeError, type Volume } from '../volumes/volume.js';

/** Volumes are opened once per thread and job (an info or metadata read), not once per row. */
const volumes = new Map<string, Promise<Volume>>();

function volumeFor(config: JobConfig): Promise<Volume> {
  const key = JSON.stringify(config.client.chunk_processor);
  let volume = volumes.get(key);
  if (!volume) {
    if (volumes.size >= 4) {
      const [oldest, open] = volumes.entries().next().value!;
      volumes.delete(oldest);
      void open.then((v) => v.close()).catch(() => undefined);
    }
    volume = openJobVolume(config);
    volumes.set(key, volume);
    volume.catch(() => volumes.delete(key));
  }
  return volume;
}

export async function fillFromVolume(
  job: JobSpec,
  chunks: { index: number; box: ChunkBox; samples: Uint8Array }[],
  failed: Map<number, ChunkFailure>,
): Promise<void> {
  const volume = await volumeFor(job.config);
  const first = chunks[0]!.box;
  const row: Box = {
    x: [first.x[0], chunks[chunks.length - 1]!.box.x[1]],
    y: first.y,
    z: first.z,
    t: first.t,
  };
  let data;
  try {
    data = await volume.readBox(row);
  } catch (err) {
    if (!(err instanceof VolumeError) || err.transient) throw err;
    for (const c of chunks) failed.set(c.index, { chunk: c.index, file: volume.source, reason: err.message });
    return;
  }
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (const c of chunks) {
    copyBox(
      bytes,
      row,
      c.samples,
      wholeChunk(job.grid.chunk, c.box.coord),
      BYTES_PER_VOXEL[job.destination.datatype],
      {
        within: c.box,
        srcBytesPerVoxel: data.BYTES_PER_ELEMENT,
      },
    );
  }
}
