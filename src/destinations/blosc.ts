/**
 * Blosc 1 frames of LZ4 blocks compressed natively (lz4-napi), the frame format that c-blosc
 * (zarr-python, numcodecs) and the wasm blosc read. The wasm blosc encoded about 80 MiB/s on one
 * thread, slower than decoding the tiles; native LZ4 runs at several hundred MiB/s.
 *
 * Frame: a 16-byte header (format version, codec version, flags, typesize, then little-endian
 * uncompressed size, block size, frame size), the offsets of the blocks, then each block as one
 * stream (a 4-byte compressed size and the LZ4 block; a stream as large as its block is stored
 * as is). No shuffle and no split into per-byte streams, so the typesize does not change what the
 * bytes mean.
 */
import { compressSync, uncompressSync } from 'lz4-napi';

const HEADER = 16;
/** Large blocks compress a little better and cost fewer calls; readers decode them in parallel. */
const BLOCK = 256 * 1024;
const FORMAT_VERSION = 2;
const LZ4_FORMAT_VERSION = 1;
const SHUFFLE = 0x01;
const MEMCPYED = 0x02;
const BITSHUFFLE = 0x04;
const DONT_SPLIT = 0x10;
const LZ4_CODE = 1 << 5;
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

/** A frame holding `data` uncompressed: what c-blosc itself writes when compression does not pay. */
function storedFrame(data: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER + data.length);
  frame.set(
    header(MEMCPYED | DONT_SPLIT | LZ4_CODE, data.length, Math.min(BLOCK, data.length), frame.length),
  );
  frame.set(data, HEADER);
  return frame;
}

export function encodeBloscLz4(data: Uint8Array): Uint8Array {
  if (data.length > MAX_BYTES) throw new RangeError(`a blosc frame holds at most ${MAX_BYTES} bytes`);
  const blocks = Math.ceil(data.length / BLOCK);
  if (blocks === 0) return storedFrame(data);
  const input = Buffer.from(data.buffer, data.byteOffset, data.length);
  const streams: Uint8Array[] = [];
  let size = HEADER + 4 * blocks;
  for (let b = 0; b < blocks; b++) {
    const block = input.subarray(b * BLOCK, Math.min((b + 1) * BLOCK, data.length));
    // lz4-napi puts the uncompressed size (4 bytes) before the LZ4 block; blosc keeps it in its header.
    const packed = compressSync(block).subarray(4);
    const stream = packed.length < block.length ? packed : block;
    streams.push(stream);
    size += 4 + stream.length;
    if (size >= HEADER + data.length) return storedFrame(data);
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
  return frame;
}

/**
 * The samples of a frame as encodeBloscLz4 writes them (LZ4, no shuffle, unsplit blocks, or
 * stored), decoded natively: the pyramid reads every level-0 chunk, and the wasm blosc decodes
 * LZ4 several times slower. Undefined for any other frame, which the wasm blosc decodes.
 */
export function decodeBloscLz4(frame: Uint8Array): Uint8Array | undefined {
  if (frame.length < HEADER || frame[0] !== FORMAT_VERSION) return undefined;
  const flags = frame[2]!;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.length);
  const nbytes = view.getUint32(4, true);
  const blocksize = view.getUint32(8, true);
  if (view.getUint32(12, true) !== frame.length) return undefined;
  if (flags & MEMCPYED)
    return frame.length === HEADER + nbytes ? new Uint8Array(frame.subarray(HEADER)) : undefined;
  if (flags & (SHUFFLE | BITSHUFFLE) || !(flags & DONT_SPLIT) || flags >> 5 !== 1 || blocksize === 0)
    return undefined;
  const out = new Uint8Array(nbytes);
  const blocks = Math.ceil(nbytes / blocksize);
  for (let b = 0; b < blocks; b++) {
    const size = Math.min(blocksize, nbytes - b * blocksize);
    const at = view.getUint32(HEADER + 4 * b, true);
    const csize = view.getUint32(at, true);
    const stream = frame.subarray(at + 4, at + 4 + csize);
    if (csize === size) {
      out.set(stream, b * blocksize);
      continue;
    }
    // lz4-napi wants the uncompressed size before the block, as compressSync writes it.
    const packed = Buffer.allocUnsafe(4 + csize);
    packed.writeUInt32LE(size, 0);
    packed.set(stream, 4);
    const block = uncompressSync(packed);
    if (block.length !== size) return undefined;
    out.set(block, b * blocksize);
  }
  return out;
}
