// An example of a source plugin of your own: a folder of raw slices, one file per z slice named
// slice_<z>.raw, each `width` x `height` samples, row-major, little-endian uint8 or uint16 (what
// many acquisition programs dump). A config names these classes as
//   "./raw-slices.mjs#RawSlicePathProcessor" and "./raw-slices.mjs#RawSliceTileProcessor"
// (paths relative to the config file). See README.md, "Your own source".
//
// The interface is typed in boss-ingest's package (types PathProcessor, TileProcessor, Tile,
// PluginParams); the JSDoc below lets an editor check this file against them.
//
// Errors: anything a path or tile processor throws fails only the chunks that need that tile,
// and the job's report names this plugin and the file. Anything setup() throws fails the job.
// With boss-ingest installed as a package, `import { TileError } from 'boss-ingest'` gives the
// error boss-ingest's own sources throw for a bad file: new TileError(file, reason).
import { open } from 'node:fs/promises';
import path from 'node:path';

/** @typedef {import('boss-ingest').PathProcessor} PathProcessor */
/** @typedef {import('boss-ingest').TileProcessor} TileProcessor */
/** @typedef {import('boss-ingest').PluginParams} PluginParams */
/** @typedef {import('boss-ingest').Tile} Tile */

/** @implements {PathProcessor} */
export class RawSlicePathProcessor {
  root = '';

  /** @param {PluginParams} params */
  setup(params) {
    if (typeof params.root_dir !== 'string')
      throw new Error('params.root_dir must be the folder of the slices');
    this.root = params.root_dir;
  }

  /** Tile indices to the file holding the tile: every tile of slice z is in slice_<z>.raw. */
  process(_x, _y, z, t) {
    if (t !== 0) throw new Error(`raw slices have a single time point; t=${t} was asked for`);
    return path.join(this.root, `slice_${z}.raw`);
  }
}

/** @implements {TileProcessor} */
export class RawSliceTileProcessor {
  width = 0;
  height = 0;
  bytes = 1;
  /** @type {import('boss-ingest').IngestJobSection | undefined} */
  job;

  /** @param {PluginParams} params */
  setup(params) {
    const { width, height, datatype } = params;
    for (const [key, value] of Object.entries({ width, height })) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
        throw new Error(`params.${key} must be a positive integer, not ${JSON.stringify(value)}`);
    }
    if (datatype !== 'uint8' && datatype !== 'uint16')
      throw new Error(`params.datatype must be "uint8" or "uint16", not ${JSON.stringify(datatype)}`);
    this.width = /** @type {number} */ (width);
    this.height = /** @type {number} */ (height);
    this.bytes = datatype === 'uint16' ? 2 : 1;
    // The whole ingest_job section comes with the params: tile_size turns indices into pixels.
    this.job = params.ingest_job;
  }

  /**
   * Reads only the rows of the tile, not the whole slice.
   * @returns {Promise<Tile>}
   */
  async process(file, x, y) {
    const size = this.job.tile_size;
    const x0 = x * size.x;
    const y0 = y * size.y;
    // Tiles at the right and bottom edges of the slice are smaller.
    const w = Math.min(size.x, this.width - x0);
    const h = Math.min(size.y, this.height - y0);
    const rowBytes = this.width * this.bytes;
    const rows = Buffer.alloc(h * rowBytes);
    const fh = await open(file, 'r');
    try {
      const { size: fileBytes } = await fh.stat();
      if (fileBytes !== this.height * rowBytes)
        throw new Error(
          `is ${fileBytes} bytes; a ${this.width}x${this.height} slice is ${this.height * rowBytes}`,
        );
      await fh.read(rows, 0, rows.length, y0 * rowBytes);
    } finally {
      await fh.close();
    }
    const data = this.bytes === 2 ? new Uint16Array(w * h) : new Uint8Array(w * h);
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        const at = row * rowBytes + (x0 + col) * this.bytes;
        data[row * w + col] = this.bytes === 2 ? rows.readUInt16LE(at) : rows[at];
      }
    }
    return { width: w, height: h, datatype: this.bytes === 2 ? 'uint16' : 'uint8', data };
  }
}
