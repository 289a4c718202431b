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
import { readWithZarrPython, tempDir } from './harness/env.js';
import { statSync } from 'node:fs';
import { decodeBloscLz4, encodeBloscLz4 } from '../src/destinations/blosc.js';
import { decodeChunk } from '../src/destinations/codec.js';

/** Chunk x of the volume: what its content is like. */
const KINDS = ['smooth', 'noise', 'half noise', 'uniform'] as const;

function content(kind: (typeof KINDS)[number], n: number, datatype: Datatype, seed: number): Uint8Array {
  const samples = datatype === 'uint16' ? new Uint16Array(n) : new Uint8Array(n);
  const top = datatype === 'uint16' ? 65536 : 256;
  // Half noise: whole 256 KiB blocks alternate, so some are stored as they are and some compressed.
  const bytes = datatype === 'uint16' ? 2 : 1;
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    const noise = (s >>> 8) % top;
    const smooth = Math.floor((Math.sin(i / 500) + 1) * (top / 2 - 1)) & ~15;
    samples[i] =
      kind === 'smooth'
        ? smooth
        : kind === 'noise'
          ? noise
          : kind === 'uniform'
            ? 9
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
    it(`${datatype} chunks of ${chunk.z}x${chunk.y}x${chunk.x}: smooth, noise, half noise and uniform`, async () => {
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
        const uniform = statSync(chunkFile(volume, { t: 0, z: 0, y: 0, x: 3 })).size;
        if (n >= 1000) assert.ok(uniform < n / 10, `a uniform chunk of ${n} samples takes ${uniform} bytes`);

        const read = await readWithZarrPython(volume.path);
        assert.deepEqual(read.shape, [chunk.z, chunk.y, chunk.x * KINDS.length]);
        const bytes = datatype === 'uint16' ? 2 : 1;
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

describe('blosc frames decoded natively', function () {
  it('reads back every kind of frame it writes, as the wasm blosc does, and leaves other frames to it', async () => {
    const { Blosc } = await import('numcodecs');
    const wasm = Blosc.fromConfig({ cname: 'lz4', clevel: 5, shuffle: 0, blocksize: 0 });
    for (const n of [50, 4800, 600_000, 4 * 2 ** 20]) {
      for (const [k, kind] of KINDS.entries()) {
        const samples = content(kind, n, 'uint8', k + 1);
        const frame = encodeBloscLz4(samples);
        const native = decodeBloscLz4(frame);
        assert.ok(native, `${kind}, ${n} bytes: decoded natively`);
        assert.ok(Buffer.from(native).equals(Buffer.from(samples)), `${kind}, ${n} bytes`);
        assert.ok(Buffer.from(await wasm.decode(frame)).equals(Buffer.from(samples)));
      }
    }
    // c-blosc's own frames with byte shuffle: not ours to decode natively, still read through the wasm blosc.
    const samples = content('smooth', 600_000, 'uint16', 3);
    const shuffled = await Blosc.fromConfig({ cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 }).encode(
      samples,
    );
    assert.equal(decodeBloscLz4(shuffled), undefined);
    assert.ok(Buffer.from(await decodeChunk('blosc', shuffled)).equals(Buffer.from(samples)));
  });
});
