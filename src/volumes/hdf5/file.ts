/**
 * HDF5 files opened read-only with h5wasm, which reads hyperslabs (windows) through the HDF5
 * library itself: only the chunks a window touches are read, never the whole file. Files on S3
 * (`filesystem: "s3"`) are downloaded once to a temp directory that is removed on close. Every
 * file opened is closed again (the original never closed its h5py handles).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { openStore, StoreError, type ObjectStore } from '../../objects/store.js';
import { VolumeError } from '../volume.js';

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
  file: string;
  name: string;
  shape: number[];
  /** e.g. uint16, int32, float32 */
  dtype: string;
  /** Reads [start, stop) on each axis, C order. */
  read(ranges: [number, number][]): Hdf5Numbers;
}

/** Where HDF5 files live: the local filesystem, or an S3 bucket (keys are the paths). */
export interface Hdf5Location {
  filesystem: 'local' | 's3';
  bucket?: string;
  tempDir?: string;
}

const OPEN_FILES = 8;

function dtypeName(d: H5Dataset): string {
  const m = d.metadata;
  if (m.type === 1) return `float${8 * m.size}`;
  if (m.type === 0) return `${m.signed ? 'int' : 'uint'}${8 * m.size}`;
  return `HDF5 type class ${m.type}`;
}

/** Opens HDF5 files on demand, keeping the few most recent open. */
export class Hdf5Files {
  private readonly open = new Map<string, H5File>();
  private s3?: ObjectStore;
  private downloads?: string;
  private readonly downloaded = new Map<string, Promise<string>>();

  constructor(private readonly location: Hdf5Location = { filesystem: 'local' }) {}

  /** The local file for `file` (downloaded first from S3), or undefined when it does not exist. */
  private async local(file: string): Promise<string | undefined> {
    if (this.location.filesystem === 'local') return file;
    this.s3 ??= openStore(`s3://${this.location.bucket}`);
    this.downloads ??= mkdtempSync(path.join(this.location.tempDir ?? os.tmpdir(), 'boss-ingest-h5-'));
    let pending = this.downloaded.get(file);
    if (!pending) {
      pending = (async () => {
        const bytes = await this.s3!.get(file.replace(/^\/+/, ''));
        if (!bytes) return '';
        const target = path.join(this.downloads!, `${this.downloaded.size}.h5`);
        writeFileSync(target, bytes);
        return target;
      })();
      this.downloaded.set(file, pending);
      pending.catch(() => this.downloaded.delete(file));
    }
    return (await pending) || undefined;
  }

  where(file: string): string {
    return this.location.filesystem === 's3'
      ? `s3://${this.location.bucket}/${file.replace(/^\/+/, '')}`
      : file;
  }

  /** The dataset, or undefined when the file does not exist (a missing dataset in a file is an error). */
  async dataset(file: string, name: string): Promise<Hdf5Dataset | undefined> {
    const where = this.where(file);
    let h5 = this.open.get(file);
    if (!h5) {
      let local: string | undefined;
      try {
        local = await this.local(file);
      } catch (err) {
        throw new VolumeError(where, (err as Error).message, err instanceof StoreError && err.transient);
      }
      if (!local) return undefined;
      if (!existsSync(local)) return undefined;
      await h5wasm.ready;
      h5 = new h5wasm.File(local, 'r');
      // h5wasm reports a failed open on stderr and hands back a file with a negative id.
      if (h5.file_id < 0n) throw new VolumeError(where, 'is not a readable HDF5 file');
      if (this.open.size >= OPEN_FILES) {
        const [oldest, handle] = this.open.entries().next().value as [string, H5File];
        handle.close();
        this.open.delete(oldest);
      }
      this.open.set(file, h5);
    }
    const d = h5.get(name);
    if (!(d instanceof h5wasm.Dataset)) {
      throw new VolumeError(where, `has no dataset ${JSON.stringify(name)}`);
    }
    const shape = d.shape ?? [];
    return {
      file: where,
      name,
      shape,
      dtype: dtypeName(d),
      read: (ranges) => {
        try {
          return d.slice(ranges) as Hdf5Numbers;
        } catch (err) {
          throw new VolumeError(
            where,
            `reading ${name}${JSON.stringify(ranges)}: ${(err as Error).message ?? err}`,
          );
        }
      },
    };
  }

  close(): void {
    for (const h5 of this.open.values()) h5.close();
    this.open.clear();
    if (this.downloads) rmSync(this.downloads, { recursive: true, force: true });
    this.downloads = undefined;
    this.downloaded.clear();
  }
}
