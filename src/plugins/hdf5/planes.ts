/**
 * The HDF5 plugins with one file per z slice (named by the path processor from a
 * `base_filename` template): the slice, time-series and time-series label readers. Each reads
 * the part of one plane's box that its file holds.
 */
import { TileError } from '../../errors.js';
import { copyVoxels, type VolumeBox, type VolumeData, type VolumeDatatype } from '../../volumes/volume.js';
import { convertExact } from './convert.js';
import type { Hdf5File, Hdf5Numbers } from './file.js';
import { overlap } from '../../extent/box.js';
import { zeroBox } from './window.js';

/** Values read as (x, y), x the image column, turned into rows (y, x). */
function transposeXY<T extends Hdf5Numbers>(values: T, nx: number, ny: number): T {
  const out = new (values.constructor as new (n: number) => T)(values.length);
  for (let x = 0; x < nx; x++) for (let y = 0; y < ny; y++) out[y * nx + x] = values[x * ny + y];
  return out;
}

function plane(box: VolumeBox, x: [number, number], y: [number, number]): VolumeBox {
  return { x, y, z: box.z };
}

export interface SliceOptions {
  dataset: string;
  offsetDataset: string;
  extentDataset: string;
  /** Added to each file's own (y, x) offset. */
  origin: { x: number; y: number };
  datatype: VolumeDatatype;
}

function pair(h5: Hdf5File, name: string): [number, number] {
  const d = h5.dataset(name);
  const v = d.shape.length === 1 && d.shape[0] === 2 ? Array.from(d.read([[0, 2]]), Number) : [];
  if (v.length !== 2 || !v.every(Number.isInteger)) {
    throw new TileError(d.where, `must be two integers [y, x], not shape [${d.shape}]`);
  }
  return [v[0]!, v[1]!];
}

/**
 * Hdf5Slice: the file holds one 2-D (y, x) image placed at its `offset_name` [y, x] plus the
 * origin (the original added offset_origin_x to y as well), `extent_name` [y, x] long. Tiles
 * beside or beyond the image are zero on every side (the original failed right of and below it).
 */
export function readSlice(h5: Hdf5File, box: VolumeBox, o: SliceOptions): VolumeData {
  const out = zeroBox(o.datatype, box);
  const [offY, offX] = pair(h5, o.offsetDataset);
  const [lenY, lenX] = pair(h5, o.extentDataset);
  const frame = { x: offX + o.origin.x, y: offY + o.origin.y };
  const x = overlap(box.x, [frame.x, frame.x + lenX]);
  const y = overlap(box.y, [frame.y, frame.y + lenY]);
  if (!x || !y) return out;
  const d = h5.dataset(o.dataset);
  if (d.shape.length !== 2 || d.shape[0]! < lenY || d.shape[1]! < lenX) {
    throw new TileError(d.where, `has shape [${d.shape}]; ${o.extentDataset} says ${lenY} x ${lenX}`);
  }
  const values = d.read([
    [y[0] - frame.y, y[1] - frame.y],
    [x[0] - frame.x, x[1] - frame.x],
  ]);
  copyVoxels(convertExact(values, o.datatype, d.where), plane(box, x, y), out, box);
  return out;
}

/** Rounds ties to even, as numpy does, so values match what the user's own tools compute. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export interface TimeSeriesOptions {
  dataset: string;
  channel: number;
  /** Multiplies each value; the product is rounded, and must fit uint16. */
  scaleFactor: number;
}

/**
 * Hdf5TimeSeries: a (t, x, y, channel) dataset; the plane at time t and channel
 * `channel_index`, times `scale_factor`, rounded (ties to even) to uint16. A product outside
 * 0..65535 is an error naming the file (the original truncated and wrapped it).
 */
export function readTimeSeries(h5: Hdf5File, box: VolumeBox, t: number, o: TimeSeriesOptions): VolumeData {
  const out = zeroBox('uint16', box);
  const d = h5.dataset(o.dataset);
  if (d.shape.length !== 4) throw new TileError(d.where, `has shape [${d.shape}], not (t, x, y, channel)`);
  const [T, X, Y, C] = d.shape as [number, number, number, number];
  if (t < 0 || t >= T) throw new TileError(d.where, `has ${T} time points; t ${t} was asked for`);
  if (o.channel < 0 || o.channel >= C)
    throw new TileError(d.where, `has ${C} channels; channel_index ${o.channel} does not exist`);
  const x = overlap(box.x, [0, X]);
  const y = overlap(box.y, [0, Y]);
  if (!x || !y) return out;
  const raw = d.read([[t, t + 1], x, y, [o.channel, o.channel + 1]]);
  const scaled = new Float64Array(raw.length);
  for (let i = 0; i < raw.length; i++) scaled[i] = roundHalfEven(Number(raw[i]) * o.scaleFactor);
  const values = convertExact(
    transposeXY(scaled, x[1] - x[0], y[1] - y[0]),
    'uint16',
    `${d.where} (t ${t}, times scale_factor ${o.scaleFactor})`,
  );
  copyVoxels(values, plane(box, x, y), out, box);
  return out;
}

/**
 * Hdf5TimeSeriesLabel: a 2-D (x, y) label image, the same at every time point (ROIs do not
 * move). Labels keep every bit: uint64 for 64-bit datasets, else uint32 (the original's PNG path
 * cut them to 16 bits).
 */
export function readTimeSeriesLabels(h5: Hdf5File, box: VolumeBox, dataset: string): VolumeData {
  const d = h5.dataset(dataset);
  const datatype = /64$/.test(d.dtype) ? 'uint64' : 'uint32';
  const out = zeroBox(datatype, box);
  if (d.shape.length !== 2) throw new TileError(d.where, `has shape [${d.shape}], not (x, y)`);
  const [X, Y] = d.shape as [number, number];
  const x = overlap(box.x, [0, X]);
  const y = overlap(box.y, [0, Y]);
  if (!x || !y) return out;
  const values = transposeXY(d.read([x, y]), x[1] - x[0], y[1] - y[0]);
  copyVoxels(convertExact(values, datatype, d.where), plane(box, x, y), out, box);
  return out;
}
