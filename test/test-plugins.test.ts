// Unit tests of the original's random test tiles (src/plugins/random-tile.ts): what makes them
// usable for a verify is that any read of any tiling gives the same voxels.
import { strict as assert } from 'node:assert';
import type { IngestJobSection } from '../src/config/types.js';
import { TestRandomTileProcessor } from '../src/plugins/random-tile.js';

function job(tile: { x: number; y: number }): IngestJobSection {
  return {
    resolution: 0,
    extent: { x: [0, 300], y: [0, 200], z: [0, 3], t: [0, 2] },
    tile_size: { ...tile, z: 1, t: 1 },
  } as IngestJobSection;
}

async function processor(tile: { x: number; y: number }): Promise<TestRandomTileProcessor> {
  const p = new TestRandomTileProcessor();
  await p.setup({ ingest_job: job(tile) });
  return p;
}

describe('TestRandomTileProcessor', () => {
  it('gives the same voxels at every read and whatever the tile size; edge tiles stop at the extent', async () => {
    const big = await processor({ x: 256, y: 256 });
    const small = await processor({ x: 100, y: 70 });
    for (const [z, t] of [
      [0, 0],
      [2, 1],
    ] as const) {
      const whole = [await big.process('', 0, 0, z, t), await big.process('', 1, 0, z, t)];
      assert.deepEqual(
        whole.map((w) => [w.width, w.height, w.datatype]),
        [
          [256, 200, 'uint8'],
          [44, 200, 'uint8'],
        ],
      );
      assert.deepEqual(await big.process('', 1, 0, z, t), whole[1], 'a re-read is the same tile');
      for (let yi = 0; yi < 3; yi++)
        for (let xi = 0; xi < 3; xi++) {
          const tile = await small.process('', xi, yi, z, t);
          for (let y = 0; y < tile.height; y++)
            for (let x = 0; x < tile.width; x++) {
              const [X, Y] = [xi * 100 + x, yi * 70 + y];
              const from = whole[X < 256 ? 0 : 1]!;
              assert.equal(tile.data[y * tile.width + x], from.data[Y * from.width + (X % 256)]);
            }
        }
    }
  });

  it('differs between time points and slices', async () => {
    const p = await processor({ x: 256, y: 256 });
    const [a, b, c] = [
      await p.process('', 0, 0, 0, 0),
      await p.process('', 0, 0, 0, 1),
      await p.process('', 0, 0, 1, 0),
    ];
    const same = (u: typeof a, v: typeof a) => u.data.filter((s, i) => s === v.data[i]).length;
    // Independent noise of 253 values agrees at about 1 voxel in 253.
    for (const n of [same(a, b), same(a, c)]) assert.ok(n < ((256 * 200) / 253) * 1.5, `${n} voxels equal`);
  });
});
