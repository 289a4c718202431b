/**
 * Read-only object stores addressed by URL: a local path or file://, http(s)://, s3://. Sources
 * (Zarr, precomputed) read their files through one of these, so every scheme works for every
 * source. Nothing here writes: a source is never modified.
 */
import { FileStore } from './file.js';
import { HttpStore } from './http.js';
import { S3Store } from './s3.js';

/** Bytes [offset, offset + length), or the last `suffix` bytes. */
export type ByteRange = { offset: number; length: number } | { suffix: number };

export interface ObjectStore {
  /** Where the store is rooted, for messages. */
  readonly root: string;
  /** The object's bytes, or undefined when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined>;
  /** The object's full address, for messages. */
  where(key: string): string;
}

/** Reading an object failed for a reason other than its absence. */
export class StoreError extends Error {
  constructor(
    message: string,
    /** Worth retrying later (a 5xx, a dropped connection); false for refusals such as 403. */
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Keys inside a store are joined with '/', whatever the scheme. */
export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p.length > 0 && p !== '.')
    .join('/');
}

export function openStore(location: string): ObjectStore {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1]?.toLowerCase();
  switch (scheme) {
    case undefined:
      return new FileStore(location);
    case 'file':
      return new FileStore(decodeURIComponent(new URL(location).pathname));
    case 'http':
    case 'https':
      return new HttpStore(location);
    case 's3':
      return new S3Store(location);
    case 'gs':
      throw new StoreError(
        `${location}: gs:// is not supported; read a public bucket through https://storage.googleapis.com/<bucket>/<path>`,
        false,
      );
    default:
      throw new StoreError(
        `${location}: unsupported scheme ${scheme}:// (use a path, file://, http(s):// or s3://)`,
        false,
      );
  }
}
