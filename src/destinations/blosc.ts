/**
 * Blosc 1 frames of LZ4 blocks compressed natively (liblz4 on libuv's threads through
 * lz4-blocks.c; lz4-napi on the calling thread where that addon was not built), the frame format
 * that c-blosc (zarr-python, numcodecs) and the wasm blosc read. The wasm blosc encoded about 80
 * MiB/s on one thread, slower than decoding the tiles; native LZ4 runs at several hundred MiB/s.
 *
 * Frame: a 16-byte header (format version, codec version, flags, typesize, then little-endian
 * uncompressed size, block size, frame size), the offsets of the blocks, then each block as one
 * stream (a 4-byte compressed size and the LZ4 block; a stream as large as its block is stored
 * as is). No shuffle and no split into per-byte streams, so the typesize does not change what the
 * bytes mean.
 */
import { compressSync, uncompressSync } from 'lz4-napi';
import { nativeAddon } from '../native.js';

/** liblz4 on libuv's threads (lz4-blocks.c), where it was built; lz4-napi on the calling thread otherwise. */
const lz4Blocks = nativeAddon<{
  compressBlocks(
    data: Uint8Array,
    blockSize: number,
    probe: number,
    acceleration: number,
  ): Promise<Buffer | null> | null;
}>(import.meta.url, './lz4-blocks.node');

/** The level our frames' metadata declares (codec.ts): LZ4 is fast at every level, and readers need only the frame. */
export const BLOSC_CLEVEL = 1;
/**
 * LZ4's acceleration at that level, as c-blosc (1 and 2) sets it: 10 - clevel. On the bench's 16k
 * sections, 256 KiB blocks, one thread: 2,370 MiB/s at 9 against 1,620 at 1 (LZ4_compress_default),
 * 17.0% of the size against 16.7%. lz4-napi, the fallback, has no such setting.
 */
const LZ4_ACCELERATION = 10 - BLOSC_CLEVEL;

const HEADER = 16;
/** Large blocks compress a little better and cost fewer calls; readers decode them in parallel. */
const BLOCK = 256 * 1024;
const FORMAT_VERSION = 2;
const LZ4_FORMAT_VERSION = 1;
const BYTE_SHUFFLE = 0x01;
const MEMCPYED = 0x02;
const BIT_SHUFFLE = 0x04;
const DONT_SPLIT = 0x10;
const LZ4_CODE = 1 << 5;
/** c-blosc splits a block into one stream per byte of a sample only above these sizes. */
const MAX_SPLITS = 16;
const MIN_BUFFERSIZE = 128;
/** c-blosc's limit on an uncompressed buffer. */
const MAX_BYTES = 2 ** 31 - 1 - HEADER;

function header(flags: number, nbytes: number, blocksize: number, cbytes: number): Uint8Array {
  const head = new Uint8Array(HEADER);
  const view = new DataView(head.buffer);
  head[0] = FORMAT_VERSION;
  head[1] = LZ4_FORMAT_VERSION;
  head[2] = flags;
  head[3] = 1;
  view.setUint32(4, nbytes, true);
  view.setUint32(8, blocksize, true);
  view.setUint32(12, cbytes, true);
  return head;
}

/**
 * A frame holding `data` uncompressed, what c-blosc itself writes when compression does not pay:
 * its header, then `data` itself rather than a copy (see encodeBloscLz4Parts).
 */
function storedFrame(data: Uint8Array): Uint8Array[] {
  const size = HEADER + data.length;
  return [header(MEMCPYED | DONT_SPLIT | LZ4_CODE, data.length, Math.min(BLOCK, data.length), size), data];
}

/**
 * The bytes at a block's start that are compressed first: when they do not shrink by a 32nd, the
 * block is stored as is without compressing the rest. Microscopy's noisy voxels barely compress
 * (LZ4 saved 0.45% on the bench's 8-bit PNG stack) and compressing a 4 MiB chunk in vain cost
 * about 10 ms of a thread, as much as decoding its tiles; zeros, labels and background still
 * compress as before. Either way the frame holds the same samples.
 */
const PROBE = 16 * 1024;

function worthCompressing(block: Buffer): boolean {
  if (block.length <= 2 * PROBE) return true;
  // lz4-napi puts the uncompressed size (4 bytes) before the LZ4 block.
  return compressSync(block.subarray(0, PROBE)).length - 4 < PROBE - PROBE / 32;
}

/** The LZ4 block (lz4-napi's output less the size blosc keeps in its header) where it spares enough, else the block as is. */
function smaller(packed: Uint8Array, block: Uint8Array): Uint8Array {
  return packed.length <= block.length - spared(block.length) ? packed : block;
}

/**
 * What a block's stream, or a whole frame, must spare to be kept compressed: a 32nd (and a byte, as
 * a stream as large as its block reads as stored). For less, every later read (pyramid, verify,
 * merge) would decompress a chunk a stored frame gives in place. lz4-blocks.c keeps the same rule.
 */
function spared(bytes: number): number {
  return Math.max(1, bytes >> 5);
}

/** The frame of `data`, as one buffer. */
export async function encodeBloscLz4(data: Uint8Array): Promise<Uint8Array> {
  const parts = await encodeBloscLz4Parts(data);
  if (parts.length === 1) return parts[0]!;
  const frame = new Uint8Array(HEADER + data.length);
  frame.set(parts[0]!);
  frame.set(data, HEADER);
  return frame;
}

/**
 * The frame of `data` as buffers to write one after the other: a stored frame (noisy data, the
 * common case) is its header and `data` itself, which spares a copy of the chunk per write.
 */
export async function encodeBloscLz4Parts(data: Uint8Array): Promise<Uint8Array[]> {
  if (data.length > MAX_BYTES) throw new RangeError(`a blosc frame holds at most ${MAX_BYTES} bytes`);
  const blocks = Math.ceil(data.length / BLOCK);
  if (blocks === 0) return storedFrame(data);
  if (lz4Blocks) {
    const frame = await lz4Blocks.compressBlocks(data, BLOCK, PROBE, LZ4_ACCELERATION);
    if (!frame) return storedFrame(data);
    frame.set(header(DONT_SPLIT | LZ4_CODE, data.length, Math.min(BLOCK, data.length), frame.length));
    return [frame];
  }
  return encodeOnThisThread(data, blocks);
}

/** encodeBloscLz4Parts with lz4-napi, where the native blocks were not built. */
function encodeOnThisThread(data: Uint8Array, blocks: number): Uint8Array[] {
  const input = Buffer.from(data.buffer, data.byteOffset, data.length);
  const streams: Uint8Array[] = [];
  let size = HEADER + 4 * blocks;
  for (let b = 0; b < blocks; b++) {
    const block = input.subarray(b * BLOCK, Math.min((b + 1) * BLOCK, data.length));
    const stream = worthCompressing(block) ? smaller(compressSync(block).subarray(4), block) : block;
    streams.push(stream);
    size += 4 + stream.length;
    if (size > HEADER + data.length - spared(data.length)) return storedFrame(data);
  }
  const frame = new Uint8Array(size);
  const view = new DataView(frame.buffer);
  // c-blosc refuses a block size larger than the data.
  frame.set(header(DONT_SPLIT | LZ4_CODE, data.length, Math.min(BLOCK, data.length), size));
  let at = HEADER + 4 * blocks;
  streams.forEach((stream, b) => {
    view.setUint32(HEADER + 4 * b, at, true);
    view.setUint32(at, stream.length, true);
    frame.set(stream, at + 4);
    at += 4 + stream.length;
  });
  return [frame];
}

/** Bytes of a frame that break its own header: never read past them. */
function corrupt(why: string): Error {
  return new Error(`not a valid blosc frame: ${why}`);
}

/**
 * Decodes a blosc 1 frame natively when its blocks are LZ4 (or stored) and byte-shuffled or not,
 * as c-blosc does (the rules of its blosc_d: splits per sample byte, stored streams, leftover
 * block); undefined for other codecs and bit shuffle, which the wasm blosc decodes. Our own
 * chunks, zarr-python's default blosc lz4 and the Boss's answers are all of the native kind; the
 * wasm decoder read about 100 MiB/s on one thread. The samples of a stored frame are a view of
 * the frame's memory.
 */
export function decodeBloscNative(frame: Uint8Array): Uint8Array | undefined {
  if (frame.length < HEADER) throw corrupt(`${frame.length} bytes, shorter than its header`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const flags = frame[2]!;
  const typesize = frame[3]!;
  const nbytes = view.getUint32(4, true);
  const blocksize = view.getUint32(8, true);
  const cbytes = view.getUint32(12, true);
  if (cbytes > frame.length) throw corrupt(`it says ${cbytes} bytes, holds ${frame.length}`);
  if (flags & MEMCPYED) {
    if (HEADER + nbytes > frame.length) throw corrupt('stored data shorter than its size');
    // The samples as they lie in the frame, not a copy: incompressible chunks are stored, and
    // a copy would be one more pass over every stored chunk a pyramid, verify or merge reads.
    return new Uint8Array(frame.buffer, frame.byteOffset + HEADER, nbytes);
  }
  const out = new Uint8Array(nbytes);
  if (flags & BIT_SHUFFLE || flags >> 5 !== LZ4_CODE >> 5) return undefined;
  if (nbytes === 0) return out;
  if (blocksize === 0) throw corrupt('block size 0');
  const shuffled = (flags & BYTE_SHUFFLE) !== 0 && typesize > 1;
  const dontSplit = (flags & DONT_SPLIT) !== 0;
  const blocks = Math.ceil(nbytes / blocksize);
  const scratch = shuffled ? new Uint8Array(blocksize) : undefined;
  for (let b = 0; b < blocks; b++) {
    const leftover = b === blocks - 1 && nbytes % blocksize !== 0;
    const size = leftover ? nbytes % blocksize : blocksize;
    const splits =
      !dontSplit && typesize <= MAX_SPLITS && blocksize / typesize >= MIN_BUFFERSIZE && !leftover
        ? typesize
        : 1;
    const streamSize = size / splits;
    const target = scratch ? scratch.subarray(0, size) : out.subarray(b * blocksize, b * blocksize + size);
    let at = view.getUint32(HEADER + 4 * b, true);
    for (let s = 0; s < splits; s++) {
      if (at + 4 > frame.length) throw corrupt(`block ${b} starts past its end`);
      const packed = view.getUint32(at, true);
      at += 4;
      if (at + packed > frame.length) throw corrupt(`block ${b} runs past its end`);
      const stream = frame.subarray(at, at + packed);
      if (packed === streamSize) {
        target.set(stream, s * streamSize);
      } else {
        // lz4-napi reads the uncompressed size from the 4 bytes before the LZ4 block, where the
        // frame holds the stream's compressed size: swapped for the call and back, rather than
        // copying every stream (a copy and 4 MiB of garbage a chunk; the call is synchronous).
        view.setUint32(at - 4, streamSize, true);
        let plain: Buffer;
        try {
          plain = uncompressSync(frame.subarray(at - 4, at + packed));
        } finally {
          view.setUint32(at - 4, packed, true);
        }
        if (plain.length !== streamSize)
          throw corrupt(`block ${b} decodes to ${plain.length} bytes, not ${streamSize}`);
        target.set(plain, s * streamSize);
      }
      at += packed;
    }
    if (scratch)
      unshuffle(scratch.subarray(0, size), typesize, out.subarray(b * blocksize, b * blocksize + size));
  }
  return out;
}

/** Undoes c-blosc's byte shuffle of a block: byte j of sample i sits at j * samples + i. */
function unshuffle(src: Uint8Array, typesize: number, dest: Uint8Array): void {
  const samples = Math.floor(src.length / typesize);
  if (typesize === 2) {
    const high = samples;
    for (let i = 0; i < samples; i++) {
      dest[2 * i] = src[i]!;
      dest[2 * i + 1] = src[high + i]!;
    }
  } else {
    for (let j = 0; j < typesize; j++) {
      const from = j * samples;
      for (let i = 0; i < samples; i++) dest[i * typesize + j] = src[from + i]!;
    }
  }
  // Bytes past the last whole sample are not shuffled.
  dest.set(src.subarray(samples * typesize), samples * typesize);
}
