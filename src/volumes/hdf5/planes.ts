/**
 * The HDF5 plugins with one file per z slice, named from a template (`base_filename` with
 * `<o:N p:M>` tokens, as the z-index stack): the slice, time-series and time-series label
 * processors.
 */
import path from 'node:path';
import { expandBaseFilename } from '../../plugins/base-filename.js';
import { copyVoxels, VolumeError, type VolumeBox, type VolumeData } from '../volume.js';
import { convertExact } from './convert.js';
import type { Hdf5Dataset, Hdf5Numbers } from './file.js';
import { intersect, WindowedHdf5Volume, type WindowedOptions } from './windowed.js';

export interface PlaneFilesOptions extends WindowedOptions {
  rootDir: string;
  extension: string;
  baseFilename: string;
}

abstract class PlaneFilesVolume extends WindowedHdf5Volume {
  constructor(
    protected readonly naming: PlaneFilesOptions,
    what: string,
  ) {
    super(`${path.join(naming.rootDir, `${naming.baseFilename}.${naming.extension}`)}:${what}`, naming);
  }

  fileFor(z: number): string {
    return path.join(
      this.naming.rootDir,
      `${expandBaseFilename(this.naming.baseFilename, 0, 0, z)}.${this.naming.extension}`,
    );
  }

  protected async datasetFor(z: number, name: string): Promise<Hdf5Dataset> {
    const file = this.fileFor(z);
    const d = await this.files.dataset(file, name);
    if (!d) throw new VolumeError(this.files.where(file), `does not exist (the file for z ${z})`);
    return d;
  }

  /** Writes plane z's part of the box into `out`. */
  protected abstract fillPlane(out: VolumeData, box: VolumeBox, z: number, t: number): Promise<void>;

  protected async fill(out: VolumeData, box: VolumeBox, t: number): Promise<void> {
    for (let z = box.z[0]; z < box.z[1]; z++) await this.fillPlane(out, box, z, t);
  }
}

/** Values read as (x, y), x the image column, turned into rows (y, x). */
function transposeXY<T extends Hdf5Numbers>(values: T, nx: number, ny: number): T {
  const out = new (values.constructor as new (n: number) => T)(values.length);
  for (let x = 0; x < nx; x++) for (let y = 0; y < ny; y++) out[y * nx + x] = values[x * ny + y];
  return out;
}

export interface SliceOptions extends PlaneFilesOptions {
  dataset: string;
  offsetDataset: string;
  extentDataset: string;
  /** Added to each file's own (y, x) offset. */
  origin: { x: number; y: number };
}

/**
 * Hdf5Slice: each file holds one 2-D (y, x) image placed at its `offset_name` [y, x] plus the
 * origin (the original added offset_origin_x to y as well), `extent_name` [y, x] long. Tiles
 * beside or beyond the image are zero on every side (the original failed right of and below it).
 */
export class Hdf5SliceVolume extends PlaneFilesVolume {
  constructor(private readonly options: SliceOptions) {
    super(options, options.dataset);
  }

  private async pair(z: number, name: string): Promise<[number, number]> {
    const d = await this.datasetFor(z, name);
    const v = Array.from(d.read([[0, 2]]) as ArrayLike<number | bigint>, Number);
    if (d.shape.length !== 1 || d.shape[0] !== 2 || !v.every(Number.isInteger)) {
      throw new VolumeError(`${d.file}:${name}`, `must be two integers [y, x], not shape [${d.shape}]`);
    }
    return [v[0], v[1]];
  }

  protected async fillPlane(out: VolumeData, box: VolumeBox, z: number): Promise<void> {
    const o = this.options;
    const [offY, offX] = await this.pair(z, o.offsetDataset);
    const [lenY, lenX] = await this.pair(z, o.extentDataset);
    const frame = { x: offX + o.origin.x, y: offY + o.origin.y };
    const x = intersect(box.x, [frame.x, frame.x + lenX]);
    const y = intersect(box.y, [frame.y, frame.y + lenY]);
    if (!x || !y) return;
    const d = await this.datasetFor(z, o.dataset);
    const where = `${d.file}:${o.dataset}`;
    if (d.shape.length !== 2 || d.shape[0] < lenY || d.shape[1] < lenX) {
      throw new VolumeError(where, `has shape [${d.shape}]; ${o.extentDataset} says ${lenY} x ${lenX}`);
    }
    const values = d.read([
      [y[0] - frame.y, y[1] - frame.y],
      [x[0] - frame.x, x[1] - frame.x],
    ]);
    copyVoxels(convertExact(values, this.datatype, where), { x, y, z: [z, z + 1] }, out, box);
  }
}

/** Rounds ties to even, as numpy does, so values match what the user's own tools compute. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface TimeSeriesOptions extends PlaneFilesOptions {
  dataset: string;
  channel: number;
  /** Multiplies each value; the product is rounded, and must fit uint16. */
  scaleFactor: number;
}

/**
 * Hdf5TimeSeries: per z file, a (t, x, y, channel) dataset; the plane at time t and channel
 * `channel_index`, times `scale_factor`, rounded (ties to even) to uint16. A product outside 0..65535 is an
 * error naming the file (the original truncated and wrapped it).
 */
export class Hdf5TimeSeriesVolume extends PlaneFilesVolume {
  constructor(private readonly options: TimeSeriesOptions) {
    super(options, options.dataset);
  }

  protected async fillPlane(out: VolumeData, box: VolumeBox, z: number, t: number): Promise<void> {
    const o = this.options;
    const d = await this.datasetFor(z, o.dataset);
    const where = `${d.file}:${o.dataset}`;
    if (d.shape.length !== 4) throw new VolumeError(where, `has shape [${d.shape}], not (t, x, y, channel)`);
    const [T, X, Y, C] = d.shape;
    if (t < 0 || t >= T) throw new VolumeError(where, `has ${T} time points; t ${t} was asked for`);
    if (o.channel < 0 || o.channel >= C)
      throw new VolumeError(where, `has ${C} channels; channel_index ${o.channel} does not exist`);
    const x = intersect(box.x, [0, X]);
    const y = intersect(box.y, [0, Y]);
    if (!x || !y) return;
    const raw = d.read([[t, t + 1], x, y, [o.channel, o.channel + 1]]);
    const nx = x[1] - x[0];
    const ny = y[1] - y[0];
    const scaled = new Float64Array(raw.length);
    for (let i = 0; i < raw.length; i++) scaled[i] = roundHalfEven(Number(raw[i]) * o.scaleFactor);
    const plane = convertExact(
      transposeXY(scaled, nx, ny),
      this.datatype,
      `${where} (t ${t}, times scale_factor ${o.scaleFactor})`,
    );
    copyVoxels(plane, { x, y, z: [z, z + 1] }, out, box);
  }
}

/**
 * Hdf5TimeSeriesLabel: per z file, a 2-D (x, y) label image, the same at every time point (ROIs
 * do not move); labels keep their full 32 bits (the original's PNG path cut them to 16).
 */
export class Hdf5TimeSeriesLabelVolume extends PlaneFilesVolume {
  constructor(private readonly options: PlaneFilesOptions & { dataset: string }) {
    super(options, options.dataset);
  }

  protected async fillPlane(out: VolumeData, box: VolumeBox, z: number): Promise<void> {
    const d = await this.datasetFor(z, this.options.dataset);
    const where = `${d.file}:${this.options.dataset}`;
    if (d.shape.length !== 2) throw new VolumeError(where, `has shape [${d.shape}], not (x, y)`);
    const [X, Y] = d.shape;
    const x = intersect(box.x, [0, X]);
    const y = intersect(box.y, [0, Y]);
    if (!x || !y) return;
    const values = transposeXY(d.read([x, y]), x[1] - x[0], y[1] - y[0]);
    copyVoxels(convertExact(values, this.datatype, where), { x, y, z: [z, z + 1] }, out, box);
  }
}
