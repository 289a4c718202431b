// Unit tests of the chunk grid (src/extent/grid.ts): how a job's extent is cut into destination chunks.
import { strict as assert } from 'node:assert';
import type { Range } from '../src/config/types.js';
import {
  batchEnd,
  BOSS_CUBOID,
  chunkBox,
  chunkCoord,
  chunkCount,
  chunkIndex,
  chunkRows,
  chunkSlabs,
  coversChunk,
  extentVoxels,
  gridCounts,
  type Extent,
  type Grid,
} from '../src/extent/grid.js';
import { boxVoxels } from '../src/extent/box.js';
import { DonePrefix } from '../src/workflows/window.js';

/** Brute force: the chunk indices along one axis whose [c * size, (c + 1) * size) meets the range. */
function chunksTouching(range: Range, size: number): number[] {
  const out: number[] = [];
  for (let c = 0; c * size < range[1] + size; c++) {
    if (c * size < range[1] && (c + 1) * size > range[0]) out.push(c);
  }
  return out;
}

function expectedCount(grid: Grid): number {
  const { extent, chunk } = grid;
  return (
    (extent.t[1] - extent.t[0]) *
    chunksTouching(extent.z, chunk.z).length *
    chunksTouching(extent.y, chunk.y).length *
    chunksTouching(extent.x, chunk.x).length
  );
}

/** A small grid with odd sizes and an extent aligned nowhere. */
const ODD: Grid = {
  extent: { x: [3, 24], y: [5, 17], z: [2, 9], t: [1, 3] },
  chunk: { x: 5, y: 4, z: 3 },
};

describe('chunk grid', () => {
  describe('chunkCount', () => {
    it('counts the Boss cuboids of an aligned extent', () => {
      const grid: Grid = {
        extent: { x: [0, 2048], y: [512, 1536], z: [16, 64], t: [0, 1] },
        chunk: BOSS_CUBOID,
      };
      assert.deepEqual(gridCounts(grid), { t: 1, z: 48 / 16, y: 1024 / 512, x: 2048 / 512 });
      assert.equal(chunkCount(grid), (2048 / 512) * (1024 / 512) * (48 / 16));
    });

    it('counts every chunk a non-aligned extent touches: x [100, 1100) with chunk 512 is chunks 0..2', () => {
      const grid: Grid = {
        extent: { x: [100, 1100], y: [0, 512], z: [0, 16], t: [0, 1] },
        chunk: BOSS_CUBOID,
      };
      assert.deepEqual(chunksTouching([100, 1100], 512), [0, 1, 2]);
      assert.equal(gridCounts(grid).x, 3);
      assert.equal(chunkCount(grid), 3);
      assert.deepEqual(
        [0, 1, 2].map((i) => chunkCoord(grid, i).x),
        [0, 1, 2],
      );
      assert.deepEqual(chunkBox(grid, 0).x, [100, 512]);
      assert.deepEqual(chunkBox(grid, 1).x, [512, 1024]);
      assert.deepEqual(chunkBox(grid, 2).x, [1024, 1100]);
    });

    it('matches a brute-force count on many extents', () => {
      const ranges: Range[] = [
        [0, 1],
        [0, 5],
        [4, 5],
        [5, 10],
        [4, 11],
        [7, 8],
        [1, 29],
      ];
      for (const x of ranges) {
        for (const z of ranges) {
          for (const t of [
            [0, 1],
            [2, 5],
          ] as Range[]) {
            const grid: Grid = { extent: { x, y: [3, 12], z, t }, chunk: { x: 5, y: 4, z: 3 } };
            assert.equal(chunkCount(grid), expectedCount(grid), JSON.stringify(grid.extent));
          }
        }
      }
    });

    it('counts one chunk per time point', () => {
      const grid: Grid = {
        extent: { x: [0, 512], y: [0, 512], z: [0, 16], t: [10, 14] },
        chunk: BOSS_CUBOID,
      };
      assert.equal(chunkCount(grid), 4);
      assert.deepEqual(
        [0, 1, 2, 3].map((i) => chunkCoord(grid, i).t),
        [10, 11, 12, 13],
      );
    });
  });

  describe('chunkCoord and chunkBox over every chunk of a small odd grid', () => {
    const count = chunkCount(ODD);
    const indices = Array.from({ length: count }, (_, i) => i);

    it('has the brute-force number of chunks', () => {
      assert.equal(count, expectedCount(ODD));
    });

    it('numbers chunks x fastest, then y, z, t, each coordinate in the chunks the extent touches', () => {
      const xs = chunksTouching(ODD.extent.x, ODD.chunk.x);
      const ys = chunksTouching(ODD.extent.y, ODD.chunk.y);
      const zs = chunksTouching(ODD.extent.z, ODD.chunk.z);
      const expected: { t: number; z: number; y: number; x: number }[] = [];
      for (let t = ODD.extent.t[0]; t < ODD.extent.t[1]; t++)
        for (const z of zs) for (const y of ys) for (const x of xs) expected.push({ t, z, y, x });
      assert.deepEqual(
        indices.map((i) => chunkCoord(ODD, i)),
        expected,
      );
    });

    it('chunkIndex inverts chunkCoord, and places coordinates outside the grid nowhere', () => {
      for (const i of indices) assert.equal(chunkIndex(ODD, chunkCoord(ODD, i)), i);
      const first = chunkCoord(ODD, 0);
      const last = chunkCoord(ODD, count - 1);
      for (const axis of ['x', 'y', 'z', 't'] as const) {
        assert.equal(chunkIndex(ODD, { ...first, [axis]: first[axis] - 1 }), undefined, `${axis} before`);
        assert.equal(chunkIndex(ODD, { ...last, [axis]: last[axis] + 1 }), undefined, `${axis} after`);
      }
    });

    it('gives boxes inside both the extent and their chunk, never empty', () => {
      for (const i of indices) {
        const box = chunkBox(ODD, i);
        for (const axis of ['x', 'y', 'z'] as const) {
          const [a, b] = box[axis];
          const size = ODD.chunk[axis];
          const c = box.coord[axis];
          assert.ok(a < b, `chunk ${i}: empty ${axis} ${a}:${b}`);
          assert.ok(
            a >= ODD.extent[axis][0] && b <= ODD.extent[axis][1],
            `chunk ${i}: ${axis} outside the extent`,
          );
          assert.ok(a >= c * size && b <= (c + 1) * size, `chunk ${i}: ${axis} outside its chunk`);
        }
        assert.equal(box.t, box.coord.t);
        assert.deepEqual(box.coord, chunkCoord(ODD, i));
      }
    });

    it('tiles the extent exactly: boxes are disjoint and their voxels sum to the extent', () => {
      const e = ODD.extent;
      const dims = [e.t[1] - e.t[0], e.z[1] - e.z[0], e.y[1] - e.y[0], e.x[1] - e.x[0]] as const;
      const covered = new Uint8Array(dims[0] * dims[1] * dims[2] * dims[3]);
      let total = 0;
      for (const i of indices) {
        const box = chunkBox(ODD, i);
        total += boxVoxels(box);
        for (let z = box.z[0]; z < box.z[1]; z++)
          for (let y = box.y[0]; y < box.y[1]; y++)
            for (let x = box.x[0]; x < box.x[1]; x++) {
              const at =
                (((box.t - e.t[0]) * dims[1] + (z - e.z[0])) * dims[2] + (y - e.y[0])) * dims[3] +
                (x - e.x[0]);
              assert.equal(covered[at], 0, `voxel (${x}, ${y}, ${z}, t ${box.t}) is in two chunks`);
              covered[at] = 1;
            }
      }
      assert.equal(total, extentVoxels(e));
      assert.ok(
        covered.every((v) => v === 1),
        'some voxel of the extent is in no chunk',
      );
    });

    it('says a box covers its chunk exactly when it is the whole chunk', () => {
      let full = 0;
      for (const i of indices) {
        const box = chunkBox(ODD, i);
        const whole = boxVoxels(box) === ODD.chunk.x * ODD.chunk.y * ODD.chunk.z;
        assert.equal(coversChunk(box, ODD.chunk), whole, `chunk ${i}`);
        if (whole) full++;
      }
      assert.ok(full > 0 && full < count, 'test setup: the grid should have full and partial chunks');
    });

    it('throws RangeError for an index out of range or not an integer', () => {
      for (const bad of [-1, count, count + 10, 1.5, Number.NaN]) {
        assert.throws(() => chunkCoord(ODD, bad), RangeError, String(bad));
        assert.throws(() => chunkBox(ODD, bad), RangeError, String(bad));
      }
      assert.doesNotThrow(() => chunkBox(ODD, count - 1));
    });
  });

  describe('chunkRows', () => {
    const perRow = gridCounts(ODD).x;
    const rowOf = (i: number) => {
      const c = chunkCoord(ODD, i);
      return `${c.t}/${c.z}/${c.y}`;
    };

    /** Rows are contiguous, cover [first, end), share t/z/y, are at most maxLength, and end only when they must. */
    function checkRows(first: number, end: number, maxLength: number): Range[] {
      const rows = chunkRows(ODD, first, end, maxLength);
      let next = first;
      for (const [a, b] of rows) {
        const where = `rows of [${first}, ${end}) max ${maxLength}: [${a}, ${b})`;
        assert.equal(a, next, `${where} does not follow the previous row`);
        assert.ok(b > a && b - a <= maxLength, `${where} has a bad length`);
        for (let i = a; i < b; i++) assert.equal(rowOf(i), rowOf(a), `${where} mixes rows`);
        if (b < end) {
          assert.ok(b - a === maxLength || rowOf(b) !== rowOf(a), `${where} ends early`);
        }
        next = b;
      }
      assert.equal(next, end, 'the rows do not reach the end');
      return rows;
    }

    it('splits at the ends of rows', () => {
      assert.equal(perRow, 5, 'test setup');
      assert.deepEqual(checkRows(3, 17, 100), [
        [3, 5],
        [5, 10],
        [10, 15],
        [15, 17],
      ]);
    });

    it('splits at maxLength', () => {
      assert.deepEqual(checkRows(0, 10, 2), [
        [0, 2],
        [2, 4],
        [4, 5],
        [5, 7],
        [7, 9],
        [9, 10],
      ]);
    });

    it('satisfies the row properties for every range and length', () => {
      const count = chunkCount(ODD);
      for (let first = 0; first < count; first += 3) {
        for (const end of [first + 1, first + 4, first + 11, count]) {
          if (end > count) continue;
          for (const maxLength of [1, 2, 3, 5, 7, 1000]) checkRows(first, end, maxLength);
        }
      }
    });

    it('gives no rows for an empty range', () => {
      assert.deepEqual(chunkRows(ODD, 7, 7, 4), []);
    });
  });

  describe('z-slabs: the chunks one z-index slice feeds', () => {
    const slabOf = (i: number) => {
      const c = chunkCoord(ODD, i);
      return `${c.t}/${c.z}`;
    };

    it('chunkSlabs cuts a range where t or z changes, and nowhere else', () => {
      const count = chunkCount(ODD);
      for (let first = 0; first < count; first += 5) {
        for (const end of [first + 1, first + 13, first + 40, count]) {
          if (end > count) continue;
          const slabs = chunkSlabs(ODD, first, end);
          let next = first;
          for (const [a, b] of slabs) {
            assert.equal(a, next);
            for (let i = a; i < b; i++) assert.equal(slabOf(i), slabOf(a), `[${a}, ${b}) mixes slabs`);
            if (b < end) assert.notEqual(slabOf(b), slabOf(a), `[${a}, ${b}) ends early`);
            next = b;
          }
          assert.equal(next, end);
        }
      }
    });

    it('batchEnd ends a batch on a slab boundary, so no slab is split between batches', () => {
      const perSlab = gridCounts(ODD).x * gridCounts(ODD).y;
      const count = chunkCount(ODD);
      for (const size of [1, 8, perSlab, perSlab + 1, 3 * perSlab]) {
        const ends: number[] = [];
        for (let next = 0; next < count; next = batchEnd(next, size, count, perSlab)) ends.push(next);
        for (const at of ends.slice(1))
          assert.notEqual(slabOf(at), slabOf(at - 1), `size ${size}: a batch starts at ${at}`);
        assert.ok(ends.length <= Math.ceil(count / perSlab), `size ${size}: at most one batch per slab`);
      }
      assert.equal(batchEnd(0, 8, count), 8, 'without alignment a batch is the size asked for');
      assert.equal(batchEnd(count - 2, 8, count), count);
    });
  });

  it('extentVoxels multiplies the four ranges', () => {
    const e: Extent = { x: [100, 1100], y: [7, 19], z: [3, 5], t: [2, 5] };
    assert.equal(extentVoxels(e), 1000 * 12 * 2 * 3);
  });
});

describe('DonePrefix: the chunks done in full, as batches finish out of order', () => {
  it('grows only over batches that join the prefix', () => {
    const done = new DonePrefix(8);
    done.add({ first: 16, end: 24 });
    assert.equal(done.prefix, 8, 'a gap at [8, 16) holds it');
    done.add({ first: 32, end: 40 });
    done.add({ first: 8, end: 16 });
    assert.equal(done.prefix, 24);
    done.add({ first: 24, end: 32 });
    assert.equal(done.prefix, 40);
  });
});
