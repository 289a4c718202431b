/**
 * Decoder of neuroglancer's compressed_segmentation encoding (one channel, uint32 or uint64):
 * the chunk is cut into blocks; each block stores a table of its distinct labels and bit-packed
 * indexes into it, x fastest, over the whole block even where the chunk ends inside it.
 */
import type { Xyz } from '../volume.js';

export function decodeCompressedSegmentation(
  bytes: Uint8Array,
  size: Xyz,
  block: Xyz,
  datatype: 'uint32' | 'uint64',
): Uint32Array | BigUint64Array {
  if (bytes.byteLength % 4 !== 0)
    throw new Error(
      `compressed_segmentation: ${bytes.byteLength} bytes is not a whole number of 32-bit words`,
    );
  const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const wide = datatype === 'uint64';
  const out = wide ? new BigUint64Array(size.x * size.y * size.z) : new Uint32Array(size.x * size.y * size.z);
  const base = words[0]; // the one channel's offset
  const grid = {
    x: Math.ceil(size.x / block.x),
    y: Math.ceil(size.y / block.y),
    z: Math.ceil(size.z / block.z),
  };
  const word = (i: number) => {
    if (i >= words.length)
      throw new Error('compressed_segmentation: an offset points past the end of the chunk');
    return words[i];
  };
  for (let bz = 0; bz < grid.z; bz++) {
    for (let by = 0; by < grid.y; by++) {
      for (let bx = 0; bx < grid.x; bx++) {
        const header = base + 2 * (bx + grid.x * (by + grid.y * bz));
        const tableOffset = base + (word(header) & 0xffffff);
        const bits = word(header) >>> 24;
        const valuesOffset = base + word(header + 1);
        if (![0, 1, 2, 4, 8, 16, 32].includes(bits)) {
          throw new Error(`compressed_segmentation: block (${bx}, ${by}, ${bz}) has ${bits} bits per value`);
        }
        const mask = bits === 32 ? 0xffffffff : (1 << bits) - 1;
        for (let z = 0; z < block.z; z++) {
          const oz = bz * block.z + z;
          if (oz >= size.z) break;
          for (let y = 0; y < block.y; y++) {
            const oy = by * block.y + y;
            if (oy >= size.y) break;
            for (let x = 0; x < block.x; x++) {
              const ox = bx * block.x + x;
              if (ox >= size.x) break;
              let index = 0;
              if (bits > 0) {
                const bit = ((z * block.y + y) * block.x + x) * bits;
                index = (word(valuesOffset + Math.floor(bit / 32)) >>> (bit % 32)) & mask;
              }
              const at = (oz * size.y + oy) * size.x + ox;
              if (wide) {
                const t = tableOffset + 2 * index;
                (out as BigUint64Array)[at] = BigInt(word(t)) | (BigInt(word(t + 1)) << 32n);
              } else {
                (out as Uint32Array)[at] = word(tableOffset + index);
              }
            }
          }
        }
      }
    }
  }
  return out;
}
