// The extent coverage check run before any chunk (src/extent/coverage.ts).
import { strict as assert } from 'node:assert';
import { coverageProblems, type TileIndex, type TileSpan } from '../src/extent/coverage.js';

/** A stack of 4 x 3 tiles of 512, 10 slices, 1 time point; `holes` lists absent tiles. */
function stack(holes: string[] = []) {
  const probed: TileIndex[] = [];
  const probe = async (p: TileIndex) => {
    probed.push(p);
    const file = `/stack/${p.z}/${p.y}_${p.x}.png`;
    if (p.x >= 4 || p.y >= 3 || p.z >= 10 || p.t >= 1 || holes.includes(file))
      return `${file}: file not found`;
    return undefined;
  };
  return { probe, probed };
}
const scale = { x: 512, y: 512, z: 1, t: 1 };

describe('extent coverage', () => {
  it('finds nothing wrong when the extent lies inside the source, reading a handful of tiles', async () => {
    const s = stack();
    const span: TileSpan = { x: [0, 4], y: [0, 3], z: [0, 10], t: [0, 1] };
    assert.deepEqual(await coverageProblems(span, scale, { x: 2048, y: 1536, z: 10, t: 1 }, s.probe), []);
    assert.ok(s.probed.length <= 14, `${s.probed.length} tiles read`);
  });

  it('says where the data ends on each axis of an extent three zeros too large, in few reads', async () => {
    const s = stack();
    const span: TileSpan = { x: [0, 1953125], y: [0, 1953125], z: [0, 1_000_000], t: [0, 1] };
    const problems = await coverageProblems(span, scale, { x: 1e9, y: 1e9, z: 1e6, t: 1 }, s.probe);
    assert.deepEqual(
      problems.map((p) => p.split(' (')[0]),
      [
        'extent.x: the source has data up to x 2048 but the extent reaches x 1000000000',
        'extent.y: the source has data up to y 1536 but the extent reaches y 1000000000',
        'extent.z: the source has data up to z 10 but the extent reaches z 1000000',
      ],
    );
    assert.match(problems[0]!, /e\.g\. \/stack\/0\/0_4\.png: file not found/);
    assert.ok(s.probed.length < 120, `${s.probed.length} tiles read`);
  });

  it('names the first tile when the extent has no data at its start (a wrong root_dir)', async () => {
    const s = stack(['/stack/0/0_0.png']);
    const span: TileSpan = { x: [0, 2], y: [0, 2], z: [0, 2], t: [0, 1] };
    assert.deepEqual(await coverageProblems(span, scale, { x: 1024, y: 1024, z: 2, t: 1 }, s.probe), [
      "the extent's first tile has no data: /stack/0/0_0.png: file not found",
    ]);
  });

  it('reports a hole inside the extent found by the sample', async () => {
    const holes = ['/stack/1/0_0.png', '/stack/2/0_0.png', '/stack/3/0_0.png', '/stack/4/0_0.png'];
    const s = stack(
      holes.map((h) => h.replace('0_0', '1_1')).concat(holes.map((h) => h.replace('0_0', '0_1'))),
    );
    const span: TileSpan = { x: [0, 4], y: [0, 3], z: [0, 10], t: [0, 1] };
    const problems = await coverageProblems(span, scale, { x: 2048, y: 1536, z: 10, t: 1 }, s.probe);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^part of the extent has no data: \/stack\/\d\/\d_\d\.png: file not found$/);
  });
});
