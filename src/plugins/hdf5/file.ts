/**
 * HDF5 files opened read-only with h5wasm, which reads hyperslabs (windows) through the HDF5
 * library itself: only the chunks a window touches are read, never the whole file. A few files
 * stay open between tiles (consecutive tiles come from the same file) and the rest are closed (the
 * original never closed its h5py handles). Files on S3 (`filesystem: "s3"`) are downloaded to a
 * temp file that is unlinked as soon as it is open, so the disk holds only the open ones (the
 * original kept every download until the end of the run).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { TileError } from '../../errors.js';
import { openStore, StoreError, type ObjectStore } from '../../objects/store.js';

type H5File = InstanceType<typeof h5wasm.File>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

export type Hdf5Numbers =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

export interface Hdf5Dataset {
  /** `file:dataset`, for messages. */
  where: string;
  shape: number[];
  /** e.g. uint16, int32, float32 */
  dtype: string;
  /** Reads [start, stop) on each axis, C order. */
  read(ranges: [number, number][]): Hdf5Numbers;
}

/** An open file: its datasets are read synchronously, while the file is in use. */
export interface Hdf5File {
  /** The file as the user named it (s3://bucket/key on S3). */
  where: string;
  /** The dataset; a name the file does not hold is an error naming the file and the dataset. */
  dataset(name: string): Hdf5Dataset;
}

/** Where HDF5 files live: the local filesystem, or an S3 bucket (keys are the paths). */
export interface Hdf5Location {
  filesystem: 'local' | 's3';
  bucket?: string;
  tempDir?: string;
}

/** Files kept open while idle. */
const OPEN_FILES = 8;

function dtypeName(d: H5Dataset): string {
  const m = d.metadata;
  if (m.type === 1) return `float${8 * m.size}`;
  if (m.type === 0) return `${m.signed ? 'int' : 'uint'}${8 * m.size}`;
  return `HDF5 type class ${m.type}`;
}

interface OpenEntry {
  /** Undefined when the file does not exist. */
  handle: Promise<H5File | undefined>;
  /** Reads in progress: a file in use is never closed. */
  users: number;
}

/** Opens HDF5 files on demand, keeping the few most recently used open. */
export class Hdf5Files {
  private readonly open = new Map<string, OpenEntry>();
  private s3?: ObjectStore;

  constructor(private readonly location: Hdf5Location = { filesystem: 'local' }) {}

  where(file: string): string {
    return this.location.filesystem === 's3'
      ? `s3://${this.location.bucket}/${file.replace(/^\/+/, '')}`
      : file;
  }

  /** The local path to open `file` from (a download from S3), or undefined when it does not exist. */
  private async fetch(file: string): Promise<{ local: string; temporary: boolean } | undefined> {
    if (this.location.filesystem === 'local')
      return existsSync(file) ? { local: file, temporary: false } : undefined;
    this.s3 ??= openStore(`s3://${this.location.bucket}`);
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.s3.get(file.replace(/^\/+/, ''));
    } catch (err) {
      if (err instanceof StoreError && !err.transient) throw new TileError(this.where(file), err.message);
      throw err;
    }
    if (!bytes) return undefined;
    const dir = mkdtempSync(path.join(this.location.tempDir ?? os.tmpdir(), 'boss-ingest-h5-'));
    const local = path.join(dir, path.basename(file));
    writeFileSync(local, bytes);
    return { local, temporary: true };
  }

  private async openFile(file: string): Promise<H5File | undefined> {
    const found = await this.fetch(file);
    if (!found) return undefined;
    await h5wasm.ready;
    let h5: H5File;
    try {
      h5 = new h5wasm.File(found.local, 'r');
    } finally {
      // The library holds the file open: its blocks stay readable, and are freed when it closes.
      if (found.temporary) rmSync(path.dirname(found.local), { recursive: true, force: true });
    }
    // h5wasm reports a failed open on stderr and hands back a file with a negative id.
    if (h5.file_id < 0n) throw new TileError(this.where(file), 'is not a readable HDF5 file');
    return h5;
  }

  /**
   * Runs `read` on the open file, or on undefined when the file does not exist. `read` is
   * synchronous, so the file cannot be closed under it.
   */
  async use<T>(file: string, read: (h5: Hdf5File | undefined) => T): Promise<T> {
    let entry = this.open.get(file);
    if (entry) this.open.delete(file);
    else entry = { handle: this.openFile(file), users: 0 };
    // Most recently used last.
    this.open.set(file, entry);
    entry.users++;
    try {
      const h5 = await entry.handle;
      if (h5) return read(this.wrap(file, h5));
      // Not cached: the file may appear before the next read.
      if (this.open.get(file) === entry) this.open.delete(file);
      return read(undefined);
    } catch (err) {
      if (this.open.get(file) === entry) this.open.delete(file);
      throw err;
    } finally {
      entry.users--;
      this.closeIdle();
    }
  }

  private wrap(file: string, h5: H5File): Hdf5File {
    const where = this.where(file);
    return {
      where,
      dataset: (name) => {
        const d = h5.get(name);
        if (!(d instanceof h5wasm.Dataset))
          throw new TileError(where, `has no dataset ${JSON.stringify(name)}`);
        const at = `${where}:${name}`;
        return {
          where: at,
          shape: d.shape ?? [],
          dtype: dtypeName(d),
          read: (ranges) => {
            try {
              return d.slice(ranges) as Hdf5Numbers;
            } catch (err) {
              throw new TileError(at, `reading ${JSON.stringify(ranges)}: ${(err as Error).message ?? err}`);
            }
          },
        };
      },
    };
  }

  /** Closes the least recently used idle files beyond the few kept open. */
  private closeIdle(): void {
    for (const [file, entry] of this.open) {
      if (this.open.size <= OPEN_FILES) return;
      if (entry.users > 0) continue;
      this.open.delete(file);
      void entry.handle.then((h5) => h5?.close()).catch(() => undefined);
    }
  }
}
