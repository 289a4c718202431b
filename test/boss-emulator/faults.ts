/** Deterministic fault injection for the Boss emulator (seeded PRNG, so a test sees the same faults every run). */

export type RequestKind = 'cutout-post' | 'cutout-get' | 'resource' | 'other';

export interface FaultConfig {
  /** PRNG seed (default 1). Assigning a config that has a seed restarts the random sequence. */
  seed?: number;
  /** Share (0..1) of requests answered with one of `errorStatuses`. */
  errorRate?: number;
  /** Default [500, 502, 503, 504]: Django's 500 page, nginx's 502/503/504 pages (HTML, not JSON). */
  errorStatuses?: number[];
  /** Share (0..1) of requests answered 429 with a `Retry-After` header. */
  throttleRate?: number;
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
  /** Consumed first, one entry per request in scope: an HTTP status, 'drop', or 'ok' (no fault). */
  script?: Array<number | 'drop' | 'ok'>;
}

export type Fault = { kind: 'status'; status: number } | { kind: 'drop' };

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
      return step === 'drop' ? { kind: 'drop' } : { kind: 'status', status: step };
    }
    const { dropRate = 0, throttleRate = 0, errorRate = 0 } = this.cfg;
    if (dropRate + throttleRate + errorRate <= 0) return undefined;
    const r = this.random();
    if (r < dropRate) return { kind: 'drop' };
    if (r < dropRate + throttleRate) return { kind: 'status', status: 429 };
    if (r < dropRate + throttleRate + errorRate) {
      const statuses = this.cfg.errorStatuses ?? [500, 502, 503, 504];
      return { kind: 'status', status: statuses[Math.floor(this.random() * statuses.length)] };
    }
    return undefined;
  }
}

/** The body an injected status comes with: what Django (500), nginx (502-504) or the throttle (429) send. */
export function faultReply(
  status: number,
  retryAfter: number,
): { status: number; headers: Record<string, string>; body: string } {
  if (status === 429) {
    const message = `Request was throttled. Expected available in ${retryAfter} seconds.`;
    return {
      status,
      headers: { 'content-type': 'application/json', 'retry-after': String(retryAfter) },
      body: JSON.stringify({ status, code: 0, message }),
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
