/** Objects under an http(s):// URL, read with GET (and Range for parts). */
import { fetchObject } from './fetch.js';
import type { ByteRange, ObjectStore } from './store.js';

export class HttpStore implements ObjectStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root.replace(/\/+$/, '');
  }

  where(key: string): string {
    return `${this.root}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.getRange(key);
  }

  getRange(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    const url = this.where(key);
    return fetchObject(url, (headers) => new Request(url, { headers }), range);
  }
}
