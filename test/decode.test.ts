// Exactness of the tile decoders (src/tiles/decode.ts and the PNG and JPEG paths beside it): every
// image decodes to the very samples Pillow gives a user's Python script for the same file.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { promisify } from 'node:util';
import { decodeGreyImage } from '../src/tiles/decode.js';
import { decodeGreyJpeg, nativeJpeg, type JpegDecoder } from '../src/tiles/jpeg.js';
import { decodePng, nativePng, type PngDecoder } from '../src/tiles/png.js';
import { keepWholeBuffers, openPngRows, type PngRowReader } from '../src/tiles/png-rows.js';
import { nativeAddon } from '../src/native.js';
import type { Tile } from '../src/tiles/tile.js';
import { REPO, tempDir, venvPython } from './harness/env.js';

interface Case {
  name: string;
  file: string;
  expected: string;
  width: number;
  height: number;
  datatype: 'uint8' | 'uint16';
  channel?: number;
}

const ROW_READERS: PngRowReader[] = ['native', 'native-whole', 'node-zlib'];

/** The image as streamed row by row (png-rows.ts), gathered into one tile. */
async function streamed(file: string, channel?: number, reader?: PngRowReader): Promise<Tile | undefined> {
  const rows = await openPngRows(file, channel === undefined ? {} : { channel }, reader);
  if (!rows) return undefined;
  const data =
    rows.datatype === 'uint16'
      ? new Uint16Array(rows.width * rows.height)
      : new Uint8Array(rows.width * rows.height);
  try {
    // A few rows at a time, as a slab reads a band of rows from each slice.
    for (let y = 0; y < rows.height; y += 7) {
      const n = Math.min(7, rows.height - y);
      data.set(await rows.rows(n), y * rows.width);
    }
  } finally {
    await rows.close();
  }
  return { width: rows.width, height: rows.height, datatype: rows.datatype, data };
}

/**
 * The image as the native stream places it straight into buffers, as a slab places a slice's rows
 * into its chunks: a band of rows at a time, the left columns into one buffer and the rest into
 * another, each at an offset and with padding after each row; then gathered into one tile.
 */
async function placed(file: string, reader: PngRowReader): Promise<Tile | undefined> {
  const rows = await openPngRows(file, {}, reader);
  if (!rows) return undefined;
  assert.ok(rows.rowsInto, `${file}: not streamed natively`);
  const { width, height } = rows;
  const bytes = rows.datatype === 'uint16' ? 2 : 1;
  const split = Math.floor(width / 3);
  const [strideA, strideB] = [(split + 3) * bytes, (width - split + 5) * bytes];
  const [offsetA, offsetB] = [7, 11];
  const a = new Uint8Array(offsetA + strideA * height);
  const b = new Uint8Array(offsetB + strideB * height);
  try {
    for (let y = 0; y < height; y += 7) {
      const n = Math.min(7, height - y);
      await rows.rowsInto(n, [
        { samples: a, x: [0, split], offset: offsetA + y * strideA, stride: strideA },
        { samples: b, x: [split, width], offset: offsetB + y * strideB, stride: strideB },
      ]);
    }
  } finally {
    await rows.close();
  }
  const whole = new Uint8Array(width * height * bytes);
  for (let y = 0; y < height; y++) {
    whole.set(a.subarray(offsetA + y * strideA, offsetA + y * strideA + split * bytes), y * width * bytes);
    whole.set(
      b.subarray(offsetB + y * strideB, offsetB + y * strideB + (width - split) * bytes),
      (y * width + split) * bytes,
    );
  }
  const data = bytes === 2 ? new Uint16Array(whole.buffer) : whole;
  return { width, height, datatype: rows.datatype, data };
}

/** '' when the decode equals Pillow's samples, else what differs (for the failure message). */
async function difference(
  c: Case,
  decode: (c: Case) => Promise<Tile | undefined> = decodeWhole,
): Promise<string> {
  const tile = await decode(c);
  if (!tile) return `${c.name}: not decoded`;
  const got = [tile.width, tile.height, tile.datatype].join(' ');
  const want = [c.width, c.height, c.datatype].join(' ');
  if (got !== want) return `${c.name}: decoded ${got}, Pillow ${want}`;
  const expected = readFileSync(c.expected);
  const samples =
    c.datatype === 'uint16'
      ? new Uint16Array(expected.buffer, expected.byteOffset, expected.length / 2)
      : new Uint8Array(expected);
  let differing = 0;
  let first = -1;
  for (let i = 0; i < samples.length; i++) {
    if (tile.data[i] !== samples[i]) {
      differing++;
      if (first < 0) first = i;
    }
  }
  if (differing === 0) return '';
  const x = first % c.width;
  const y = Math.floor(first / c.width);
  return `${c.name}: ${differing} voxels differ, first (x ${x}, y ${y}) ${tile.data[first]} vs Pillow ${samples[first]}`;
}

/** A path as a regular expression's literal text. */
function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function decodeWhole(c: Case): Promise<Tile> {
  return decodeGreyImage(c.file, c.channel === undefined ? {} : { channel: c.channel });
}

describe('tile decoders against Pillow', function () {
  this.timeout(120_000);
  let dir: string;
  let cases: Case[] = [];

  before(async () => {
    dir = tempDir('pillow');
    const script = path.join(REPO, 'test', 'harness', 'pillow_images.py');
    const { stdout } = await promisify(execFile)(venvPython(), [script, dir], { maxBuffer: 1 << 20 }).catch(
      (err: Error) => {
        throw new Error(
          `Pillow could not write the test images (${venvPython()}; .ci/run installs it): ${err.message}`,
        );
      },
    );
    cases = JSON.parse(stdout) as Case[];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The first half of a case's file, as `name` in the test's folder. */
  function truncatedCopy(c: Case, name: string): string {
    const file = path.join(dir, name);
    const bytes = readFileSync(c.file);
    writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
    return file;
  }

  const groups: [string, RegExp, number][] = [
    [
      '8-bit grey PNGs: each filter type alone, all five mixed, Adam7 interlaced, odd sizes',
      /^png-grey8-/,
      14,
    ],
    [
      '16-bit grey PNGs: each filter type alone, all five mixed, Adam7 interlaced, odd sizes',
      /^png-grey16-/,
      14,
    ],
    [
      'a picked channel of RGB, RGBA and grey+alpha PNGs, 8-bit, plain and interlaced',
      /^png-(rgb|rgba|greyalpha)8-/,
      18,
    ],
    [
      'a picked channel of RGB, RGBA and grey+alpha PNGs, 16-bit, plain and interlaced',
      /^png-(rgb|rgba|greyalpha)16-/,
      18,
    ],
    [
      "PNGs Pillow writes itself: its own filters, 8 and 16-bit, and a palette's channels",
      /^pillow-.*-png/,
      5,
    ],
    [
      'grey JPEGs (baseline, odd size, progressive): as libjpeg-turbo decodes them by default',
      /^pillow-grey.*-jpg/,
      3,
    ],
    ['the channels of a colour JPEG with 4:2:0 chroma', /^pillow-colour420-jpg/, 3],
    ['TIFFs, 8 and 16-bit, uncompressed, LZW and deflate', /-tif$/, 4],
  ];
  for (const [title, pattern, count] of groups) {
    it(title, async () => {
      const group = cases.filter((c) => pattern.test(c.name));
      assert.equal(group.length, count, `cases matching ${pattern}: ${group.map((c) => c.name).join(', ')}`);
      const differences = (await Promise.all(group.map((c) => difference(c)))).filter(Boolean);
      assert.deepEqual(differences, []);
    });
  }

  for (const decoder of ['native', 'sharp'] as JpegDecoder[]) {
    it(`grey JPEGs through ${decoder === 'native' ? 'our libjpeg-turbo addon (the default, built by npm run build)' : 'sharp (where the addon could not be built)'}`, async () => {
      if (decoder === 'native')
        assert.ok(nativeJpeg, 'src/tiles/jpeg-grey.c was not built: see npm run build');
      const group = cases.filter((c) => /^pillow-grey.*-jpg/.test(c.name));
      assert.equal(group.length, 3);
      const differences = (
        await Promise.all(
          group.map((c) => difference(c, (k) => decodeGreyJpeg(readFileSync(k.file), {}, decoder))),
        )
      ).filter(Boolean);
      assert.deepEqual(differences, []);
    });
  }

  for (const decoder of ['native', 'napi'] as PngDecoder[]) {
    it(`grey PNGs, 8 and 16-bit, every filter type, interlaced, Pillow's own, through ${decoder === 'native' ? 'our libdeflate addon (the default, built by npm run build)' : '@napi-rs/image (where the addon could not be built)'}`, async () => {
      if (decoder === 'native') assert.ok(nativePng, 'src/tiles/png-grey.c was not built: see npm run build');
      const group = cases.filter((c) => /^png-grey(8|16)-|^pillow-grey(8|16)-png/.test(c.name));
      assert.equal(group.length, 30, group.map((c) => c.name).join(', '));
      const decode = async (c: Case) => decodePng(c.file, readFileSync(c.file), {}, decoder);
      const differences = (await Promise.all(group.map((c) => difference(c, decode)))).filter(Boolean);
      assert.deepEqual(differences, []);
    });
  }

  it("a PNG whose image data was damaged (one byte flipped) is an error that names the file and the chunk's CRC", async () => {
    const c = cases.find((k) => k.name === 'png-grey8-512x512-mixed')!;
    const bytes = readFileSync(c.file);
    const idat = bytes.indexOf('IDAT');
    bytes[idat + 100] ^= 0x10;
    const file = path.join(dir, 'damaged.png');
    writeFileSync(file, bytes);
    await assert.rejects(decodeGreyImage(file), (err: Error) => {
      assert.match(err.message, new RegExp(`^${escaped(file)}: cannot be decoded: .*CRC`, 'i'));
      return true;
    });
    for (const reader of ROW_READERS)
      await assert.rejects(streamed(file, undefined, reader), (err: Error) => {
        assert.match(err.message, new RegExp(`^${escaped(file)}: is corrupt: .*CRC`, 'i'), reader);
        return true;
      });
  });

  it('a PNG whose Adler-32 does not match its samples (every CRC right) is an error of every decoder, naming the file', async () => {
    const c = cases.find((k) => k.name === 'png-grey8-512x512-mixed')!;
    const bytes = readFileSync(c.file);
    // The zlib stream's last 4 bytes, its Adler-32, end the last IDAT chunk; that chunk's CRC is made right again.
    const last = bytes.lastIndexOf('IDAT');
    const length = bytes.readUInt32BE(last - 4);
    assert.ok(length >= 4, 'the last IDAT chunk holds the whole Adler-32');
    bytes[last + 4 + length - 1] ^= 0x01;
    bytes.writeUInt32BE(crc32(bytes.subarray(last, last + 4 + length)), last + 4 + length);
    const file = path.join(dir, 'adler.png');
    writeFileSync(file, bytes);
    await assert.rejects(decodeGreyImage(file), (err: Error) => {
      assert.match(err.message, new RegExp(`^${escaped(file)}: cannot be decoded`));
      return true;
    });
    for (const reader of ROW_READERS)
      await assert.rejects(streamed(file, undefined, reader), (err: Error) => {
        assert.match(
          err.message,
          new RegExp(`^${escaped(file)}: cannot be decoded: .*(corrupt|check)`, 'i'),
          reader,
        );
        return true;
      });
  });

  it('a truncated JPEG is an error that names the file, and no samples', async () => {
    const file = truncatedCopy(
      cases.find((c) => /^pillow-grey.*-jpg/.test(c.name))!,
      'truncated.jpg',
    );
    await assert.rejects(decodeGreyImage(file), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(`^${escaped(file)}: cannot be decoded: .*(premature end|truncated)`, 'i'),
      );
      return true;
    });
  });

  for (const reader of ROW_READERS)
    it(`PNGs streamed row by row (${reader}): every filter type, 8 and 16-bit, picked channels, Pillow's own`, async () => {
      // The whole mode takes grey PNGs only: the z-index slab's own, whose rows go straight into chunks.
      const grey = reader === 'native-whole';
      const group = cases.filter(
        (c) =>
          /^png-|^pillow-grey(8|16)-png/.test(c.name) &&
          !c.name.includes('adam7') &&
          (!grey || c.channel === undefined),
      );
      // 12 grey cases each of 8 and 16 bits, 9 picked channels each, Pillow's two grey PNGs.
      assert.equal(group.length, grey ? 26 : 44, group.map((c) => c.name).join(', '));
      const differences = (
        await Promise.all(group.map((c) => difference(c, (k) => streamed(k.file, k.channel, reader))))
      ).filter(Boolean);
      assert.deepEqual(differences, []);
    });

  for (const reader of ['native', 'native-whole'] as const)
    it(`grey PNGs streamed natively (${reader}) straight into buffers, a band of rows split between two of them`, async () => {
      const group = cases.filter(
        (c) => /^png-grey(8|16)-|^pillow-grey(8|16)-png/.test(c.name) && !c.name.includes('adam7'),
      );
      assert.equal(group.length, 26, group.map((c) => c.name).join(', '));
      const differences = (
        await Promise.all(group.map((c) => difference(c, (k) => placed(k.file, reader))))
      ).filter(Boolean);
      assert.deepEqual(differences, []);
    });

  it('interlaced and palette PNGs, JPEGs and TIFFs are not streamed: they are decoded whole', async () => {
    const group = cases.filter((c) => c.name.includes('adam7') || /palette|-jpg$|-tif$/.test(c.name));
    assert.ok(group.length >= 10, group.map((c) => c.name).join(', '));
    for (const c of group) {
      assert.equal(await streamed(c.file, c.channel), undefined, c.name);
      assert.equal(await streamed(c.file, c.channel, 'native-whole'), undefined, c.name);
    }
  });

  it('rows asked past the end of a streamed PNG are refused by both readers, the rows before them delivered', async () => {
    const c = cases.find((k) => k.name === 'png-grey8-512x512-mixed')!;
    for (const reader of ROW_READERS) {
      const rows = (await openPngRows(c.file, {}, reader))!;
      try {
        assert.equal((await rows.rows(rows.height - 2)).length, (rows.height - 2) * rows.width, reader);
        await assert.rejects(async () => rows.rows(3), RangeError, reader);
        if (reader !== 'node-zlib') {
          const place = { samples: new Uint8Array(3 * rows.width), x: [0, rows.width] as [number, number] };
          await assert.rejects(
            async () => rows.rowsInto!(3, [{ ...place, offset: 0, stride: rows.width }]),
            RangeError,
          );
        }
      } finally {
        await rows.close();
      }
    }
  });

  it('a truncated PNG is an error that names the file', async () => {
    const file = truncatedCopy(
      cases.find((c) => c.name === 'png-grey8-512x512-mixed')!,
      'truncated.png',
    );
    await assert.rejects(decodeGreyImage(file), (err: Error) => {
      assert.match(err.message, new RegExp(`^${escaped(file)}: cannot be decoded`));
      return true;
    });
    // Streamed, the rows before the cut are handed over, then the error names the file.
    for (const reader of ROW_READERS)
      await assert.rejects(streamed(file, undefined, reader), (err: Error) => {
        assert.match(err.message, new RegExp(`^${escaped(file)}: is truncated`), reader);
        return true;
      });
  });

  it('PNGs read whole keep their buffers for the next ones, and let them go once idle', async function () {
    this.timeout(30_000);
    const stream = nativeAddon<{ release(idleMs: number): number }>(
      new URL('../src/tiles/png-rows.js', import.meta.url).href,
      './png-stream.node',
    )!;
    const c = cases.find((k) => k.name === 'png-grey8-512x512-mixed')!;
    const readWhole = async () => {
      keepWholeBuffers(64 * 2 ** 20);
      for (let i = 0; i < 3; i++) assert.ok(await streamed(c.file, undefined, 'native-whole'));
    };
    await readWhole();
    // Kept: the file's and the rows' buffers, at least one rows' worth.
    assert.ok(stream.release(0) >= 513 * 512, 'buffers were kept');
    await readWhole();
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    // Let go by the idle timer: nothing is left to release.
    assert.equal(stream.release(0), 0);
  });
});
