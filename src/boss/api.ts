/**
 * The Boss REST API as boss-ingest uses it: resources, the cutout service and downsampling.
 * Transient failures (5xx, the storage layer's 400/9001, timeouts, dropped connections, a 429
 * with Retry-After) are retried here with backoff and jitter; other answers are not. A 429
 * without Retry-After is the Boss's monthly quota: thrown at once. Redirects are never followed
 * (a redirected POST turns into a GET and loses its body). Messages carry the method, path and
 * the server's message, never the request's headers (the token).
 */
import http from 'node:http';
import https from 'node:https';
import type { AxiosInstance } from 'axios';
import { BossError } from '../errors.js';
import { fileLog } from '../log/file-log.js';
import { count, countBossRequest } from '../metrics/counters.js';

export { BossError };

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
  /**
   * Omitted: the channel's `default_time_sample`, which is rarely what a job means; boss-ingest's
   * writes always carry it.
   */
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

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: unknown): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** The text of an error body: a Boss error's `message` (and `code`), or the REST framework's `detail`. */
function errorText(data: Buffer): { text?: string; code?: number } {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as {
      message?: unknown;
      detail?: unknown;
      code?: unknown;
    };
    const text =
      typeof parsed.message === 'string'
        ? parsed.message
        : typeof parsed.detail === 'string'
          ? parsed.detail
          : undefined;
    return { text, code: typeof parsed.code === 'number' ? parsed.code : undefined };
  } catch {
    // Not JSON (a proxy's or Django's HTML page): the status says enough.
    return {};
  }
}

type Method = 'GET' | 'POST' | 'DELETE';

/** What success is: a write answers exactly 201 (as intern insists), a read 200, a cancel 204. */
const SUCCESS: Record<Method, number[]> = { GET: [200], POST: [201], DELETE: [204, 200] };

export type DownsampleStatus = 'NOT_DOWNSAMPLED' | 'IN_PROGRESS' | 'DOWNSAMPLED' | 'FAILED';

export class BossApi {
  /** axios loads with the first Boss client: a worker of zarr jobs and its chunk threads never load it. */
  private readonly http: Promise<AxiosInstance>;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(
    readonly baseUrl: string,
    token: string,
    options: BossApiOptions = {},
  ) {
    this.attempts = options.attempts ?? 6;
    this.backoffMs = options.backoffMs ?? 500;
    this.http = import('axios').then(({ default: axios }) =>
      axios.create({
        baseURL: baseUrl,
        ...agents,
        timeout: options.timeoutMs ?? 120_000,
        headers: { Authorization: `Token ${token}` },
        validateStatus: () => true,
        maxBodyLength: Infinity,
        maxContentLength: Infinity,
        responseType: 'arraybuffer',
        proxy: false,
        maxRedirects: 0,
      }),
    );
  }

  private async request(
    method: Method,
    url: string,
    body?: Uint8Array | object,
    accept = 'application/json',
  ): Promise<Buffer> {
    const blosc = body instanceof Uint8Array;
    const headers: Record<string, string> = { Accept: accept };
    if (body !== undefined) headers['Content-Type'] = blosc ? 'application/blosc' : 'application/json';
    const http = await this.http;
    for (let attempt = 1; ; attempt++) {
      let error: BossError;
      try {
        const res = await http.request({
          method,
          url,
          data: blosc ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : body,
          headers,
        });
        countBossRequest(res.status);
        const data = Buffer.from(res.data as ArrayBuffer);
        if (SUCCESS[method].includes(res.status)) return data;
        error = answerError(method, url, res.status, data, res.headers as Record<string, unknown>);
      } catch (err) {
        countBossRequest(undefined);
        const e = err as { code?: string; message?: string };
        error = new BossError(`${method} ${url}: no answer (${e.code ?? e.message ?? 'network error'})`, 0);
      }
      if (!error.transient || attempt >= this.attempts) throw error;
      count('boss_ingest_boss_retries_total');
      const backoff = this.backoffMs * 2 ** (attempt - 1);
      const waitMs = Math.max(error.retryAfterMs ?? 0, backoff / 2 + Math.random() * backoff);
      // The message names the method, path and status: never a header, so never the token.
      fileLog('DEBUG', 'Boss request failed; retrying', {
        error: error.message,
        attempt,
        of: this.attempts,
        waitMs: Math.round(waitMs),
      });
      await sleep(waitMs);
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

  /** The channel's downsample status, with the server's text when it gives one (a FAILED's reason). */
  async downsampleStatus(channel: ChannelName): Promise<{ status: DownsampleStatus; message?: string }> {
    const data = await this.request('GET', downsamplePath(channel));
    const { status } = JSON.parse(data.toString('utf8')) as { status?: unknown };
    const { text } = errorText(data);
    return { status: String(status) as DownsampleStatus, ...(text ? { message: text } : {}) };
  }

  async startDownsample(channel: ChannelName): Promise<void> {
    await this.request('POST', downsamplePath(channel), {});
  }

  async cancelDownsample(channel: ChannelName): Promise<void> {
    await this.request('DELETE', downsamplePath(channel));
  }
}

export interface ChannelName {
  collection: string;
  experiment: string;
  channel: string;
}

function downsamplePath(c: ChannelName): string {
  return `/v1/downsample/${c.collection}/${c.experiment}/${c.channel}/`;
}

/** The error for an answer that is not the request's success. */
function answerError(
  method: Method,
  url: string,
  status: number,
  data: Buffer,
  headers: Record<string, unknown>,
): BossError {
  const where = `${method} ${url}`;
  if (status >= 300 && status < 400) {
    const location = typeof headers.location === 'string' ? headers.location : '';
    const hint = location.startsWith('https:')
      ? 'use protocol https in client.backend'
      : 'check client.backend host and protocol';
    return new BossError(
      `${where}: the Boss answered ${status}, a redirect${location ? ` to ${location}` : ''}, which is never followed: ${hint}`,
      status,
    );
  }
  const { text, code } = errorText(data);
  const retryAfter = retryAfterMs(headers['retry-after']);
  let message = `${status}${code ? ` (code ${code})` : ''}${text ? ` ${text}` : ''}`;
  if (status >= 200 && status < 300) message = `answered ${status}, not ${SUCCESS[method].join(' or ')}`;
  if (status === 429 && retryAfter === undefined)
    message += ' (the Boss quota of this user is used up: no retry helps before it resets)';
  return new BossError(`${where}: ${message}`, status, code, retryAfter);
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
