// Unit tests of the pyramid's plan (src/pyramid/levels.ts) and its OME-Zarr metadata
// (src/pyramid/multiscales.ts).
import { strict as assert } from 'node:assert';
import type { Extent } from '../src/extent/grid.js';
import { levelExtents, nextLevelShape, topLevel } from '../src/pyramid/levels.js';
import { multiscalesAttributes } from '../src/pyramid/multiscales.js';

const EXTENT: Extent = { x: [3, 1003], y: [1, 600], z: [5, 16], t: [0, 1] };
const CHUNK = { x: 64, y: 64, z: 4 };

describe('pyramid levels', () => {
  it('halves x and y as [floor(start/2), ceil(stop/2)), z only when isotropic, t never', () => {
    const [l0, l1, l2] = levelExtents(EXTENT, 2, 'anisotropic');
    assert.deepEqual(l0, EXTENT);
    assert.deepEqual(l1, { x: [1, 502], y: [0, 300], z: [5, 16], t: [0, 1] });
    assert.deepEqual(l2, { x: [0, 251], y: [0, 150], z: [5, 16], t: [0, 1] });
    const iso = levelExtents(EXTENT, 2, 'isotropic');
    assert.deepEqual(iso[1]!.z, [2, 8]);
    assert.deepEqual(iso[2]!.z, [1, 4]);
    assert.deepEqual(nextLevelShape({ x: 1003, y: 600, z: 16 }, 'isotropic'), { x: 502, y: 300, z: 8 });
  });

  it('"auto" stops at the first level whose x and y each lie in one chunk', () => {
    const top = topLevel(EXTENT, CHUNK, { levels: 'auto', method: 'mean', downsample: 'anisotropic' });
    const extents = levelExtents(EXTENT, top, 'anisotropic');
    const chunks = (r: [number, number]) => Math.floor((r[1] - 1) / 64) - Math.floor(r[0] / 64) + 1;
    const last = extents[top]!;
    assert.equal(chunks(last.x), 1);
    assert.equal(chunks(last.y), 1);
    const before = extents[top - 1]!;
    assert.ok(chunks(before.x) > 1 || chunks(before.y) > 1, 'the level below does not fit yet');
    assert.equal(top, 4); // 1000 voxels wide -> 63 after four halvings
    assert.equal(topLevel(EXTENT, CHUNK, { levels: 2, method: 'mode', downsample: 'isotropic' }), 2);
    assert.equal(
      topLevel({ ...EXTENT, x: [0, 64], y: [0, 10] }, CHUNK, {
        levels: 'auto',
        method: 'mean',
        downsample: 'anisotropic',
      }),
      0,
    );
  });
});

describe('OME-Zarr 0.5 multiscales', () => {
  it('one dataset per level with its scale and the translation that keeps voxel centres aligned', () => {
    const ome = multiscalesAttributes({
      name: 'v',
      top: 2,
      timeAxis: false,
      downsample: 'anisotropic',
      method: 'mean',
      voxelSize: { x: 4, y: 4, z: 40 },
      unit: 'nanometer',
    });
    const m = ome.multiscales[0]!;
    assert.equal(ome.version, '0.5');
    assert.deepEqual(m.axes, [
      { name: 'z', type: 'space', unit: 'nanometer' },
      { name: 'y', type: 'space', unit: 'nanometer' },
      { name: 'x', type: 'space', unit: 'nanometer' },
    ]);
    assert.deepEqual(
      m.datasets.map((d) => d.path),
      ['0', '1', '2'],
    );
    assert.deepEqual(m.datasets[0]!.coordinateTransformations, [{ type: 'scale', scale: [40, 4, 4] }]);
    // Level 2 voxel 0 averages level-0 voxels 0..3, whose centre is at 1.5 voxels = 6 nm.
    assert.deepEqual(m.datasets[2]!.coordinateTransformations, [
      { type: 'scale', scale: [40, 16, 16] },
      { type: 'translation', translation: [0, 6, 6] },
    ]);
  });

  it('a time axis first with scale 1, and 1 per voxel when no size is given', () => {
    const ome = multiscalesAttributes({
      name: 'v',
      top: 1,
      timeAxis: true,
      downsample: 'isotropic',
      method: 'mode',
    });
    const m = ome.multiscales[0]!;
    assert.deepEqual(m.axes[0], { name: 't', type: 'time' });
    assert.equal(m.type, 'mode');
    assert.deepEqual(m.datasets[1]!.coordinateTransformations, [
      { type: 'scale', scale: [1, 2, 2, 2] },
      { type: 'translation', translation: [0, 0.5, 0.5, 0.5] },
    ]);
  });
});
