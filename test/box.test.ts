// Unit tests of the geometry every copy path shares (src/extent/box.ts, tiles.ts): boxes filled
// with a function of absolute coordinates are copied, then every voxel of the destination is
// checked against that function (inside the shared box) or against what it held (outside).
import { strict as assert } from 'node:assert';
import type { Range } from '../src/config/types.js';
import { boxSize, boxVoxels, copyBox, intersect, type Box } from '../src/extent/box.js';
import { inRange, indices, tileCount, tileRange } from '../src/extent/tiles.js';
import { copyRows } from '../src/destinations/copy-rows.js';

/** A value per absolute voxel, different for neighbours along every axis. */
function valueAt(x: number, y: number, z: number, bytes: number): number {
  const v = x * 7 + y * 131 + z * 1031 + 1;
  return bytes === 1 ? v % 251 : bytes === 2 ? v % 65521 : v;
}

function samples(box: Box, bytes: number, fill: (x: number, y: number, z: number) => number): Uint8Array {
  const s = boxSize(box);
  const out = new Uint8Array(boxVoxels(box) * bytes);
  const view = new DataView(out.buffer);
  for (let z = 0; z < s.z; z++)
    for (let y = 0; y < s.y; y++)
      for (let x = 0; x < s.x; x++) {
        const i = ((z * s.y + y) * s.x + x) * bytes;
        const v = fill(box.x[0] + x, box.y[0] + y, box.z[0] + z);
        if (bytes === 1) view.setUint8(i, v);
        else if (bytes === 2) view.setUint16(i, v, true);
        else view.setBigUint64(i, BigInt(v), true);
      }
  return out;
}

/** Every voxel of `dst` (laid out over `box`): copied ones equal valueAt, the others the sentinel. */
function assertCopied(
  dst: Uint8Array,
  box: Box,
  bytes: number,
  copied: Box | undefined,
  sentinel: number,
): void {
  const expected = samples(box, bytes, (x, y, z) => {
    const inside =
      copied !== undefined && inRange(x, copied.x) && inRange(y, copied.y) && inRange(z, copied.z);
    return inside ? valueAt(x, y, z, Math.min(bytes, 2)) : sentinel;
  });
  const bad = dst.findIndex((v, i) => v !== expected[i]);
  assert.equal(bad, -1, `byte ${bad} differs`);
}

const box = (x: Range, y: Range, z: Range, t = 0): Box => ({ x, y, z, t });

describe('boxes and copyBox', () => {
  it('intersect gives the shared voxels, or nothing for disjoint boxes and other time points', () => {
    assert.deepEqual(
      intersect(box([0, 10], [5, 9], [2, 4]), box([7, 20], [0, 6], [3, 8])),
      box([7, 10], [5, 6], [3, 4]),
    );
    assert.equal(intersect(box([0, 10], [0, 10], [0, 10]), box([10, 20], [0, 10], [0, 10])), undefined);
    assert.equal(intersect(box([0, 10], [0, 10], [0, 10], 0), box([0, 10], [0, 10], [0, 10], 1)), undefined);
  });

  for (const bytes of [1, 2, 8]) {
    it(`copies the shared part of two partly overlapping boxes at non-zero origins (${bytes}-byte samples)`, () => {
      const src = box([13, 29], [-3, 8], [5, 9]);
      const dst = box([20, 40], [0, 12], [3, 7]);
      const from = samples(src, bytes, (x, y, z) => valueAt(x, y, z, Math.min(bytes, 2)));
      const into = samples(dst, bytes, () => 3);
      copyBox(from, src, into, dst, bytes);
      assertCopied(into, dst, bytes, box([20, 29], [0, 8], [5, 7]), 3);
    });
  }

  it('copies a box into one that holds it whole, and one that it holds whole', () => {
    const outer = box([100, 132], [40, 60], [0, 3]);
    const inner = box([101, 131], [41, 43], [1, 2]);
    const big = samples(outer, 2, (x, y, z) => valueAt(x, y, z, 2));
    const small = samples(inner, 2, () => 9);
    copyBox(big, outer, small, inner, 2);
    assertCopied(small, inner, 2, inner, 9);
    const back = samples(outer, 2, () => 9);
    copyBox(small, inner, back, outer, 2);
    assertCopied(back, outer, 2, inner, 9);
  });

  it('copies only voxels inside `within`, leaving the rest of the destination as it was', () => {
    const src = box([0, 16], [0, 16], [0, 1]);
    const dst = box([8, 24], [8, 24], [0, 1]);
    const into = samples(dst, 1, () => 7);
    copyBox(
      samples(src, 1, (x, y, z) => valueAt(x, y, z, 1)),
      src,
      into,
      dst,
      1,
      { within: box([10, 12], [0, 100], [0, 5]) },
    );
    assertCopied(into, dst, 1, box([10, 12], [8, 16], [0, 1]), 7);
  });

  it('copies a plane per call with the native strided copy (a shard into its inner chunks), as row by row', () => {
    assert.ok(copyRows, 'copy-rows.node is built by npm run build');
    const cases: [Box, Box, Box | undefined, Box][] = [
      // a shard's corner into an inner chunk; part of one, within a job's box; overlapping offsets
      [
        box([0, 64], [0, 48], [0, 3]),
        box([32, 64], [16, 48], [0, 3]),
        undefined,
        box([32, 64], [16, 48], [0, 3]),
      ],
      [
        box([0, 64], [0, 48], [0, 3]),
        box([32, 64], [16, 48], [0, 3]),
        box([40, 50], [0, 20], [1, 2]),
        box([40, 50], [16, 20], [1, 2]),
      ],
      [
        box([5, 37], [3, 20], [2, 6]),
        box([20, 60], [0, 9], [0, 4]),
        undefined,
        box([20, 37], [3, 9], [2, 4]),
      ],
    ];
    for (const bytes of [1, 2])
      for (const [from, to, within, copied] of cases) {
        const into = samples(to, bytes, () => 9);
        const src = samples(from, bytes, (x, y, z) => valueAt(x, y, z, bytes));
        copyBox(src, from, into, to, bytes, { copyRows, ...(within ? { within } : {}) });
        assertCopied(into, to, bytes, copied, 9);
      }
    assert.throws(
      () => copyRows!(new Uint8Array(10), 0, 4, new Uint8Array(10), 0, 4, 4, 3),
      /a row lies outside its buffer/,
    );
  });

  it('copies nothing between disjoint boxes or different time points', () => {
    const src = box([0, 4], [0, 4], [0, 1]);
    const into = samples(src, 1, () => 5);
    copyBox(
      samples(src, 1, () => 1),
      src,
      into,
      box([0, 4], [0, 4], [0, 1], 1),
      1,
    );
    copyBox(
      samples(src, 1, () => 1),
      src,
      samples(box([4, 8], [0, 4], [0, 1]), 1, () => 5),
      box([4, 8], [0, 4], [0, 1]),
      1,
    );
    assertCopied(into, src, 1, undefined, 5);
  });

  it('copies boxes as wide as each other (a tile into its chunk) plane by plane, widening too', () => {
    // Same x range on both sides: the rows lie end to end, and a copy spans several of them.
    const src = box([16, 24], [-2, 9], [0, 4]);
    const dst = box([16, 24], [0, 12], [1, 6]);
    for (const [from, to] of [
      [1, 1],
      [2, 2],
      [8, 8],
      [1, 2],
      [2, 8],
    ] as const) {
      const into = samples(dst, to, () => 5);
      copyBox(
        samples(src, from, (x, y, z) => valueAt(x, y, z, Math.min(from, 2))),
        src,
        into,
        dst,
        to,
        {
          srcBytesPerVoxel: from,
        },
      );
      const expected = samples(dst, to, (x, y, z) =>
        inRange(y, [0, 9]) && inRange(z, [1, 4]) ? valueAt(x, y, z, Math.min(from, 2)) : 5,
      );
      assert.deepEqual(into, expected, `${from} -> ${to} bytes`);
    }
  });

  it('widens uint8 to uint16 and uint8 or uint16 to uint64 without changing a value', () => {
    const src = box([3, 12], [2, 7], [0, 2]);
    const dst = box([0, 10], [0, 6], [1, 3]);
    for (const [from, to] of [
      [1, 2],
      [1, 8],
      [2, 8],
    ] as const) {
      const into = samples(dst, to, () => 0);
      copyBox(
        samples(src, from, (x, y, z) => valueAt(x, y, z, from)),
        src,
        into,
        dst,
        to,
        { srcBytesPerVoxel: from },
      );
      const expected = samples(dst, to, (x, y, z) =>
        inRange(x, [3, 10]) && inRange(y, [2, 6]) && z === 1 ? valueAt(x, y, z, from) : 0,
      );
      assert.deepEqual(into, expected, `${from} -> ${to} bytes`);
    }
  });

  it('refuses a buffer whose length does not match its box, and narrowing', () => {
    const b = box([0, 4], [0, 4], [0, 1]);
    assert.throws(() => copyBox(new Uint8Array(15), b, new Uint8Array(16), b, 1), RangeError);
    assert.throws(
      () => copyBox(new Uint8Array(32), b, new Uint8Array(16), b, 1, { srcBytesPerVoxel: 2 }),
      RangeError,
    );
  });
});

describe('tile ranges', () => {
  /** Brute force: the tile indices whose [i * size, (i + 1) * size) meets the range. */
  function touching(range: Range, size: number): number[] {
    return indices([-5, 100]).filter((i) => i * size < range[1] && (i + 1) * size > range[0]);
  }

  it('covers exactly the tiles an extent touches, aligned or not', () => {
    for (const [x, y] of [
      [
        [0, 20],
        [0, 16],
      ],
      [
        [3, 41],
        [15, 17],
      ],
      [
        [20, 40],
        [16, 32],
      ],
      [
        [19, 21],
        [31, 33],
      ],
    ] as [Range, Range][]) {
      const tiles = tileRange({ x, y, z: [4, 7] }, { x: 20, y: 16 });
      assert.deepEqual(indices(tiles.x), touching(x, 20), `x ${x}`);
      assert.deepEqual(indices(tiles.y), touching(y, 16), `y ${y}`);
      assert.deepEqual(tiles.z, [4, 7]);
      assert.deepEqual(tiles.t, [0, 1], 'one time point when the extent has no t');
      assert.equal(tileCount(tiles), touching(x, 20).length * touching(y, 16).length * 3);
    }
  });

  it('counts every time point of a time series', () => {
    assert.equal(tileCount(tileRange({ x: [0, 10], y: [0, 10], z: [0, 2], t: [2, 5] }, { x: 10, y: 10 })), 6);
  });
});
