/**
 * A PNG read row by row in one pass. A grey one (8 or 16-bit) goes through the native stream
 * (png-stream.c: zlib, on libuv's threads, rows placed straight into the chunks); the others,
 * and every PNG where that addon was not built: the file in pieces, its IDAT stream through Node's
 * zlib inflate, each scanline unfiltered as it arrives. Memory is a few rows and the inflate's buffers,
 * whatever the image's height, so a section of 50k x 50k pixels is read without ever being whole
 * in memory. Covers what png.ts covers (8 and 16-bit grey, or one picked channel of grey+alpha,
 * RGB and RGBA) when it is not interlaced; Adam7 scatters each row over seven passes, so those
 * images, palettes, tRNS and colour conversion are left to the whole-image decoders.
 */
import { open, type FileHandle } from 'node:fs/promises';
import zlib from 'node:zlib';
import { refuseColour, refuseMissingChannel, type GreyOptions } from './grey.js';
import { isPng, PNG_CHANNELS } from './png.js';
import { checkRows, type RowPlace, type RowStream, type Samples } from './rows.js';
import { isTransient, TileError, unreadable, type TileDatatype } from './tile.js';
import { inPhaseAsync } from '../metrics/phases.js';
import { nativeAddon } from '../native.js';
import { readLocalRange } from '../objects/local-file.js';

interface StreamAddon {
  openRows(fd: number, idat: number, width: number, height: number, bitDepth: number, whole: boolean): object;
  decodeRows(stream: object, count: number, targets: Uint8Array[], segments: Float64Array): Promise<void>;
  closeRows(stream: object): void;
  keep(bytes: number): void;
  release(idleMs: number): number;
}

const nativeRows = nativeAddon<StreamAddon>(import.meta.url, './png-stream.node');

/**
 * How long the native stream's kept buffers outlive the last one taken: far longer than the gap
 * between a job's slabs; a worker left idle gets the memory back.
 */
const KEEP_IDLE_MS = 10_000;
let releasing: NodeJS.Timeout | undefined;

function releaseWhenIdle(addon: StreamAddon, afterMs = KEEP_IDLE_MS): void {
  releasing = setTimeout(() => {
    releasing = undefined;
    // A buffer was taken since: try again when the last one taken is KEEP_IDLE_MS old.
    const released = addon.release(KEEP_IDLE_MS);
    if (released < 0) releaseWhenIdle(addon, -released);
  }, afterMs).unref();
}

/**
 * Lets the native stream's whole mode keep up to `bytes` of the buffers it lets go (a slice's
 * file and rows) for the next slices, until none has been taken for KEEP_IDLE_MS: a fresh buffer
 * is paged in as it is first written, a tenth of the 4k z-index bench job's worker.
 */
export function keepWholeBuffers(bytes: number): void {
  if (!nativeRows) return;
  nativeRows.keep(bytes);
  if (!releasing) releaseWhenIdle(nativeRows);
}

/**
 * How a grey PNG's rows are read: the native stream where it was built; Node's zlib for the rest.
 * 'native-whole': the native stream with the image data inflated at once by libdeflate on the
 * first read, its rows unfiltered from there as they are asked for: a z-index slab's slices when
 * the band's slices fit in memory (slab.ts). Against decoding each 4096x4096 slice whole into a
 * buffer of its own and copying that into the chunks, the 4k z-index bench job's worker went from
 * 2.37 to 2.12 CPU-s (medians of 8, interleaved), 2.02 with png-stream.c's kept buffers.
 */
export type PngRowReader = 'native' | 'native-whole' | 'node-zlib';

const IDAT = 0x49444154;
const IHDR = 0x49484452;
const TRNS = 0x74524e53;
/** Bytes of the file read at a time. */
const READ_PIECE = 1 << 20;
/**
 * Compressed bytes given to the inflate at a time, and only when every row it gave is used: what
 * it hands back is bounded by this times deflate's largest ratio (about 1000), even for a blank image.
 */
const FEED_PIECE = 32 << 10;
/** Bytes the inflate hands over at a time. */
const INFLATE_PIECE = 256 << 10;

interface Layout {
  width: number;
  height: number;
  bitDepth: number;
  channels: number;
  /** File offset of the first IDAT chunk. */
  idat: number;
}

/**
 * Opens `file` as a row stream, or gives undefined when it is a PNG for the whole-image path (or
 * not a PNG at all; with 'native-whole', also one the native stream does not take, or where it was
 * not built). A grey image is asked for as png.ts asks: colour without a channel is refused.
 */
export async function openPngRows(
  file: string,
  options: GreyOptions,
  reader: PngRowReader = nativeRows ? 'native' : 'node-zlib',
): Promise<RowStream | undefined> {
  let handle: FileHandle;
  if (reader === 'native-whole' && !nativeRows) return undefined;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw unreadable(file, err);
  }
  try {
    const layout = await readLayout(handle, file, options);
    const native = reader !== 'node-zlib' && nativeRows && layout?.channels === 1 ? nativeRows : undefined;
    if (!layout || (!native && reader === 'native-whole')) {
      await handle.close();
      return undefined;
    }
    if (native) return new NativePngRows(native, handle, file, layout, reader === 'native-whole');
    return new PngRows(handle, file, layout, options.channel ?? 0);
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function readAt(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  return buffer.subarray(0, await readLocalRange(handle, buffer, length, offset));
}

/** The header, and where the image data starts; undefined for images this path does not stream. */
async function readLayout(
  handle: FileHandle,
  file: string,
  options: GreyOptions,
): Promise<Layout | undefined> {
  const head = await readAt(handle, 0, 33);
  if (!isPng(head)) return undefined;
  if (head.length < 33 || head.readUInt32BE(12) !== IHDR)
    throw new TileError(file, 'cannot be decoded: the PNG has no IHDR header');
  const [width, height] = [head.readUInt32BE(16), head.readUInt32BE(20)];
  const [bitDepth, colourType, interlace] = [head[24]!, head[25]!, head[28]!];
  const channels = PNG_CHANNELS[colourType];
  if (channels === undefined || (bitDepth !== 8 && bitDepth !== 16) || interlace !== 0) return undefined;
  if (channels !== 1 && options.channel === undefined) {
    if (options.colourToGrey) return undefined;
    const sixteen = bitDepth === 16;
    const space = colourType === 4 ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
    refuseColour(file, channels, colourType >= 4, space);
  }
  if (options.channel !== undefined && options.channel >= channels)
    refuseMissingChannel(file, channels, options.channel);
  // Walk the chunks before the image data: a tRNS there makes an alpha channel.
  for (let at = 8; ;) {
    const header = await readAt(handle, at, 8);
    if (header.length < 8) throw new TileError(file, 'cannot be decoded: the PNG has no image data');
    const type = header.readUInt32BE(4);
    if (type === IDAT) return { width, height, bitDepth, channels, idat: at };
    if (type === TRNS) return undefined;
    at += 12 + header.readUInt32BE(0);
  }
}

/**
 * A file read front to back a block at a time: a PNG's image data comes in many small chunks (8
 * KiB each from libpng), which would otherwise cost three reads each.
 */
class FileCursor {
  private block: Buffer = Buffer.alloc(0);
  private at = 0;

  constructor(
    private readonly handle: FileHandle,
    private next: number,
  ) {}

  /** The next bytes, at most `n`; empty only at the end of the file. Views stay valid: each block is a new buffer. */
  async upTo(n: number): Promise<Buffer> {
    if (this.at >= this.block.length) {
      this.block = await readAt(this.handle, this.next, READ_PIECE);
      this.next += this.block.length;
      this.at = 0;
    }
    const piece = this.block.subarray(this.at, this.at + n);
    this.at += piece.length;
    return piece;
  }

  /** The next `n` bytes, fewer only at the end of the file. */
  async exactly(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let have = 0; have < n;) {
      const piece = await this.upTo(n - have);
      if (piece.length === 0) break;
      parts.push(piece);
      have += piece.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/**
 * The payloads of the consecutive IDAT chunks from `at`, each chunk's CRC checked, gathered into
 * pieces of FEED_PIECE bytes (the last one shorter) for the inflate.
 */
async function* idatPayloads(handle: FileHandle, file: string, at: number): AsyncGenerator<Buffer> {
  const cursor = new FileCursor(handle, at);
  const truncated = () => new TileError(file, 'is truncated: the image data ends early');
  let feed: Buffer[] = [];
  let fed = 0;
  for (;;) {
    const header = await cursor.exactly(8);
    if (header.length < 8) throw truncated();
    if (header.readUInt32BE(4) !== IDAT) break;
    let crc = zlib.crc32(header.subarray(4));
    for (let left = header.readUInt32BE(0); left > 0;) {
      const piece = await cursor.upTo(Math.min(left, FEED_PIECE - fed));
      if (piece.length === 0) throw truncated();
      crc = zlib.crc32(piece, crc);
      left -= piece.length;
      feed.push(piece);
      fed += piece.length;
      if (fed === FEED_PIECE) {
        yield Buffer.concat(feed);
        [feed, fed] = [[], 0];
      }
    }
    const stored = await cursor.exactly(4);
    if (stored.length < 4) throw truncated();
    if (stored.readUInt32BE(0) !== crc) throw new TileError(file, 'is corrupt: an IDAT chunk fails its CRC');
  }
  if (fed > 0) yield Buffer.concat(feed);
}

class PngRows implements RowStream {
  readonly width: number;
  readonly height: number;
  readonly datatype: TileDatatype;
  private readonly inflate = zlib.createInflate({ chunkSize: INFLATE_PIECE });
  private readonly compressed: AsyncGenerator<Buffer>;
  /** Inflated bytes not yet taken, oldest first. */
  private readonly inflated: Buffer[] = [];
  private ended = false;
  private failure?: Error;
  private piece: Buffer = Buffer.alloc(0);
  private pieceAt = 0;
  /** Bytes of a pixel (every channel), the filters' distance to the left neighbour. */
  private readonly bpp: number;
  private current: Uint8Array;
  private previous: Uint8Array;
  /** The rows handed over by the last call, as samples. */
  private band: Samples;
  private delivered = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly file: string,
    private readonly layout: Layout,
    private readonly channel: number,
  ) {
    this.width = layout.width;
    this.height = layout.height;
    const sixteen = layout.bitDepth === 16;
    this.datatype = sixteen ? 'uint16' : 'uint8';
    this.bpp = layout.channels * (sixteen ? 2 : 1);
    this.current = new Uint8Array(layout.width * this.bpp);
    this.previous = new Uint8Array(layout.width * this.bpp);
    this.band = sixteen ? new Uint16Array(0) : new Uint8Array(0);
    this.compressed = idatPayloads(handle, file, layout.idat);
    this.inflate.on('data', (out: Buffer) => this.inflated.push(out));
    this.inflate.on('error', (err) => (this.failure ??= err));
    this.inflate.on('end', () => (this.ended = true));
  }

  async rows(count: number): Promise<Samples> {
    checkRows(this.delivered, count, this.height);
    const width = this.width;
    if (this.band.length < count * width)
      this.band = this.datatype === 'uint16' ? new Uint16Array(count * width) : new Uint8Array(count * width);
    for (let i = 0; i < count; i++) {
      const filter = await this.fill();
      this.unfilter(filter);
      this.toSamples(i * width);
      [this.previous, this.current] = [this.current, this.previous];
      this.delivered++;
    }
    if (this.delivered === this.height) await this.finish();
    return this.band.subarray(0, count * width);
  }

  /**
   * After the last row: the rest of the stream, so that its Adler-32 is checked (the rows may all
   * be out before the inflate reaches it). Bytes past the last row are let be, as libpng does.
   */
  private async finish(): Promise<void> {
    try {
      while (!this.ended) {
        if (this.failure) throw this.failure;
        this.inflated.length = 0;
        const next = await this.compressed.next();
        if (next.done) await this.feedEnd();
        else await this.feed(next.value);
      }
      if (this.failure) throw this.failure;
    } catch (err) {
      throw this.asTileError(err);
    }
  }

  /** Hands the inflate compressed bytes; settles once it took them or failed (then without the write's callback). */
  private feed(bytes: Buffer): Promise<void> {
    return new Promise<void>((resolve) => {
      const failed = () => resolve();
      this.inflate.once('error', failed);
      this.inflate.write(bytes, () => {
        this.inflate.off('error', failed);
        resolve();
      });
    });
  }

  /** Reads the next scanline's filter byte and bytes into `current`; returns the filter type. */
  private async fill(): Promise<number> {
    let filter = -1;
    let at = 0;
    const stride = this.current.length;
    while (at < stride) {
      if (this.pieceAt >= this.piece.length) await this.nextPiece();
      if (filter < 0) {
        filter = this.piece[this.pieceAt++]!;
        continue;
      }
      const n = Math.min(stride - at, this.piece.length - this.pieceAt);
      this.current.set(this.piece.subarray(this.pieceAt, this.pieceAt + n), at);
      this.pieceAt += n;
      at += n;
    }
    if (filter > 4)
      throw new TileError(this.file, `cannot be decoded: row ${this.delivered} has filter type ${filter}`);
    return filter;
  }

  /** The next inflated piece; compressed bytes are fed only when none is left. */
  private async nextPiece(): Promise<void> {
    try {
      while (this.inflated.length === 0) {
        if (this.failure) throw this.failure;
        if (this.ended)
          throw new TileError(
            this.file,
            `is truncated: the image data ends at row ${this.delivered} of ${this.height}`,
          );
        const next = await this.compressed.next();
        if (next.done) await this.feedEnd();
        else await this.feed(next.value);
      }
    } catch (err) {
      throw this.asTileError(err);
    }
    this.piece = this.inflated.shift()!;
    this.pieceAt = 0;
  }

  private feedEnd(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.ended = true;
        resolve();
      };
      this.inflate.once('end', done);
      this.inflate.once('error', done);
      this.inflate.end();
      // 'end' comes only once the inflated bytes are read: they already are, through 'data'.
    });
  }

  private asTileError(err: unknown): Error {
    if (err instanceof TileError || isTransient(err)) return err as Error;
    return new TileError(this.file, `cannot be decoded: ${(err as Error).message}`);
  }

  /** Undoes the scanline's filter in place (PNG spec, section 9), bytes wrapping modulo 256. */
  private unfilter(filter: number): void {
    const cur = this.current;
    const prev = this.previous;
    const bpp = this.bpp;
    const n = cur.length;
    // The row above the first is zeros.
    if (this.delivered === 0) prev.fill(0);
    switch (filter) {
      case 1:
        for (let i = bpp; i < n; i++) cur[i] = cur[i]! + cur[i - bpp]!;
        break;
      case 2:
        for (let i = 0; i < n; i++) cur[i] = cur[i]! + prev[i]!;
        break;
      case 3:
        for (let i = 0; i < bpp; i++) cur[i] = cur[i]! + (prev[i]! >> 1);
        for (let i = bpp; i < n; i++) cur[i] = cur[i]! + ((cur[i - bpp]! + prev[i]!) >> 1);
        break;
      case 4:
        for (let i = 0; i < bpp; i++) cur[i] = cur[i]! + prev[i]!;
        for (let i = bpp; i < n; i++) {
          const a = cur[i - bpp]!;
          const b = prev[i]!;
          const c = prev[i - bpp]!;
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          cur[i] = cur[i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
    }
  }

  /** The unfiltered row as samples at `at` of the band: big-endian 16-bit made native, the picked channel strided out. */
  private toSamples(at: number): void {
    const cur = this.current;
    const { channels, bitDepth } = this.layout;
    const out = this.band;
    if (bitDepth === 8 && channels === 1) {
      out.set(cur, at);
      return;
    }
    const end = at + this.width;
    if (bitDepth === 8) {
      for (let i = at, j = this.channel; i < end; i++, j += channels) out[i] = cur[j]!;
    } else {
      const step = 2 * channels;
      for (let i = at, j = 2 * this.channel; i < end; i++, j += step) out[i] = (cur[j]! << 8) | cur[j + 1]!;
    }
  }

  async close(): Promise<void> {
    this.inflate.destroy();
    await this.compressed.return(undefined);
    await this.handle.close().catch(() => undefined);
  }
}

/** What the native stream's error codes say about the file (see png-stream.c). */
const NATIVE_FAILURE: Record<string, string> = {
  TRUNCATED: 'is truncated',
  CORRUPT: 'is corrupt',
  DECODE: 'cannot be decoded',
};

class NativePngRows implements RowStream {
  readonly width: number;
  readonly height: number;
  readonly datatype: TileDatatype;
  private readonly stream: object;
  private readonly bytes: number;
  private band: Samples;
  private delivered = 0;
  /** The decode in flight: the stream is freed only after it. */
  private pending: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly addon: StreamAddon,
    private readonly handle: FileHandle,
    private readonly file: string,
    layout: Layout,
    whole: boolean,
  ) {
    this.width = layout.width;
    this.height = layout.height;
    this.datatype = layout.bitDepth === 16 ? 'uint16' : 'uint8';
    this.bytes = layout.bitDepth / 8;
    this.band = this.bytes === 2 ? new Uint16Array(0) : new Uint8Array(0);
    const { idat, width, height, bitDepth } = layout;
    this.stream = addon.openRows(handle.fd, idat, width, height, bitDepth, whole);
  }

  async rows(count: number): Promise<Samples> {
    const n = count * this.width;
    if (this.band.length < n) this.band = this.bytes === 2 ? new Uint16Array(n) : new Uint8Array(n);
    const samples = new Uint8Array(this.band.buffer, this.band.byteOffset, n * this.bytes);
    await this.rowsInto(count, [{ samples, x: [0, this.width], offset: 0, stride: this.width * this.bytes }]);
    return this.band.subarray(0, n);
  }

  rowsInto(count: number, places: RowPlace[]): Promise<void> {
    checkRows(this.delivered, count, this.height);
    const segments = new Float64Array(5 * places.length);
    places.forEach((p, k) => segments.set([k, p.x[0], p.x[1] - p.x[0], p.offset, p.stride], 5 * k));
    const targets = places.map((p) => p.samples);
    this.pending = inPhaseAsync('decode', () =>
      this.addon.decodeRows(this.stream, count, targets, segments),
    ).then(
      () => void (this.delivered += count),
      (err: unknown) => {
        throw this.asError(err);
      },
    );
    return this.pending;
  }

  private asError(err: unknown): Error {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const what = NATIVE_FAILURE[code];
    if (what) return new TileError(this.file, `${what}: ${(err as Error).message}`);
    return unreadable(this.file, err);
  }

  async close(): Promise<void> {
    await this.pending.catch(() => undefined);
    if (this.closed) return;
    this.closed = true;
    this.addon.closeRows(this.stream);
    await this.handle.close().catch(() => undefined);
  }
}
