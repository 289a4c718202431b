/** Objects as files under a local directory. */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { readLocalFile, readLocalRange } from './local-file.js';
import { StoreError, type ByteRange, type ObjectStore } from './store.js';

function absent(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function failure(file: string, err: unknown): StoreError {
  const e = err as NodeJS.ErrnoException;
  return new StoreError(
    `${file}: ${e.message}`,
    e.code === 'EIO' || e.code === 'EAGAIN' || e.code === 'EMFILE',
  );
}

export class FileStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  where(key: string): string {
    return path.join(this.root, ...key.split('/'));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const file = this.where(key);
    try {
      return new Uint8Array(await readLocalFile(file));
    } catch (err) {
      if (absent(err)) return undefined;
      throw failure(file, err);
    }
  }

  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    const file = this.where(key);
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if (absent(err)) return undefined;
      throw failure(file, err);
    }
    try {
      let offset: number;
      let length: number;
      if ('suffix' in range) {
        const size = (await handle.stat()).size;
        length = Math.min(range.suffix, size);
        offset = size - length;
      } else {
        ({ offset, length } = range);
      }
      const out = new Uint8Array(length);
      const bytesRead = await readLocalRange(handle, out, length, offset);
      if (bytesRead !== length) {
        throw new StoreError(
          `${file}: wanted bytes ${offset}..${offset + length}, the file ends first`,
          false,
        );
      }
      return out;
    } catch (err) {
      throw err instanceof StoreError ? err : failure(file, err);
    } finally {
      await handle.close();
    }
  }
}
