// Another Boss as a volume source, against the Boss emulator: bounds from the coordinate frame,
// boxes read as parallel cutout GETs that cross cuboid blocks, retried through injected faults,
// uint64 labels kept whole, and the token never in an error message.
import assert from 'node:assert/strict';
import { openBossVolume, parseBossUri } from '../src/volumes/boss.js';
import type { VolumeBox } from '../src/volumes/volume.js';
import { startBossEmulator, type BossEmulator } from './boss-emulator/index.js';

const TOKEN = 'source-reader-token-5f1e';

describe('Boss source (Boss emulator)', function () {
  this.timeout(120_000);
  let boss: BossEmulator;
  const host = () => new URL(boss.url).host;
  const open = (uri: string, token = TOKEN) => openBossVolume({ uri, host: host(), protocol: 'http', token });

  // Voxels seeded directly into the emulator's store: (z, y, x), x fastest.
  const value16 = (x: number, y: number, z: number) => (x * 7 + y * 13 + z * 101) % 65521;
  const value64 = (x: number, y: number, z: number) => (1n << 40n) + BigInt(x + 2000 * y + 4_000_000 * z);

  before(async () => {
    boss = await startBossEmulator({ tokens: [{ token: TOKEN, canRead: true }] });
    boss.createCoordFrame('cf', {
      x_start: 0,
      x_stop: 1100,
      y_start: 0,
      y_stop: 600,
      z_start: 0,
      z_stop: 20,
    });
    boss.createCollection('src');
    boss.createExperiment('src', 'exp', {
      coord_frame: 'cf',
      num_hierarchy_levels: 2,
      hierarchy_method: 'anisotropic',
    });
    boss.createChannel('src', 'exp', 'em', { datatype: 'uint16' });
    boss.createChannel('src', 'exp', 'labels', { datatype: 'uint64', type: 'annotation', sources: ['em'] });
    const box = { x: [900, 1100], y: [400, 600], z: [0, 20] } as const;
    const n = 200 * 200 * 20;
    const em = new Uint16Array(n);
    const labels = new BigUint64Array(n);
    let i = 0;
    for (let z = 0; z < 20; z++)
      for (let y = 400; y < 600; y++)
        for (let x = 900; x < 1100; x++, i++) {
          em[i] = value16(x, y, z);
          labels[i] = value64(x, y, z);
        }
    boss.writeCutout('src', 'exp', 'em', 0, [...box.x], [...box.y], [...box.z], em);
    boss.writeCutout('src', 'exp', 'labels', 0, [...box.x], [...box.y], [...box.z], labels);
  });

  after(() => boss?.stop());

  function assertBox(
    data: ArrayLike<number | bigint>,
    box: VolumeBox,
    value: (x: number, y: number, z: number) => number | bigint,
  ) {
    let i = 0;
    for (let z = box.z[0]; z < box.z[1]; z++)
      for (let y = box.y[0]; y < box.y[1]; y++)
        for (let x = box.x[0]; x < box.x[1]; x++, i++) {
          if (data[i] !== value(x, y, z))
            assert.fail(`voxel ${x},${y},${z} is ${data[i]}, the Boss holds ${value(x, y, z)}`);
        }
    assert.equal(i, data.length);
  }

  it('parses bossdb:// URIs, with and without a resolution', () => {
    assert.deepEqual(parseBossUri('bossdb://a/b/c'), {
      collection: 'a',
      experiment: 'b',
      channel: 'c',
      resolution: 0,
    });
    assert.deepEqual(parseBossUri('bossdb://a/b/c/1'), {
      collection: 'a',
      experiment: 'b',
      channel: 'c',
      resolution: 1,
    });
    assert.throws(
      () => parseBossUri('bossdb://a/b'),
      /bossdb:\/\/collection\/experiment\/channel\[\/resolution\]/,
    );
  });

  it('takes its bounds and datatype from the Boss (coordinate frame at the resolution)', async () => {
    const v0 = await open('bossdb://src/exp/em');
    assert.equal(v0.datatype, 'uint16');
    assert.deepEqual(
      [v0.offset, v0.size],
      [
        { x: 0, y: 0, z: 0 },
        { x: 1100, y: 600, z: 20 },
      ],
    );
    const v1 = await open('bossdb://src/exp/em/1');
    assert.deepEqual(v1.size, { x: 550, y: 300, z: 20 });
  });

  it('reads a box across cutout blocks with parallel GETs, voxel for voxel', async () => {
    const volume = await open('bossdb://src/exp/em');
    boss.resetStats();
    const box: VolumeBox = { x: [1000, 1100], y: [450, 600], z: [10, 20] };
    assertBox(await volume.readBox(box), box, value16);
    assert.equal(boss.stats.gets, 2 * 1 * 2, 'one GET per 1024 x 1024 x 16 block the box touches');
  });

  it('retries cutout GETs through 5xx answers and dropped connections', async () => {
    const volume = await open('bossdb://src/exp/labels');
    boss.faults = { seed: 3, script: [503, 'drop', 500], scope: 'cutout-get' };
    try {
      const box: VolumeBox = { x: [950, 1050], y: [420, 520], z: [5, 18] };
      const data = await volume.readBox(box);
      assert.ok(data instanceof BigUint64Array);
      assertBox(data, box, value64);
      assert.ok(boss.stats.faultsInjected >= 3);
    } finally {
      boss.faults = {};
    }
  });

  it('names the source, not the token, when the Boss refuses', async () => {
    await assert.rejects(open('bossdb://src/exp/em', 'wrong-token-0000'), (err: Error) => {
      assert.match(err.message, /bossdb:\/\/src\/exp\/em at http:\/\/127\.0\.0\.1:\d+: .*401/);
      assert.ok(!err.message.includes('wrong-token-0000'));
      return true;
    });
    await assert.rejects(open('bossdb://src/exp/nope'), /bossdb:\/\/src\/exp\/nope.*404/);
  });
});
