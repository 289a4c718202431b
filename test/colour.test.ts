// Unit tests of the colour params of the PNG/TIFF/JPEG sources (src/plugins/colour.ts,
// src/tiles/decode.ts): a colour tile is an error unless the config picks a channel or asks for
// a conversion to grey.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { JobConfig } from '../src/config/types.js';
import { validateConfig } from '../src/config/validate.js';
import { createSource } from '../src/plugins/index.js';
import { PluginParamError, type Source } from '../src/plugins/types.js';
import { TileError, type Tile } from '../src/tiles/tile.js';

const W = 24;
const H = 10;

/** Channel c of pixel (x, y): distinct per channel, 16-bit values above 255. */
function sample(bits: 8 | 16, x: number, y: number, c: number): number {
  return bits === 16 ? (x * 5 + y * 11 + c * 70) * 131 + c * 1000 : x * 2 + y * 3 + c * 60;
}

/** Writes a colour (or grey + alpha) image with sharp from raw interleaved samples. */
async function writeImage(file: string, bits: 8 | 16, channels: 2 | 3 | 4): Promise<void> {
  const raw = bits === 16 ? new Uint16Array(W * H * channels) : new Uint8Array(W * H * channels);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++)
      for (let c = 0; c < channels; c++) raw[(y * W + x) * channels + c] = sample(bits, x, y, c);
  const space = channels === 2 ? (bits === 16 ? 'grey16' : 'b-w') : bits === 16 ? 'rgb16' : 'srgb';
  const img = sharp(raw, { raw: { width: W, height: H, channels } }).toColourspace(space);
  const ext = path.extname(file);
  await (
    ext === '.png'
      ? img.png()
      : ext === '.jpg'
        ? img.jpeg({ quality: 100 })
        : img.tiff({ compression: 'none' })
  ).toFile(file);
}

/** A CATMAID type-1 stack of one tile at z 0, or a z-index stack of one slice. */
function config(
  root: string,
  filetype: string,
  tileParams: Record<string, unknown>,
  zindex = false,
): JobConfig {
  return validateConfig({
    schema: { name: 'boss-v0.1-schema', validator: 'BossValidatorV01' },
    client: {
      backend: { name: 'boss', class: 'BossBackend', host: 'api.bossdb.io', protocol: 'https' },
      path_processor: zindex
        ? {
            class: 'ingestclient.plugins.stack.ZindexStackPathProcessor',
            params: { root_dir: root, extension: filetype, base_filename: 'slice<p:2>' },
          }
        : {
            class: 'ingest.plugins.catmaid.CatmaidFileImageStackPathProcessor',
            params: { root_dir: root, filetype },
          },
      tile_processor: zindex
        ? {
            class: 'ingestclient.plugins.stack.ZindexStackTileProcessor',
            params: { extension: filetype, ...tileParams },
          }
        : {
            class: 'ingest.plugins.catmaid.CatmaidFileImageStackTileProcessor',
            params: { filetype, ...tileParams },
          },
    },
    database: { collection: 'c', experiment: 'e', channel: 'ch' },
    ingest_job: {
      resolution: 0,
      extent: { x: [0, W], y: [0, H], z: [0, 1], t: [0, 1] },
      tile_size: zindex ? { x: 16, y: 8, z: 1, t: 1 } : { x: W, y: H, z: 1, t: 1 },
    },
  });
}

async function tileOf(source: Source, xi = 0, yi = 0): Promise<Tile> {
  return source.tile.process(source.path.process(xi, yi, 0, 0), xi, yi, 0, 0);
}

describe('colour params of the image sources', function () {
  this.timeout(30_000);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'boss-ingest-colour-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  /** A fresh stack directory holding one image as tile (0, 0) of z 0. */
  async function stack(name: string, ext: string, bits: 8 | 16, channels: 2 | 3 | 4): Promise<string> {
    const dir = path.join(root, name);
    fs.mkdirSync(path.join(dir, '0'), { recursive: true });
    await writeImage(path.join(dir, '0', `0_0_0.${ext}`), bits, channels);
    return dir;
  }

  for (const [ext, bits] of [
    ['png', 8],
    ['png', 16],
    ['tif', 8],
    ['tif', 16],
  ] as const) {
    describe(`${bits}-bit RGB ${ext.toUpperCase()}`, () => {
      let dir: string;
      before(async () => {
        dir = await stack(`${ext}${bits}`, ext, bits, 3);
      });

      it('is refused by default, naming the file and the params that would take it', async () => {
        const source = await createSource(config(dir, ext, {}));
        await assert.rejects(tileOf(source), (err: unknown) => {
          assert.ok(err instanceof TileError);
          assert.equal(err.file, path.join(dir, '0', `0_0_0.${ext}`));
          assert.match(err.reason, /is a colour image \(3 channels/);
          assert.match(err.reason, /"channel": N picks one channel, "colour_to_grey": true converts/);
          return true;
        });
      });

      for (const channel of [0, 1, 2]) {
        it(`"channel": ${channel} takes that channel's samples exactly, at ${bits} bits`, async () => {
          const tile = await tileOf(await createSource(config(dir, ext, { channel })));
          assert.equal(tile.datatype, bits === 16 ? 'uint16' : 'uint8');
          assert.equal(tile.width, W);
          assert.equal(tile.height, H);
          for (let y = 0; y < H; y++)
            for (let x = 0; x < W; x++)
              assert.equal(tile.data[y * W + x], sample(bits, x, y, channel), `(${x}, ${y})`);
        });
      }

      it('"colour_to_grey": true gives libvips\'s grey conversion at the same bit depth', async () => {
        const tile = await tileOf(await createSource(config(dir, ext, { colour_to_grey: true })));
        const file = path.join(dir, '0', `0_0_0.${ext}`);
        const { data } = await sharp(file)
          .toColourspace(bits === 16 ? 'grey16' : 'b-w')
          .raw(bits === 16 ? { depth: 'ushort' } : {})
          .toBuffer({ resolveWithObject: true });
        const expected =
          bits === 16
            ? Array.from({ length: W * H }, (_, i) => data.readUInt16LE(2 * i))
            : Array.from(data.subarray(0, W * H));
        assert.equal(tile.datatype, bits === 16 ? 'uint16' : 'uint8');
        assert.deepEqual(Array.from(tile.data, Number), expected);
        assert.notDeepEqual(
          expected,
          Array.from({ length: W * H }, (_, i) => sample(bits, i % W, Math.floor(i / W), 0)),
        );
      });
    });
  }

  it('a JPEG in colour: refused by default, one channel with "channel"', async () => {
    const dir = await stack('jpg', 'jpg', 8, 3);
    await assert.rejects(tileOf(await createSource(config(dir, 'jpg', {}))), /is a colour image/);
    const tile = await tileOf(await createSource(config(dir, 'jpg', { channel: 2 })));
    assert.equal(tile.data.length, W * H);
    // JPEG is lossy: close to the blue channel, not exact.
    let worst = 0;
    for (let i = 0; i < W * H; i++)
      worst = Math.max(worst, Math.abs(Number(tile.data[i]) - sample(8, i % W, Math.floor(i / W), 2)));
    assert.ok(worst <= 12, `blue differs by up to ${worst}`);
  });

  it('grey with alpha: refused by default; "colour_to_grey" drops the alpha exactly, "channel": 1 is the alpha', async () => {
    const dir = await stack('ga16', 'png', 16, 2);
    await assert.rejects(tileOf(await createSource(config(dir, 'png', {}))), /has an alpha channel/);
    const grey = await tileOf(await createSource(config(dir, 'png', { colour_to_grey: true })));
    const alpha = await tileOf(await createSource(config(dir, 'png', { channel: 1 })));
    for (let i = 0; i < W * H; i++) {
      assert.equal(grey.data[i], sample(16, i % W, Math.floor(i / W), 0));
      assert.equal(alpha.data[i], sample(16, i % W, Math.floor(i / W), 1));
    }
  });

  it('a channel the image does not have is a TileError; "channel": 0 of a grey image is the image', async () => {
    const dir = await stack('rgba', 'png', 8, 4);
    const fourth = await tileOf(await createSource(config(dir, 'png', { channel: 3 })));
    assert.equal(fourth.data[5], sample(8, 5, 0, 3));
    const greyDir = path.join(root, 'grey');
    fs.mkdirSync(path.join(greyDir, '0'), { recursive: true });
    const grey = new Uint8Array(W * H).map((_, i) => i % 251);
    await sharp(grey, { raw: { width: W, height: H, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(path.join(greyDir, '0', '0_0_0.png'));
    const same = await tileOf(await createSource(config(greyDir, 'png', { channel: 0 })));
    assert.deepEqual(Array.from(same.data, Number), Array.from(grey));
    await assert.rejects(
      tileOf(await createSource(config(greyDir, 'png', { channel: 2 }))),
      /has 1 channel\(s\), so tile_processor params channel 2 does not exist/,
    );
  });

  it('z-index stacks take the params too, and still crop each tile from the slice', async () => {
    await writeImage(path.join(root, 'slice00.png'), 16, 3);
    const source = await createSource(config(root, 'png', { channel: 1 }, true));
    const tile = await tileOf(source, 1, 1);
    assert.equal(tile.width, W - 16);
    assert.equal(tile.height, H - 8);
    for (let y = 0; y < tile.height; y++)
      for (let x = 0; x < tile.width; x++)
        assert.equal(tile.data[y * tile.width + x], sample(16, 16 + x, 8 + y, 1));
  });

  it('bad params are param errors at client.tile_processor.params', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ channel: 4 }, 'client.tile_processor.params.channel'],
      [{ channel: 'red' }, 'client.tile_processor.params.channel'],
      [{ channel: 1.5 }, 'client.tile_processor.params.channel'],
      [{ colour_to_grey: 'yes' }, 'client.tile_processor.params.colour_to_grey'],
      [{ channel: 0, colour_to_grey: true }, 'client.tile_processor.params.colour_to_grey'],
    ];
    for (const [params, where] of cases) {
      await assert.rejects(
        createSource(config(root, 'png', params)),
        (err: unknown) => err instanceof PluginParamError && err.path === where,
        JSON.stringify(params),
      );
    }
  });
});
