/**
 * The Boss REST API as boss-ingest uses it: resources and the cutout service. Transient failures
 * (5xx, 429, timeouts, dropped connections) are retried here with backoff and jitter, honouring
 * Retry-After; 4xx answers are not. Messages carry the method, path and the server's message,
 * never the request's headers (the token).
 */
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import { count, countBossRequest } from '../metrics/counters.js';

export class BossError extends Error {
  constructor(
    message: string,
    /** HTTP status, or 0 when no answer came. */
    readonly status: number,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'BossError';
  }

  /** 5xx, 429 and no answer at all may pass; any other answer will be the same next time. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export interface BossApiOptions {
  /** Per request. */
  timeoutMs?: number;
  /** Attempts per request for transient failures before giving up (the batch is then retried by Temporal). */
  attempts?: number;
  /** First backoff; doubled per attempt, with jitter. */
  backoffMs?: number;
}

const agents = {
  httpAgent: new http.Agent({ keepAlive: true, maxSockets: 32 }),
  httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 32 }),
};

export interface CutoutBox {
  collection: string;
  experiment: string;
  channel: string;
  resolution: number;
  x: [number, number];
  y: [number, number];
  z: [number, number];
  /** Omitted: the channel's default time sample. */
  t?: [number, number];
}

export function cutoutPath(box: CutoutBox): string {
  const r = (v: [number, number]) => `${v[0]}:${v[1]}`;
  const parts = [box.collection, box.experiment, box.channel, box.resolution, r(box.x), r(box.y), r(box.z)];
  if (box.t) parts.push(r(box.t));
  return `/v1/cutout/${parts.join('/')}/`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class BossApi {
  private readonly http: AxiosInstance;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(
    readonly baseUrl: string,
    token: string,
    options: BossApiOptions = {},
  ) {
    this.attempts = options.attempts ?? 6;
    this.backoffMs = options.backoffMs ?? 500;
    this.http = axios.create({
      baseURL: baseUrl,
      ...agents,
      timeout: options.timeoutMs ?? 120_000,
      headers: { Authorization: `Token ${token}` },
      validateStatus: () => true,
      maxBodyLength: Infinity,
      maxContentLength: Infinity,
      responseType: 'arraybuffer',
      proxy: false,
    });
  }

  private async request(
    method: 'GET' | 'POST',
    url: string,
    body?: Uint8Array | object,
    accept = 'application/json',
  ): Promise<Buffer> {
    const blosc = body instanceof Uint8Array;
    const headers: Record<string, string> = { Accept: accept };
    if (body !== undefined) headers['Content-Type'] = blosc ? 'application/blosc' : 'application/json';
    for (let attempt = 1; ; attempt++) {
      let error: BossError;
      let retryAfterMs: number | undefined;
      try {
        const res = await this.http.request({
          method,
          url,
          data: blosc ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : body,
          headers,
        });
        countBossRequest(res.status);
        const data = Buffer.from(res.data as ArrayBuffer);
        if (res.status >= 200 && res.status < 300) return data;
        let message = `${res.status}`;
        let code: number | undefined;
        try {
          const parsed = JSON.parse(data.toString('utf8')) as { message?: string; code?: number };
          message =
            `${res.status}${parsed.code ? ` (code ${parsed.code})` : ''} ${parsed.message ?? ''}`.trim();
          code = parsed.code;
        } catch {
          // Not a Boss error body (a proxy's page): the status says enough.
        }
        error = new BossError(`${method} ${url}: ${message}`, res.status, code);
        const retryAfter = Number(res.headers['retry-after']);
        if (Number.isFinite(retryAfter)) retryAfterMs = retryAfter * 1000;
      } catch (err) {
        countBossRequest(undefined);
        const e = err as { code?: string; message?: string };
        error = new BossError(`${method} ${url}: no answer (${e.code ?? e.message ?? 'network error'})`, 0);
      }
      if (!error.transient || attempt >= this.attempts) throw error;
      count('boss_ingest_boss_retries_total');
      const backoff = this.backoffMs * 2 ** (attempt - 1);
      await sleep(Math.max(retryAfterMs ?? 0, backoff / 2 + Math.random() * backoff));
    }
  }

  async getResource(resourcePath: string): Promise<Record<string, unknown>> {
    return JSON.parse((await this.request('GET', resourcePath)).toString('utf8')) as Record<string, unknown>;
  }

  async createResource(resourcePath: string, fields: object): Promise<Record<string, unknown>> {
    const data = await this.request('POST', resourcePath, fields);
    return data.length > 0 ? (JSON.parse(data.toString('utf8')) as Record<string, unknown>) : {};
  }

  async postCutout(box: CutoutBox, blosc: Uint8Array): Promise<void> {
    await this.request('POST', cutoutPath(box), blosc);
  }

  async getCutout(box: CutoutBox): Promise<Buffer> {
    return this.request('GET', `${cutoutPath(box)}?access-mode=no-cache`, undefined, 'application/blosc');
  }
}

export function resourcePaths(collection: string, experiment: string, channel: string) {
  const coll = `/v1/collection/${collection}/`;
  const exp = `${coll}experiment/${experiment}/`;
  return {
    collection: coll,
    experiment: exp,
    channel: `${exp}channel/${channel}/`,
    coord: (name: string) => `/v1/coord/${name}/`,
  };
}
