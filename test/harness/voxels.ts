/** Expected voxels for the source tests: boxes cut from raw C-order (z, y, x) dumps written by Python. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { VolumeBox, VolumeData, VolumeDatatype } from '../../src/volumes/volume.js';

const ARRAY = { uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array, uint64: BigUint64Array };

export interface RawDump {
  file: string;
  dtype: VolumeDatatype;
  /** z, y, x */
  shape: number[];
  /** Voxel coordinates of the dump's first voxel (x, y, z); default 0. */
  offset?: { x: number; y: number; z: number };
}

/** The voxels of BOX (absolute coordinates) cut from the dump. */
export function expectedBox(dump: RawDump, box: VolumeBox): VolumeData {
  const bytes = readFileSync(dump.file);
  const T = ARRAY[dump.dtype];
  const all = new T(bytes.buffer, bytes.byteOffset, bytes.byteLength / T.BYTES_PER_ELEMENT);
  const [, Y, X] = dump.shape.length === 3 ? dump.shape : [1, ...dump.shape];
  const o = dump.offset ?? { x: 0, y: 0, z: 0 };
  const out = new T((box.x[1] - box.x[0]) * (box.y[1] - box.y[0]) * (box.z[1] - box.z[0]));
  let i = 0;
  for (let z = box.z[0]; z < box.z[1]; z++)
    for (let y = box.y[0]; y < box.y[1]; y++)
      for (let x = box.x[0]; x < box.x[1]; x++)
        (out as Uint8Array)[i++] = (all as Uint8Array)[((z - o.z) * Y + (y - o.y)) * X + (x - o.x)];
  return out;
}

export function assertSameVoxels(actual: VolumeData, expected: VolumeData, what: string): void {
  assert.equal(actual.constructor.name, expected.constructor.name, `${what}: datatype`);
  assert.equal(actual.length, expected.length, `${what}: voxel count`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i])
      assert.fail(`${what}: voxel ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}
