// Tests of the Boss REST API emulator (test/boss-emulator/), which other tests use as the Boss: auth, resources,
// cutout round trips, error bodies from /work/shared/reference/boss-api.md, and the fault injection.
import { strict as assert } from 'node:assert';
import http from 'node:http';
import { startBossEmulator, type BossEmulator } from './boss-emulator/index.js';

const WRITER = 'secret-writer-token';
const READER = 'secret-reader-token';
const TOKENS = [
  { token: WRITER, canWrite: true, canCreate: true },
  { token: READER, canWrite: false, canCreate: false },
];

interface Codec {
  encode(data: Uint8Array): Promise<Uint8Array>;
  decode(data: Uint8Array): Promise<Uint8Array>;
}
let codec: Codec;
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Creates coord frame cf (1000 x 1000 x 40), collection coll, experiment exp (3 time samples), channels u8/u16/u64. */
function seed(boss: BossEmulator): void {
  boss.createCoordFrame('cf', { x_start: 0, x_stop: 1000, y_start: 0, y_stop: 1000, z_start: 0, z_stop: 40 });
  boss.createCollection('coll');
  boss.createExperiment('coll', 'exp', { coord_frame: 'cf', num_time_samples: 3 });
  boss.createChannel('coll', 'exp', 'u8', { datatype: 'uint8' });
  boss.createChannel('coll', 'exp', 'u16', { datatype: 'uint16' });
  boss.createChannel('coll', 'exp', 'u64', { datatype: 'uint64' });
}

async function call(
  boss: BossEmulator,
  path: string,
  init: {
    method?: string;
    token?: string | null;
    headers?: Record<string, string>;
    body?: Uint8Array | string;
  } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.authorization = `Token ${init.token ?? WRITER}`;
  const res = await fetch(boss.url + path, { method: init.method ?? 'GET', headers, body: init.body });
  const body = new Uint8Array(await res.arrayBuffer());
  const text = () => Buffer.from(body).toString('utf8');
  return { status: res.status, headers: res.headers, body, text, json: () => JSON.parse(text()) as unknown };
}

const postJson = (boss: BossEmulator, path: string, value: unknown, token?: string | null) =>
  call(boss, path, {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(value),
  });

async function postCutout(boss: BossEmulator, path: string, data: ArrayBufferView, token?: string) {
  const body = await codec.encode(bytesOf(data));
  return call(boss, path, { method: 'POST', token, headers: { 'content-type': 'application/blosc' }, body });
}

async function getCutout(boss: BossEmulator, path: string): Promise<Uint8Array> {
  const res = await call(boss, path, { headers: { accept: 'application/blosc' } });
  assert.equal(res.status, 200, res.text());
  assert.equal(res.headers.get('content-type'), 'application/blosc');
  return codec.decode(res.body);
}

/** A distinct, non-zero pattern of n voxels. */
function pattern<T extends Uint8Array | Uint16Array>(Kind: new (n: number) => T, n: number, salt = 1): T {
  const a = new Kind(n);
  for (let i = 0; i < n; i++)
    a[i] = ((i * 7919 + salt * 104729) % (a.BYTES_PER_ELEMENT === 1 ? 255 : 65535)) + 1;
  return a;
}

const NOT_FOUND_COLL = { status: 404, code: 4000, message: 'Collection nope not found' };
const FORBIDDEN = { status: 403, code: 3001, message: 'This user does not have the required permission' };

describe('Boss emulator', function () {
  let boss: BossEmulator;

  before(async () => {
    const { Blosc } = await import('numcodecs');
    codec = Blosc.fromConfig({ cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 });
  });
  beforeEach(async () => {
    boss = await startBossEmulator({ tokens: TOKENS });
    seed(boss);
  });
  afterEach(async () => boss.stop());

  describe('auth', () => {
    it('answers 401 to a missing, bad or non-Token Authorization header', async () => {
      for (const token of [null, 'wrong']) {
        const res = await call(boss, '/v1/collection/coll/', { token });
        assert.equal(res.status, 401);
        // Raised by the REST framework itself: {"detail"}, not a Boss error body.
        assert.equal(typeof (res.json() as { detail: unknown }).detail, 'string');
      }
      const bearer = await call(boss, '/v1/collection/coll/', {
        token: null,
        headers: { authorization: `Bearer ${WRITER}` },
      });
      assert.equal(bearer.status, 401);
      assert.equal((await call(boss, '/v1/collection/coll/', { token: READER })).status, 200);
    });

    it('answers 403 code 3001 when a read-only token writes a cutout or creates a resource', async () => {
      const cut = await postCutout(boss, '/v1/cutout/coll/exp/u8/0/0:4/0:4/0:1/', new Uint8Array(16), READER);
      assert.equal(cut.status, 403);
      assert.deepEqual(cut.json(), FORBIDDEN);
      const create = await postJson(boss, '/v1/collection/other/', { description: 'x' }, READER);
      assert.deepEqual([create.status, create.json()], [403, FORBIDDEN]);
      assert.equal(boss.stats.stored, 0);
      assert.equal((await postJson(boss, '/v1/collection/other/', {}, null)).status, 401);
    });

    it('lets anonymous requests read public resources only', async () => {
      boss.createCollection('pub', { public: true });
      assert.equal((await call(boss, '/v1/collection/pub/', { token: null })).status, 200);
      assert.equal((await call(boss, '/v1/collection/coll/', { token: null })).status, 401);
      assert.equal((await call(boss, '/v1/collection/nope/', { token: null })).status, 401);
      boss.createChannel('coll', 'exp', 'open', { datatype: 'uint8', public: true });
      boss.writeCutout('coll', 'exp', 'open', 0, [0, 2], [0, 1], [0, 1], new Uint8Array([4, 5]));
      const anon = await call(boss, '/v1/cutout/coll/exp/open/0/0:2/0:1/0:1', {
        token: null,
        headers: { accept: 'application/blosc' },
      });
      assert.equal(anon.status, 200);
      assert.deepEqual(Array.from(await codec.decode(anon.body)), [4, 5]);
      const closed = await call(boss, '/v1/cutout/coll/exp/u8/0/0:2/0:1/0:1/', {
        token: null,
        headers: { accept: 'application/blosc' },
      });
      assert.equal(closed.status, 401);
    });

    it('logs every request with its headers as received', async () => {
      await call(boss, '/v1/collection/coll/');
      const entry = boss.requests.find((r) => r.url === '/v1/collection/coll/');
      assert.equal(entry?.headers.authorization, `Token ${WRITER}`);
      assert.equal(entry?.status, 200);
    });
  });

  describe('resources', () => {
    it('creates and gets a collection, coord frame, experiment and channel', async () => {
      let res = await postJson(boss, '/v1/collection/c2/', { description: 'two' });
      assert.equal(res.status, 201);
      assert.deepEqual(res.json(), { name: 'c2', description: 'two', public: false });
      res = await call(boss, '/v1/collection/c2'); // no trailing slash: accepted
      assert.deepEqual([res.status, res.json()], [200, { name: 'c2', description: 'two', public: false }]);

      const frame = {
        x_start: 0,
        x_stop: 64,
        y_start: 0,
        y_stop: 32,
        z_start: 0,
        z_stop: 8,
        x_voxel_size: 4,
        y_voxel_size: 4,
        z_voxel_size: 40,
        voxel_unit: 'nanometers',
      };
      res = await postJson(boss, '/v1/coord/cf2/', frame);
      assert.equal(res.status, 201);
      assert.deepEqual((await call(boss, '/v1/coord/cf2/')).json(), {
        name: 'cf2',
        description: '',
        ...frame,
      });

      res = await postJson(boss, '/v1/collection/c2/experiment/e2/', {
        coord_frame: 'cf2',
        hierarchy_method: 'isotropic',
        num_time_samples: 5,
        time_step: 2,
        time_step_unit: 'seconds',
      });
      assert.equal(res.status, 201);
      assert.deepEqual((await call(boss, '/v1/collection/c2/experiment/e2/')).json(), {
        name: 'e2',
        description: '',
        coord_frame: 'cf2',
        num_hierarchy_levels: 1,
        hierarchy_method: 'isotropic',
        num_time_samples: 5,
        time_step: 2,
        time_step_unit: 'seconds',
        public: false,
      });

      res = await postJson(boss, '/v1/collection/c2/experiment/e2/channel/ch/', {
        datatype: 'uint16',
        type: 'image',
      });
      assert.equal(res.status, 201);
      assert.deepEqual((await call(boss, '/v1/collection/c2/experiment/e2/channel/ch/')).json(), {
        name: 'ch',
        description: '',
        type: 'image',
        datatype: 'uint16',
        base_resolution: 0,
        default_time_sample: 0,
        sources: [],
        related: [],
        public: false,
        storage_type: 'spdb',
        downsample_status: 'NOT_DOWNSAMPLED',
      });
    });

    it('answers 404 code 4000 for missing resources and 4004 for unknown paths', async () => {
      let res = await call(boss, '/v1/collection/nope/');
      assert.deepEqual([res.status, res.json()], [404, NOT_FOUND_COLL]);
      res = await call(boss, '/v1/collection/coll/experiment/exp/channel/none/');
      assert.deepEqual(res.json(), {
        status: 404,
        code: 4000,
        message: 'Channel none not found in experiment coll/exp',
      });
      res = await call(boss, '/v1/coord/none/');
      assert.deepEqual(res.json(), { status: 404, code: 4000, message: 'Coordinate frame none not found' });
      res = await call(boss, '/v1/nothing/here/');
      assert.deepEqual([res.status, (res.json() as { code: number }).code], [404, 4004]);
    });

    it('refuses existing names, missing parents, bad names and bad fields with 400 code 1006', async () => {
      const cases: Array<[string, unknown]> = [
        ['/v1/collection/coll/', {}],
        ['/v1/collection/bad.name/', {}],
        [`/v1/collection/${'a'.repeat(256)}/`, {}],
        ['/v1/collection/nope/experiment/e/', { coord_frame: 'cf' }],
        ['/v1/collection/coll/experiment/e/', { coord_frame: 'nope' }],
        ['/v1/collection/coll/experiment/e/', { coord_frame: 'cf', hierarchy_method: 'other' }],
        ['/v1/collection/coll/experiment/exp/channel/c/', { datatype: 'uint32' }],
        ['/v1/collection/coll/experiment/exp/channel/c/', { datatype: 'float32' }],
        ['/v1/collection/coll/experiment/exp/channel/c/', {}],
        ['/v1/collection/coll/experiment/exp/channel/c/', { datatype: 'uint8', default_time_sample: 3 }],
        ['/v1/collection/coll/experiment/exp/channel/u8/', { datatype: 'uint8' }],
        ['/v1/coord/c2/', { x_start: 0, x_stop: 0, y_start: 0, y_stop: 1, z_start: 0, z_stop: 1 }],
        ['/v1/coord/c2/', { x_start: 0, x_stop: 1, y_start: 0, y_stop: 1, z_start: 0 }],
        [
          '/v1/coord/c2/',
          { x_start: 0, x_stop: 1, y_start: 0, y_stop: 1, z_start: 0, z_stop: 1, voxel_unit: 'km' },
        ],
      ];
      for (const [path, body] of cases) {
        const res = await postJson(boss, path, body);
        assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
        const err = res.json() as { status: number; code: number; message: string };
        assert.deepEqual([err.status, err.code, typeof err.message], [400, 1006, 'string']);
      }
    });
  });

  describe('cutout', () => {
    it('round-trips uint8 without a time range (default time sample) and with no-cache', async () => {
      const data = pattern(Uint8Array, 32 * 16 * 4);
      const res = await postCutout(boss, '/v1/cutout/coll/exp/u8/0/10:42/20:36/2:6/', data);
      assert.equal(res.status, 201, res.text());
      assert.equal(res.body.byteLength, 0);
      assert.deepEqual(
        await getCutout(boss, '/v1/cutout/coll/exp/u8/0/10:42/20:36/2:6/?access-mode=no-cache'),
        data,
      );
      assert.deepEqual(boss.readCutout('coll', 'exp', 'u8', 0, [10, 42], [20, 36], [2, 6], [0, 1]), data);
      assert.equal(
        boss.readCutout('coll', 'exp', 'u8', 0, [10, 42], [20, 36], [2, 6], [1, 2]).some(Boolean),
        false,
      );
      assert.deepEqual([boss.stats.posts, boss.stats.gets, boss.stats.stored], [1, 1, 1]);
    });

    it('round-trips uint16 with a time range, (t, z, y, x) order', async () => {
      const data = pattern(Uint16Array, 2 * 3 * 5 * 7);
      const res = await postCutout(boss, '/v1/cutout/coll/exp/u16/0/0:7/0:5/0:3/1:3/', data);
      assert.equal(res.status, 201, res.text());
      const back = await getCutout(boss, '/v1/cutout/coll/exp/u16/0/0:7/0:5/0:3/1:3/');
      assert.deepEqual(new Uint16Array(back.buffer, back.byteOffset, back.byteLength / 2), data);
      // voxel (t=2, z=1, y=4, x=6) is element ((1*3 + 1)*5 + 4)*7 + 6 of the written array
      const one = boss.readCutout('coll', 'exp', 'u16', 0, [6, 7], [4, 5], [1, 2], [2, 3]) as Uint16Array;
      assert.deepEqual(Array.from(one), [data[((1 * 3 + 1) * 5 + 4) * 7 + 6]]);
      // t=0 (the default time sample) was never written
      assert.equal(boss.readCutout('coll', 'exp', 'u16', 0, [0, 7], [0, 5], [0, 3]).some(Boolean), false);
    });

    it('stores unaligned boxes spanning several cuboids; never-written voxels read 0', async () => {
      const X: [number, number] = [500, 530];
      const Y: [number, number] = [505, 520];
      const Z: [number, number] = [14, 18];
      const n = 30 * 15 * 4;
      const data = pattern(Uint16Array, n, 3);
      assert.equal(
        (
          await postCutout(
            boss,
            `/v1/cutout/coll/exp/u16/0/${X.join(':')}/${Y.join(':')}/${Z.join(':')}/`,
            data,
          )
        ).status,
        201,
      );
      // read a larger box around it and compare voxel by voxel
      const back = await getCutout(boss, '/v1/cutout/coll/exp/u16/0/490:540/500:525/12:20/');
      const big = new Uint16Array(back.buffer, back.byteOffset, back.byteLength / 2);
      assert.equal(big.length, 50 * 25 * 8);
      for (let z = 12; z < 20; z++)
        for (let y = 500; y < 525; y++)
          for (let x = 490; x < 540; x++) {
            const inside = x >= X[0] && x < X[1] && y >= Y[0] && y < Y[1] && z >= Z[0] && z < Z[1];
            const want = inside ? data[((z - Z[0]) * 15 + (y - Y[0])) * 30 + (x - X[0])] : 0;
            assert.equal(big[((z - 12) * 25 + (y - 500)) * 50 + (x - 490)], want, `${x},${y},${z}`);
          }
      // an overlapping second write replaces only its own voxels
      await postCutout(boss, '/v1/cutout/coll/exp/u16/0/510:512/510:511/15:16/', new Uint16Array([7, 9]));
      const after = boss.readCutout('coll', 'exp', 'u16', 0, [509, 513], [510, 511], [15, 16]) as Uint16Array;
      const old = (x: number) => data[((15 - Z[0]) * 15 + (510 - Y[0])) * 30 + (x - X[0])];
      assert.deepEqual(Array.from(after), [old(509), 7, 9, old(512)]);
    });

    it('round-trips uint64', async () => {
      const data = new BigUint64Array([1n, 2n ** 40n + 5n, 2n ** 64n - 1n, 0n, 3n, 4n]);
      assert.equal(
        (await postCutout(boss, '/v1/cutout/coll/exp/u64/0/998:1000/0:3/39:40/', data)).status,
        201,
      );
      const back = await getCutout(boss, '/v1/cutout/coll/exp/u64/0/998:1000/0:3/39:40/');
      assert.deepEqual(new BigUint64Array(back.slice().buffer), data);
    });

    it('answers 400 code 2002 to a body whose size does not match the URL', async () => {
      const res = await postCutout(boss, '/v1/cutout/coll/exp/u8/0/0:4/0:4/0:2/', new Uint8Array(31));
      assert.equal(res.status, 400);
      assert.deepEqual(
        [(res.json() as { code: number }).code, (res.json() as { status: number }).status],
        [2002, 400],
      );
      const t = await postCutout(boss, '/v1/cutout/coll/exp/u8/0/0:4/0:4/0:2/0:2/', new Uint8Array(32));
      assert.equal((t.json() as { code: number }).code, 2002); // the time range doubles the expected size
      assert.equal(boss.stats.stored, 0);
    });

    it('answers 400 code 2001 to data of another datatype', async () => {
      const res = await postCutout(boss, '/v1/cutout/coll/exp/u8/0/0:4/0:4/0:2/', new Uint16Array(32));
      assert.deepEqual([res.status, (res.json() as { code: number }).code], [400, 2001]);
      const wide = await postCutout(boss, '/v1/cutout/coll/exp/u16/0/0:4/0:4/0:2/', new BigUint64Array(32));
      assert.equal((wide.json() as { code: number }).code, 2001);
    });

    it('answers 400 code 1001 outside the frame (or time samples, lenient by one), 1002 at a resolution outside the hierarchy, 1006 to malformed URLs', async () => {
      const codes: Array<[string, number]> = [
        ['/v1/cutout/coll/exp/u8/0/990:1010/0:1/0:1/', 1001],
        ['/v1/cutout/coll/exp/u8/0/0:1/0:1/39:41/', 1001],
        ['/v1/cutout/coll/exp/u8/0/5:5/0:1/0:1/', 1001],
        ['/v1/cutout/coll/exp/u8/0/6:5/0:1/0:1/', 1001],
        ['/v1/cutout/coll/exp/u8/0/0:1/0:1/0:1/3:5/', 1001],
        ['/v1/cutout/coll/exp/u8/1/0:1/0:1/0:1/', 1002],
        ['/v1/cutout/coll/exp/u8/10/0:1/0:1/0:1/', 1006],
        ['/v1/cutout/coll/exp/u8/0/0-1/0:1/0:1/', 1006],
        ['/v1/cutout/coll/exp/u8/0/0:1/0:1/', 1006],
      ];
      for (const [path, code] of codes) {
        const res = await postCutout(boss, path, new Uint8Array(1));
        assert.deepEqual([res.status, (res.json() as { code: number }).code], [400, code], path);
      }
      // The server's time check is lenient by one: t_stop may be num_time_samples + 1.
      assert.equal(
        (await postCutout(boss, '/v1/cutout/coll/exp/u8/0/0:1/0:1/0:1/3:4/', new Uint8Array([5]))).status,
        201,
      );
      const missing = await postCutout(boss, '/v1/cutout/coll/exp/none/0/0:1/0:1/0:1/', new Uint8Array(1));
      assert.deepEqual([missing.status, (missing.json() as { code: number }).code], [404, 4000]);
      const notBlosc = await call(boss, '/v1/cutout/coll/exp/u8/0/0:1/0:1/0:1/', {
        method: 'POST',
        headers: { 'content-type': 'application/blosc' },
        body: new Uint8Array([1, 2, 3]),
      });
      assert.deepEqual([notBlosc.status, (notBlosc.json() as { code: number }).code], [400, 1006]);
    });

    it('never overwrites stored voxels with 0, and drops rewrites of a uint64 image channel', async () => {
      const first = new Uint16Array([1, 2, 3, 4]);
      await postCutout(boss, '/v1/cutout/coll/exp/u16/0/0:4/0:1/0:1/0:1/', first);
      await postCutout(boss, '/v1/cutout/coll/exp/u16/0/0:4/0:1/0:1/0:1/', new Uint16Array([0, 9, 0, 256]));
      const back = boss.readCutout('coll', 'exp', 'u16', 0, [0, 4], [0, 1], [0, 1], [0, 1]);
      assert.deepEqual(Array.from(back as Uint16Array), [1, 9, 3, 256]);
      // uint64 image: the first write into an empty cuboid lands, a rewrite of it is dropped.
      await postCutout(boss, '/v1/cutout/coll/exp/u64/0/0:2/0:1/0:1/', new BigUint64Array([5n, 6n]));
      const rewrite = await postCutout(
        boss,
        '/v1/cutout/coll/exp/u64/0/0:2/0:1/0:1/',
        new BigUint64Array([7n, 8n]),
      );
      assert.equal(rewrite.status, 201);
      const u64 = boss.readCutout('coll', 'exp', 'u64', 0, [0, 2], [0, 1], [0, 1]) as BigUint64Array;
      assert.deepEqual(Array.from(u64), [5n, 6n]);
    });

    it('writes only at base_resolution or base + 1 (else 400/9001 Resolution Mismatch) and checks every resolution against the frame at 0', async () => {
      boss.createExperiment('coll', 'deep', { coord_frame: 'cf', num_hierarchy_levels: 4 });
      boss.createChannel('coll', 'deep', 'b1', { datatype: 'uint8', base_resolution: 1 });
      const post = (res: number, x = '0:4') =>
        postCutout(boss, `/v1/cutout/coll/deep/b1/${res}/${x}/0:1/0:1/`, new Uint8Array(4).fill(3));
      assert.deepEqual([(await post(1)).status, (await post(2)).status], [201, 201]);
      const low = await post(3);
      assert.deepEqual(low.json(), { status: 400, code: 9001, message: 'Resolution Mismatch' });
      assert.equal(((await post(0)).json() as { code: number }).code, 1002);
      // x 996:1000 is outside the frame at resolution 2 (x/4 < 250) but inside at 0: accepted.
      assert.equal((await post(2, '996:1000')).status, 201);
      assert.equal(((await post(2, '998:1002')).json() as { code: number }).code, 1001);
    });

    it('answers 413 code 2000 above the configured uncompressed limit', async () => {
      const small = await startBossEmulator({ tokens: TOKENS, maxCutoutBytes: 1000 });
      try {
        seed(small);
        const res = await postCutout(small, '/v1/cutout/coll/exp/u8/0/0:20/0:20/0:4/', new Uint8Array(1600));
        assert.equal(res.status, 413);
        assert.deepEqual(res.json(), {
          status: 413,
          code: 2000,
          message: 'Cutout of 1600 bytes exceeds the 1000-byte request limit',
        });
        // the limit counts bytes, not voxels: 20x20x2 uint8 fits, uint16 does not
        assert.equal(
          (await postCutout(small, '/v1/cutout/coll/exp/u8/0/0:20/0:25/0:2/', new Uint8Array(1000))).status,
          201,
        );
        assert.equal(
          (await postCutout(small, '/v1/cutout/coll/exp/u16/0/0:20/0:20/0:2/', new Uint16Array(800))).status,
          413,
        );
        const get = await call(small, '/v1/cutout/coll/exp/u8/0/0:20/0:20/0:4/', {
          headers: { accept: 'application/blosc' },
        });
        assert.equal(get.status, 413);
      } finally {
        await small.stop();
      }
    });
  });

  describe('faults', () => {
    async function statuses(b: BossEmulator, n: number): Promise<Array<[number, string | null]>> {
      const out: Array<[number, string | null]> = [];
      for (let i = 0; i < n; i++) {
        const res = await call(b, '/v1/cutout/coll/exp/u8/0/0:8/0:8/0:1/', {
          headers: { accept: 'application/blosc' },
        });
        out.push([res.status, res.headers.get('retry-after')]);
      }
      return out;
    }

    it('injects errors and 429 at roughly the configured rates, repeatably for a seed, only on cutouts', async () => {
      boss.faults = { seed: 42, errorRate: 0.2, throttleRate: 0.1, retryAfter: 3 };
      const first = await statuses(boss, 400);
      const count = (pred: (s: number) => boolean) => first.filter(([s]) => pred(s)).length;
      const errors = count((s) => s >= 500);
      const throttled = count((s) => s === 429);
      assert.ok(errors > 50 && errors < 110, `errors ${errors}`);
      assert.ok(throttled > 20 && throttled < 60, `429s ${throttled}`);
      assert.equal(
        count((s) => s === 200),
        400 - errors - throttled,
      );
      assert.ok(first.filter(([s]) => s >= 500).every(([s]) => [500, 502, 503, 504].includes(s)));
      assert.ok(first.filter(([s]) => s === 429).every(([, retry]) => retry === '3'));
      assert.equal(boss.stats.faultsInjected, errors + throttled);
      assert.equal(boss.stats.gets, 400);
      // resources are out of scope by default
      for (let i = 0; i < 20; i++) assert.equal((await call(boss, '/v1/collection/coll/')).status, 200);
      // the same seed gives the same schedule
      boss.faults = { seed: 42, errorRate: 0.2, throttleRate: 0.1, retryAfter: 3 };
      assert.deepEqual(await statuses(boss, 400), first);
      boss.faults = {};
      assert.ok((await statuses(boss, 20)).every(([s]) => s === 200));
    });

    it('runs a script of faults first, and can store the write before losing the answer', async () => {
      boss.faults = { script: [503, 'ok', 429], storeBeforeFault: true, scope: 'all' };
      const data = pattern(Uint8Array, 8);
      assert.equal((await postCutout(boss, '/v1/cutout/coll/exp/u8/0/0:8/0:1/0:1/', data)).status, 503);
      assert.deepEqual(boss.readCutout('coll', 'exp', 'u8', 0, [0, 8], [0, 1], [0, 1]), data);
      assert.equal((await call(boss, '/v1/collection/coll/')).status, 200);
      assert.equal((await call(boss, '/v1/collection/coll/')).status, 429);
      assert.equal((await call(boss, '/v1/collection/coll/')).status, 200);
      assert.deepEqual(boss.stats.faultsByKind, { '503': 1, '429': 1 });
    });

    it("injects the storage layer's 400/9001 and, after N writes, the quota 429 with {detail} and no Retry-After", async () => {
      boss.faults = { script: ['storage', 'ok'], quotaAfterWrites: 2 };
      const post = () => postCutout(boss, '/v1/cutout/coll/exp/u8/0/0:2/0:1/0:1/', new Uint8Array([1, 2]));
      const locked = await post();
      assert.equal(locked.status, 400);
      assert.equal((locked.json() as { code: number }).code, 9001);
      assert.equal((await post()).status, 201);
      assert.equal((await post()).status, 201);
      const quota = await post();
      assert.equal(quota.status, 429);
      assert.equal(quota.headers.get('retry-after'), null);
      assert.match((quota.json() as { detail: string }).detail, /quota/);
      assert.equal((await post()).status, 429);
      assert.deepEqual(boss.stats.faultsByKind, { '9001': 1, quota: 2 });
      // A proxy's 429 says when to come back.
      boss.faults = { script: [429], retryAfter: 2 };
      const throttled = await post();
      assert.equal(throttled.headers.get('retry-after'), '2');
      assert.equal(typeof (throttled.json() as { detail: unknown }).detail, 'string');
    });

    it('drops connections without an answer: the client sees a socket error', async () => {
      boss.faults = { dropRate: 1, delayMs: 20 };
      const started = Date.now();
      const err = await new Promise<Error>((resolve, reject) => {
        const req = http.request(`${boss.url}/v1/cutout/coll/exp/u8/0/0:1/0:1/0:1/`, {
          agent: false,
          headers: { authorization: `Token ${WRITER}`, accept: 'application/blosc' },
        });
        req.on('response', (res) => reject(new Error(`unexpected answer ${res.statusCode}`)));
        req.on('error', resolve);
        req.end();
      });
      assert.match(String((err as NodeJS.ErrnoException).code ?? err.message), /ECONNRESET|socket hang up/);
      assert.ok(Date.now() - started >= 15);
      assert.equal(boss.stats.faultsByKind.drop, 1);
      assert.equal(boss.requests.at(-1)?.status, 'dropped');
    });
  });

  describe('downsample', () => {
    const url = '/v1/downsample/coll/exp/u8/';
    const status = async () => ((await call(boss, url)).json() as { status: string }).status;

    it('goes NOT_DOWNSAMPLED -> IN_PROGRESS -> DOWNSAMPLED; a write resets it; DELETE cancels', async () => {
      boss.downsample = { durationMs: 150 };
      assert.equal(await status(), 'NOT_DOWNSAMPLED');
      assert.equal((await call(boss, url, { method: 'POST' })).status, 201);
      assert.equal(await status(), 'IN_PROGRESS');
      assert.equal((await call(boss, url, { method: 'POST' })).status, 400);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await status(), 'DOWNSAMPLED');
      await postCutout(boss, '/v1/cutout/coll/exp/u8/0/0:1/0:1/0:1/', new Uint8Array([1]));
      assert.equal(await status(), 'NOT_DOWNSAMPLED');
      boss.downsample = { durationMs: 60_000 };
      await call(boss, url, { method: 'POST' });
      assert.equal((await call(boss, url, { method: 'DELETE' })).status, 204);
      assert.equal(await status(), 'NOT_DOWNSAMPLED');
      assert.equal((await call(boss, url, { method: 'POST', token: READER })).status, 403);
      assert.deepEqual([boss.stats.downsamplesStarted, boss.stats.downsamplesCancelled], [2, 1]);
    });

    it('can end FAILED', async () => {
      boss.downsample = { durationMs: 50, outcome: 'FAILED' };
      await call(boss, url, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(await status(), 'FAILED');
    });
  });

  it("redirects every request like the load balancer's http -> https redirect", async () => {
    const lb = await startBossEmulator({ tokens: TOKENS, redirectTo: 'https://boss.example/' });
    try {
      const res = await fetch(`${lb.url}/v1/collection/coll/`, { redirect: 'manual' });
      assert.equal(res.status, 301);
      assert.equal(res.headers.get('location'), 'https://boss.example/v1/collection/coll/');
    } finally {
      await lb.stop();
    }
  });
});
