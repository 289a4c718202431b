// Unit tests of verify's chunk comparison (src/verify/compare.ts).
import { strict as assert } from 'node:assert';
import type { Datatype } from '../src/config/types.js';
import type { ChunkBox, ChunkShape } from '../src/extent/grid.js';
import { firstDifference, formatDifference } from '../src/verify/compare.js';

const CHUNK: ChunkShape = { x: 5, y: 4, z: 3 };
/** Chunk (2, 1, 1) at t 7, with the job covering only part of it. */
const BOX: ChunkBox = { coord: { t: 7, z: 1, y: 1, x: 2 }, x: [11, 14], y: [5, 8], z: [3, 6], t: 7 };
const BYTES: Record<Datatype, number> = { uint8: 1, uint16: 2, uint64: 8 };

function chunkOf(datatype: Datatype): Uint8Array {
  const n = CHUNK.x * CHUNK.y * CHUNK.z;
  const bytes = new Uint8Array(n * BYTES[datatype]);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    if (datatype === 'uint8') bytes[i] = i + 1;
    else if (datatype === 'uint16') view.setUint16(2 * i, 1000 + i, true);
    else view.setBigUint64(8 * i, (1n << 62n) + BigInt(i), true);
  }
  return bytes;
}

/** Sets voxel (x, y, z) (absolute) of chunk BOX.coord to a new value. */
function flip(bytes: Uint8Array, datatype: Datatype, x: number, y: number, z: number): void {
  const i = ((z - 3) * CHUNK.y + (y - 4)) * CHUNK.x + (x - 10);
  const view = new DataView(bytes.buffer);
  if (datatype === 'uint8') bytes[i] = 0;
  else if (datatype === 'uint16') view.setUint16(2 * i, 7, true);
  else view.setBigUint64(8 * i, (1n << 62n) + 1n, true);
}

describe('verify: comparing a chunk', () => {
  for (const datatype of ['uint8', 'uint16', 'uint64'] as Datatype[]) {
    it(`${datatype}: an intact chunk passes; a flipped voxel is reported at its absolute place with both values`, () => {
      const source = chunkOf(datatype);
      assert.equal(firstDifference(BOX, CHUNK, datatype, source, source.slice()), undefined);
      const stored = source.slice();
      flip(stored, datatype, 12, 6, 4);
      flip(stored, datatype, 13, 7, 5); // a later one: the first is reported
      const d = firstDifference(BOX, CHUNK, datatype, source, stored);
      const i = (1 * CHUNK.y + 2) * CHUNK.x + 2;
      const want = {
        uint8: [String(i + 1), '0'],
        uint16: [String(1000 + i), '7'],
        uint64: [String((1n << 62n) + BigInt(i)), String((1n << 62n) + 1n)],
      }[datatype];
      assert.deepEqual(d, { x: 12, y: 6, z: 4, t: 7, source: want[0], stored: want[1] });
      assert.match(formatDifference(d!), /\(x 12, y 6, z 4, t 7\): source \d+, stored \d+/);
    });
  }

  it('voxels outside the box do not count; a chunk never stored reads as zeros', () => {
    const source = chunkOf('uint8');
    const stored = source.slice();
    flip(stored, 'uint8', 10, 4, 3); // outside the box
    assert.equal(firstDifference(BOX, CHUNK, 'uint8', source, stored), undefined);
    assert.deepEqual(firstDifference(BOX, CHUNK, 'uint8', source, undefined), {
      x: 11,
      y: 5,
      z: 3,
      t: 7,
      source: String((0 * CHUNK.y + 1) * CHUNK.x + 1 + 1),
      stored: '0',
    });
    assert.equal(firstDifference(BOX, CHUNK, 'uint8', new Uint8Array(60), undefined), undefined);
  });
});
