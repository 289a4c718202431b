/**
 * One GET of an object over HTTP with retries: 404 means absent; 5xx, 429 and dropped connections
 * are retried with backoff and jitter; any other answer is an error naming the URL. Node's fetch
 * keeps connections alive, so a source's many small reads share sockets.
 */
import { StoreError, type ByteRange } from './store.js';

export interface FetchOptions {
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

/** Builds the request anew for each attempt (a signature carries a timestamp). */
export type RequestFactory = (headers: Record<string, string>) => Promise<Request> | Request;

export function rangeHeader(range: ByteRange | undefined): Record<string, string> {
  if (!range) return {};
  if ('suffix' in range) return { range: `bytes=-${range.suffix}` };
  return { range: `bytes=${range.offset}-${range.offset + range.length - 1}` };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function fetchObject(
  where: string,
  request: RequestFactory,
  range?: ByteRange,
  options: FetchOptions = {},
): Promise<Uint8Array | undefined> {
  const attempts = options.attempts ?? 5;
  const backoffMs = options.backoffMs ?? 200;
  let last: StoreError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(backoffMs * 2 ** (attempt - 2) * (0.5 + Math.random()));
    let res: Response;
    try {
      res = await fetch(await request(rangeHeader(range)), {
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
    } catch (err) {
      last = new StoreError(`GET ${where}: ${(err as Error).message}`, true);
      continue;
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.ok) {
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (range && res.status !== 206 && 'offset' in range) {
        // A server that ignores Range sends the whole object.
        return bytes.subarray(range.offset, range.offset + range.length);
      }
      if (range && res.status !== 206 && 'suffix' in range) return bytes.subarray(-range.suffix);
      return bytes;
    }
    const detail = (await res.text().catch(() => '')).slice(0, 200).trim();
    const error = new StoreError(
      `GET ${where}: HTTP ${res.status} ${res.statusText}${detail ? `: ${detail}` : ''}`,
      res.status >= 500 || res.status === 429,
    );
    if (!error.transient) throw error;
    last = error;
  }
  throw last ?? new StoreError(`GET ${where}: failed`, true);
}
