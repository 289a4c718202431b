/** Decodes one stored chunk of a precomputed layer into z, y, x voxels (x fastest). */
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { BYTES_PER_VOXEL, fromBytes, type VolumeData, type VolumeDatatype, type Xyz } from '../volume.js';
import { decodeCompressedSegmentation } from './compressed-segmentation.js';
import type { Scale } from './info.js';

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * `size` is the chunk's real size (smaller than the chunk size at the volume's far edges). Files
 * gzip-compressed on disk (CloudVolume's `.gz` files, or a server without Content-Encoding) are
 * recognised by their magic number.
 */
export async function decodeChunk(
  stored: Uint8Array,
  scale: Scale,
  size: Xyz,
  datatype: VolumeDatatype,
): Promise<VolumeData> {
  const voxels = size.x * size.y * size.z;
  const rawLength = voxels * BYTES_PER_VOXEL[datatype];
  const bytes =
    isGzip(stored) && !(scale.encoding === 'raw' && stored.byteLength === rawLength)
      ? new Uint8Array(gunzipSync(stored))
      : stored;
  switch (scale.encoding) {
    case 'raw':
      if (bytes.byteLength !== rawLength) {
        throw new Error(
          `raw chunk is ${bytes.byteLength} bytes; ${size.x} x ${size.y} x ${size.z} ${datatype} voxels need ${rawLength}`,
        );
      }
      return fromBytes(bytes, datatype);
    case 'jpeg': {
      // One image x wide and y * z high: the z slices stacked.
      const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      if (info.width !== size.x || info.height !== size.y * size.z) {
        throw new Error(
          `jpeg chunk is ${info.width} x ${info.height}; expected ${size.x} x ${size.y * size.z}`,
        );
      }
      if (info.channels === 1) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      const out = new Uint8Array(voxels);
      for (let i = 0; i < voxels; i++) out[i] = data[i * info.channels];
      return out;
    }
    case 'compressed_segmentation':
      return decodeCompressedSegmentation(bytes, size, scale.blockSize!, datatype as 'uint32' | 'uint64');
  }
}
