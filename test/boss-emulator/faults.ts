/** Deterministic fault injection for the Boss emulator (seeded PRNG, so a test sees the same faults every run). */

export type RequestKind = 'cutout-post' | 'cutout-get' | 'resource' | 'other';

export interface FaultConfig {
  /** PRNG seed (default 1). Assigning a config that has a seed restarts the random sequence. */
  seed?: number;
  /** Share (0..1) of requests answered with one of `errorStatuses`. */
  errorRate?: number;
  /** Default [500, 502, 503, 504]: Django's 500 page, nginx's 502/503/504 pages (HTML, not JSON). */
  errorStatuses?: number[];
  /** Share (0..1) of requests answered 429 with a `Retry-After` header (a proxy's rate limit). */
  throttleRate?: number;
  /** Share (0..1) of requests answered 400 code 9001: the storage layer failing ("Resource Locked"). */
  storageErrorRate?: number;
  /**
   * After this many stored cutout POSTs, every cutout POST is answered with the Boss's quota 429:
   * `{"detail": ...}` and no `Retry-After`, for as long as the config stays.
   */
  quotaAfterWrites?: number;
  /** Retry-After value in seconds (default 1). */
  retryAfter?: number;
  /** Share (0..1) of requests whose socket is destroyed without an answer. */
  dropRate?: number;
  /** Added delay in ms before answering each request in scope (faulted or not). */
  delayMs?: number;
  /** Which requests faults and delay apply to (default 'cutout': cutout POST and GET). */
  scope?: 'cutout' | 'cutout-post' | 'cutout-get' | 'all';
  /** When true, a faulted cutout POST is still processed (and stored) first: the answer is what gets lost. */
  storeBeforeFault?: boolean;
  /**
   * Consumed first, one entry per request in scope: an HTTP status (429 with Retry-After), 'drop',
   * 'storage' (400 code 9001), 'quota' (429 without Retry-After), or 'ok' (no fault).
   */
  script?: Array<number | 'drop' | 'storage' | 'quota' | 'ok'>;
}

export type Fault =
  { kind: 'status'; status: number } | { kind: 'drop' } | { kind: 'storage' } | { kind: 'quota' };

/** The label of a fault in the stats and the request log. */
export function faultLabel(fault: Fault): string {
  if (fault.kind === 'status') return String(fault.status);
  return fault.kind === 'storage' ? '9001' : fault.kind;
}

/** mulberry32: small, fast, good enough for test fault schedules. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private cfg: FaultConfig = {};
  private random = prng(1);

  constructor(config: FaultConfig = {}) {
    this.config = config;
  }

  get config(): FaultConfig {
    return this.cfg;
  }
  set config(config: FaultConfig) {
    this.cfg = config;
    if (config.seed !== undefined) this.random = prng(config.seed);
  }

  applies(kind: RequestKind): boolean {
    const scope = this.cfg.scope ?? 'cutout';
    if (scope === 'all') return true;
    if (scope === 'cutout') return kind === 'cutout-post' || kind === 'cutout-get';
    return kind === scope;
  }

  /** One decision per request in scope; exactly one draw (two for an error status) keeps runs repeatable. */
  decide(): Fault | undefined {
    const step = this.cfg.script?.shift();
    if (step !== undefined) {
      if (step === 'ok') return undefined;
      if (typeof step === 'number') return { kind: 'status', status: step };
      return step === 'drop'
        ? { kind: 'drop' }
        : step === 'storage'
          ? { kind: 'storage' }
          : { kind: 'quota' };
    }
    const { dropRate = 0, throttleRate = 0, storageErrorRate = 0, errorRate = 0 } = this.cfg;
    if (dropRate + throttleRate + storageErrorRate + errorRate <= 0) return undefined;
    const r = this.random();
    if (r < dropRate) return { kind: 'drop' };
    if (r < dropRate + throttleRate) return { kind: 'status', status: 429 };
    if (r < dropRate + throttleRate + storageErrorRate) return { kind: 'storage' };
    if (r < dropRate + throttleRate + storageErrorRate + errorRate) {
      const statuses = this.cfg.errorStatuses ?? [500, 502, 503, 504];
      return { kind: 'status', status: statuses[Math.floor(this.random() * statuses.length)] };
    }
    return undefined;
  }
}

const STORAGE_FAILURES = [
  'Resource Locked',
  'Cache unavailable: timed out waiting for the page-in of a cuboid',
  'Failed to write cuboids to the object store',
];

/** The Boss's monthly quota: the REST framework's `{"detail"}` body and no Retry-After. */
export function quotaReply(): { status: number; headers: Record<string, string>; body: string } {
  const detail =
    'Request was throttled: monthly ingress quota of this user exceeded. Expected available tomorrow.';
  return { status: 429, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ detail }) };
}

/**
 * The answer an injected fault comes with: Django's 500 page, nginx's 502-504 pages, a proxy's 429
 * with Retry-After, the storage layer's 400 code 9001, or the quota's 429.
 */
export function faultReply(
  fault: Exclude<Fault, { kind: 'drop' }>,
  retryAfter: number,
  /** Picks the storage failure's message (any counter). */
  nth: number,
): { status: number; headers: Record<string, string>; body: string } {
  if (fault.kind === 'quota') return quotaReply();
  if (fault.kind === 'storage') {
    const message = STORAGE_FAILURES[nth % STORAGE_FAILURES.length]!;
    return {
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 400, code: 9001, message }),
    };
  }
  const status = fault.status;
  if (status === 429) {
    const detail = `Request was throttled. Expected available in ${retryAfter} seconds.`;
    return {
      status,
      headers: { 'content-type': 'application/json', 'retry-after': String(retryAfter) },
      body: JSON.stringify({ detail }),
    };
  }
  const titles: Record<number, string> = {
    500: 'Server Error',
    502: 'Bad Gateway',
    503: 'Service Temporarily Unavailable',
    504: 'Gateway Time-out',
  };
  const title = `${status} ${titles[status] ?? 'Error'}`;
  const body =
    status === 500
      ? '<!doctype html>\n<html lang="en">\n<head><title>Server Error (500)</title></head>\n<body><h1>Server Error (500)</h1><p></p></body>\n</html>\n'
      : `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
  return { status, headers: { 'content-type': 'text/html' }, body };
}
