// The native blosc writer (src/destinations/blosc.ts): chunks of every kind of content, in sizes
// that fill several blocks, end in a partial block or fit in one, read back by zarr-python
// (c-blosc) and by our own reader (the wasm blosc) equal to what was written.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Datatype } from '../src/config/types.js';
import {
  chunkFile,
  openZarrVolume,
  readZarrChunk,
  writeZarrChunk,
  type ZarrVolume,
} from '../src/destinations/zarr.js';
import { wholeChunk, type ChunkShape } from '../src/extent/grid.js';
import { readWithZarrPython, tempDir, venvPython } from './harness/env.js';
import { statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { decodeBloscNative, encodeBloscLz4 } from '../src/destinations/blosc.js';
import { decodeChunk } from '../src/destinations/codec.js';

/** Chunk x of the volume: what its content is like. */
const KINDS = ['smooth', 'noise', 'half noise', 'uniform', 'nearly noise'] as const;

function content(kind: (typeof KINDS)[number], n: number, datatype: Datatype, seed: number): Uint8Array {
  const samples = datatype === 'uint16' ? new Uint16Array(n) : new Uint8Array(n);
  const top = datatype === 'uint16' ? 65536 : 256;
  // Half noise: whole 256 KiB blocks alternate, so some are stored as they are and some compressed.
  // Nearly noise: each block starts with 4 KiB of smooth samples, then noise; LZ4 spares about 1.5%.
  const bytes = datatype === 'uint16' ? 2 : 1;
  // xorshift32: an LCG's low bits repeat within LZ4's window, and would compress.
  let s = seed;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const noise = (s >>> 0) % top;
    const smooth = Math.floor((Math.sin(i / 500) + 1) * (top / 2 - 1)) & ~15;
    samples[i] =
      kind === 'smooth'
        ? smooth
        : kind === 'noise'
          ? noise
          : kind === 'uniform'
            ? 9
            : kind === 'nearly noise'
              ? (i * bytes) % 2 ** 18 < 4096
                ? smooth
                : noise
              : ((i * bytes) >> 18) % 2
                ? noise
                : smooth;
  }
  return new Uint8Array(samples.buffer);
}

describe('blosc chunks written natively, read by zarr-python', function () {
  this.timeout(120_000);
  const shapes: [Datatype, ChunkShape][] = [
    ['uint8', { x: 512, y: 512, z: 16 }], // 4 MiB: 16 whole blocks
    ['uint16', { x: 200, y: 300, z: 5 }], // 600,000 bytes: two blocks and a partial one
    ['uint16', { x: 40, y: 30, z: 2 }], // 4,800 bytes: less than one block
    ['uint8', { x: 10, y: 5, z: 1 }], // 50 bytes
  ];
  for (const [datatype, chunk] of shapes) {
    it(`${datatype} chunks of ${chunk.z}x${chunk.y}x${chunk.x}: smooth, noise, half noise, uniform and nearly noise`, async () => {
      const dir = tempDir('blosc');
      try {
        const volume: ZarrVolume = {
          name: 'zarr',
          path: path.join(dir, 'v.ome.zarr'),
          datatype,
          compressor: 'blosc',
          chunk,
          timeAxis: false,
        };
        const extent = {
          x: [0, chunk.x * KINDS.length],
          y: [0, chunk.y],
          z: [0, chunk.z],
          t: [0, 1],
        } as const;
        await openZarrVolume(volume, { x: [...extent.x], y: [...extent.y], z: [...extent.z], t: [0, 1] });
        const n = chunk.x * chunk.y * chunk.z;
        const written = KINDS.map((kind, x) => content(kind, n, datatype, x + 1));
        for (const [x, samples] of written.entries()) {
          const coord = { t: 0, z: 0, y: 0, x };
          await writeZarrChunk(volume, { ...wholeChunk(chunk, coord), coord }, samples);
          assert.deepEqual(await readZarrChunk(volume, coord), samples, `our reader, chunk ${KINDS[x]}`);
        }
        const size = (x: number) => statSync(chunkFile(volume, { t: 0, z: 0, y: 0, x })).size;
        const bytes = datatype === 'uint16' ? 2 : 1;
        if (n >= 1000) {
          assert.ok(size(3) < n / 10, `a uniform chunk of ${n} samples takes ${size(3)} bytes`);
          // Noise is stored as it is (not compressed in vain); what compresses still does, also
          // in the blocks of a chunk that alternate with noise.
          assert.ok(size(1) >= n * bytes, `a noise chunk of ${n * bytes} bytes takes ${size(1)}`);
          if (n * bytes > 512 * 1024) {
            // Under the data's size: its smooth blocks were compressed (a frame is only kept
            // compressed when it spares a 32nd; stored, it would take the data and a header).
            assert.ok(size(2) < n * bytes, `a half-noise chunk of ${n * bytes} bytes takes ${size(2)}`);
            // Sparing under a 32nd is not worth a decompression on every later read.
            assert.ok(size(4) >= n * bytes, `a nearly-noise chunk of ${n * bytes} bytes takes ${size(4)}`);
          }
        }

        const read = await readWithZarrPython(volume.path);
        assert.deepEqual(read.shape, [chunk.z, chunk.y, chunk.x * KINDS.length]);
        const rowBytes = chunk.x * bytes;
        for (const [x, samples] of written.entries()) {
          for (let row = 0; row < chunk.z * chunk.y; row++) {
            const from = (row * KINDS.length + x) * rowBytes;
            const got = read.data.subarray(from, from + rowBytes);
            const want = samples.subarray(row * rowBytes, (row + 1) * rowBytes);
            if (Buffer.compare(got, want) !== 0)
              assert.fail(`zarr-python reads chunk ${KINDS[x]} differently at row ${row}`);
          }
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('blosc frames read natively, as c-blosc writes them', function () {
  this.timeout(120_000);
  // Frames made by zarr-python's numcodecs (c-blosc) in every layout our native reader claims:
  // LZ4 with and without byte shuffle, split and unsplit blocks, stored blocks, a leftover block,
  // typesizes 1, 2, 4 and 8; and codecs it leaves to the wasm reader (blosclz, zstd, bit shuffle).
  const script = String.raw`
import sys, json, base64, numpy as np
from numcodecs import Blosc
rng = np.random.default_rng(7)
out = []
for typesize, dtype in [(1, 'u1'), (2, '<u2'), (4, '<u4'), (8, '<u8')]:
    for n in [1, 100, 40000, 300001]:
        smooth = (np.sin(np.arange(n) / 300) * 100 + 100).astype(dtype)
        noise = rng.integers(0, 2 ** (8 * typesize) - 1, n, dtype=np.uint64).astype(dtype)
        for name, data in [('smooth', smooth), ('noise', noise)]:
            for cname, shuffle, blocksize in [('lz4', 0, 0), ('lz4', 1, 0), ('lz4', 1, 2048), ('lz4hc', 1, 0), ('lz4', 2, 0), ('blosclz', 1, 0), ('zstd', 0, 0)]:
                codec = Blosc(cname=cname, clevel=5, shuffle=shuffle, blocksize=blocksize)
                frame = codec.encode(data)
                out.append(dict(label=f'{cname} shuffle {shuffle} blocksize {blocksize} {dtype} x{n} {name}', frame=base64.b64encode(frame).decode(), plain=base64.b64encode(data.tobytes()).decode(), native=cname in ('lz4', 'lz4hc') and shuffle != 2))
json.dump(out, sys.stdout)
`;
  it('decodes each frame to the bytes c-blosc compressed, and leaves other codecs to the wasm reader', async () => {
    const cases = JSON.parse(
      execFileSync(venvPython(), ['-c', script], { maxBuffer: 1 << 30 }).toString(),
    ) as {
      label: string;
      frame: string;
      plain: string;
      native: boolean;
    }[];
    assert.ok(cases.length > 100, `${cases.length} frames`);
    let native = 0;
    for (const c of cases) {
      const frame = new Uint8Array(Buffer.from(c.frame, 'base64'));
      const plain = Buffer.from(c.plain, 'base64');
      const decoded = decodeBloscNative(frame);
      if (c.native) {
        assert.ok(decoded, `${c.label}: the native reader declined it`);
        assert.ok(Buffer.compare(Buffer.from(decoded), plain) === 0, `${c.label}: decoded differently`);
        native++;
      } else if (decoded) {
        // Stored frames (c-blosc's memcpy) of any codec are read natively too.
        assert.ok(Buffer.compare(Buffer.from(decoded), plain) === 0, `${c.label}: decoded differently`);
      }
      assert.ok(
        Buffer.compare(Buffer.from(await decodeChunk('blosc', frame)), plain) === 0,
        `${c.label}: decodeChunk`,
      );
    }
    assert.ok(native > 50, `${native} frames read natively`);
  });

  it('refuses a truncated frame with a message, not garbage', async () => {
    const data = content('smooth', 600_000, 'uint8', 3);
    const frame = await encodeBloscLz4(data);
    assert.throws(() => decodeBloscNative(frame.subarray(0, frame.length - 100)), /not a valid blosc frame/);
    assert.throws(() => decodeBloscNative(frame.subarray(0, 10)), /not a valid blosc frame/);
  });
});
