/**
 * An in-memory emulator of the Boss REST API as described in /work/shared/reference/boss-api.md (resources,
 * cutout write/read with blosc bodies, the default time sample, write resolutions, the frame at resolution 0,
 * zeros that never overwrite, token auth, both error body shapes, downsampling, the http -> https redirect),
 * plus deterministic fault injection (5xx, 400/9001, 429 with Retry-After, the quota 429, drops), request
 * counters and a request log for tests. node:http only; listens on 127.0.0.1 on a free port.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeBloscNative } from '../../src/destinations/blosc.js';
import {
  FaultInjector,
  faultLabel,
  faultReply,
  quotaReply,
  type Fault,
  type FaultConfig,
  type RequestKind,
} from './faults.js';
import {
  bad,
  BossError,
  BossModel,
  boxBytes,
  BYTES,
  MODEL_BYTES,
  typed,
  type Channel,
  type Collection,
  type CoordFrame,
  type DownsampleStatus,
  type Experiment,
  type Range,
  type VoxelArray,
} from './model.js';

export { BossError, type FaultConfig, type VoxelArray, type Range };
export type {
  Box,
  Channel,
  Collection,
  CoordFrame,
  Datatype,
  DownsampleStatus,
  Experiment,
} from './model.js';

export interface TokenPermissions {
  token: string;
  /** GET resources and cutouts (default true). */
  canRead?: boolean;
  /** Cutout POST (default false). */
  canWrite?: boolean;
  /** Resource POST, the resource-manager role (default false). */
  canCreate?: boolean;
}

export interface BossEmulatorOptions {
  tokens?: TokenPermissions[];
  faults?: FaultConfig;
  /** Uncompressed bytes per cutout request (x*y*z*t*bytes) above which 413 code 2000; default 520 MiB. */
  maxCutoutBytes?: number;
  /** nginx client_max_body_size: larger request bodies get nginx's HTML 413; default 550 MiB. */
  maxBodyBytes?: number;
  /** The load balancer's http -> https redirect: every request is answered 301 to this base URL. */
  redirectTo?: string;
  /** How the downsample service behaves (may be changed later through `downsample`). */
  downsample?: DownsampleBehaviour;
}

export interface DownsampleBehaviour {
  /** Time from IN_PROGRESS to the end; default 1000 ms. */
  durationMs?: number;
  /** The status it ends in; default DOWNSAMPLED. */
  outcome?: 'DOWNSAMPLED' | 'FAILED';
}

export interface RequestLogEntry {
  method: string;
  url: string;
  /** As received (lower-case names), Authorization included. */
  headers: http.IncomingHttpHeaders;
  time: number;
  /** The status answered, or 'dropped'; undefined while in flight. */
  status?: number | 'dropped';
  /** Set when the answer was an injected fault. */
  fault?: string;
}

export interface EmulatorStats {
  /** All requests. */
  requests: number;
  /** Cutout POSTs received (faulted ones included). */
  posts: number;
  /** Cutout GETs received (faulted ones included). */
  gets: number;
  /** Cutout POSTs that stored voxels (201). */
  stored: number;
  /** Resource requests (collection, coord, experiment, channel). */
  resourceRequests: number;
  faultsInjected: number;
  /** Injected faults by kind: '429', '500', ..., 'drop'. */
  faultsByKind: Record<string, number>;
  /** Request body bytes received, all requests. */
  bytesReceived: number;
  /** Uncompressed voxel bytes stored by cutout POSTs. */
  voxelBytesStored: number;
  /** Downsample POSTs that started a downsample. */
  downsamplesStarted: number;
  /** Downsample DELETEs that cancelled one in progress. */
  downsamplesCancelled: number;
}

export interface BossEmulator {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Current fault configuration; assign a new object at any time (a `seed` in it restarts the PRNG). */
  faults: FaultConfig;
  /** The downsample service's behaviour; assign at any time. */
  downsample: DownsampleBehaviour;
  stats: EmulatorStats;
  requests: RequestLogEntry[];
  resetStats(): void;
  createCollection(name: string, fields?: Partial<Collection>): Collection;
  createCoordFrame(name: string, fields: Partial<CoordFrame>): CoordFrame;
  createExperiment(coll: string, name: string, fields: Partial<Experiment>): Experiment;
  createChannel(coll: string, exp: string, name: string, fields: Partial<Channel>): Channel;
  /** Stored voxels of a box, (z, y, x) or (t, z, y, x) when `t` is given; without `t`, the default time sample. */
  readCutout(
    coll: string,
    exp: string,
    chan: string,
    res: number,
    x: Range,
    y: Range,
    z: Range,
    t?: Range,
  ): VoxelArray;
  /** Seeds voxels directly (same layout as readCutout). */
  writeCutout(
    coll: string,
    exp: string,
    chan: string,
    res: number,
    x: Range,
    y: Range,
    z: Range,
    data: VoxelArray,
    t?: Range,
  ): void;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

interface Codec {
  encode(data: Uint8Array): Promise<Uint8Array>;
  decode(data: Uint8Array): Promise<Uint8Array>;
}
let blosc: Promise<Codec> | undefined;
const codec = (): Promise<Codec> =>
  (blosc ??= import('numcodecs').then(({ Blosc }) =>
    Blosc.fromConfig({ cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 }),
  ));

const MiB = 1024 * 1024;

function json(status: number, value: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
/** A Boss error body, or the REST framework's `{"detail"}` for what it raises itself (401). */
function errorReply(e: BossError): Reply {
  if (e.status === 401) {
    const reply = json(401, { detail: e.message });
    reply.headers!['www-authenticate'] = 'Token';
    return reply;
  }
  return json(e.status, { status: e.status, code: e.code, message: e.message });
}
const unauthorized = (message: string) => new BossError(401, 0, message);
const forbidden = () => new BossError(403, 3001, 'This user does not have the required permission');

const mediaType = (h: string | undefined) => (h ?? '').split(';')[0].trim().toLowerCase();

/** The 16-byte blosc1 header: version, versionlz, flags, typesize, nbytes, blocksize, ctbytes. */
function bloscHeader(body: Uint8Array): { nbytes: number } {
  if (body.byteLength < 16) throw bad('Body is not a blosc frame (shorter than its header)');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const version = view.getUint8(0);
  const ctbytes = view.getUint32(12, true);
  if (version < 1 || version > 2 || ctbytes < 16 || ctbytes > body.byteLength)
    throw bad('Body is not a valid blosc frame');
  return { nbytes: view.getUint32(4, true) };
}

type Route =
  | { kind: 'collection'; coll: string }
  | { kind: 'coord'; name: string }
  | { kind: 'experiment'; coll: string; exp: string }
  | { kind: 'channel'; coll: string; exp: string; chan: string }
  | { kind: 'downsample'; coll: string; exp: string; chan: string }
  | { kind: 'cutout'; parts: string[] };

function route(pathname: string): Route | undefined {
  const p = pathname.split('/').filter((s, i, all) => i > 0 && (s !== '' || i < all.length - 1));
  if (p.length === 0 || p[0] !== 'v1' || p.some((s) => s === '')) return undefined;
  const d = p.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  if (d[1] === 'cutout' && d.length > 2) return { kind: 'cutout', parts: d.slice(2) };
  if (d[1] === 'coord' && d.length === 3) return { kind: 'coord', name: d[2] };
  if (d[1] === 'downsample' && d.length === 5)
    return { kind: 'downsample', coll: d[2], exp: d[3], chan: d[4] };
  if (d[1] !== 'collection') return undefined;
  if (d.length === 3) return { kind: 'collection', coll: d[2] };
  if (d.length === 5 && d[3] === 'experiment') return { kind: 'experiment', coll: d[2], exp: d[4] };
  if (d.length === 7 && d[3] === 'experiment' && d[5] === 'channel')
    return { kind: 'channel', coll: d[2], exp: d[4], chan: d[6] };
  return undefined;
}

export async function startBossEmulator(options: BossEmulatorOptions = {}): Promise<BossEmulator> {
  const model = new BossModel();
  const tokens = new Map((options.tokens ?? []).map((t) => [t.token, t]));
  const injector = new FaultInjector(options.faults ?? {});
  const maxCutoutBytes = options.maxCutoutBytes ?? 520 * MiB;
  const maxBodyBytes = options.maxBodyBytes ?? 550 * MiB;
  const requests: RequestLogEntry[] = [];
  const freshStats = (): EmulatorStats => ({
    requests: 0,
    posts: 0,
    gets: 0,
    stored: 0,
    resourceRequests: 0,
    faultsInjected: 0,
    faultsByKind: {},
    bytesReceived: 0,
    voxelBytesStored: 0,
    downsamplesStarted: 0,
    downsamplesCancelled: 0,
  });
  const stats = freshStats();

  /** The caller: a token's permissions, or undefined for an anonymous request (no Authorization header). */
  function authenticate(header: string | undefined): TokenPermissions | undefined {
    if (header === undefined) return undefined;
    const m = /^token\s+(\S+)\s*$/i.exec(header);
    const perms = m ? tokens.get(m[1]) : undefined;
    if (!perms) throw unauthorized('Invalid token.');
    return perms;
  }

  /** Read access: a token with canRead, or anonymous on a public resource (else 401, not revealing existence). */
  function checkRead(who: TokenPermissions | undefined, lookup: () => object) {
    if (!who) {
      let resource: { public?: boolean } | undefined;
      try {
        resource = lookup() as { public?: boolean };
      } catch {
        resource = undefined;
      }
      if (!resource?.public) throw unauthorized('Authentication credentials were not provided.');
      return;
    }
    lookup();
    if (who.canRead === false) throw forbidden();
  }

  let downsampleBehaviour: DownsampleBehaviour = options.downsample ?? {};
  /** The pending end of each channel's downsample in progress, by `coll/exp/chan`. */
  const downsampling = new Map<string, NodeJS.Timeout>();
  const setDownsampleStatus = (coll: string, exp: string, chan: string, status: DownsampleStatus) => {
    const key = `${coll}/${exp}/${chan}`;
    clearTimeout(downsampling.get(key));
    downsampling.delete(key);
    model.channel(coll, exp, chan).fields.downsample_status = status;
  };

  /** `/v1/downsample/{coll}/{exp}/{chan}/`: GET the status, POST starts, DELETE cancels. */
  function downsample(
    r: Extract<Route, { kind: 'downsample' }>,
    method: string,
    headers: http.IncomingHttpHeaders,
  ) {
    const who = authenticate(headers.authorization);
    const channel = () => model.channel(r.coll, r.exp, r.chan).fields;
    const status = () => ({
      status: channel().downsample_status,
      num_hierarchy_levels: model.experiment(r.coll, r.exp).fields.num_hierarchy_levels,
    });
    if (method === 'GET') {
      checkRead(who, channel);
      return json(200, status());
    }
    if (method !== 'POST' && method !== 'DELETE')
      return json(405, { detail: `Method "${method}" not allowed.` });
    if (!who) throw unauthorized('Authentication credentials were not provided.');
    const fields = channel();
    if (!who.canWrite) throw forbidden();
    if (method === 'DELETE') {
      if (fields.downsample_status !== 'IN_PROGRESS') throw bad('The channel is not being downsampled');
      setDownsampleStatus(r.coll, r.exp, r.chan, 'NOT_DOWNSAMPLED');
      stats.downsamplesCancelled++;
      return { status: 204 };
    }
    if (fields.downsample_status === 'IN_PROGRESS') throw bad('The channel is already being downsampled');
    setDownsampleStatus(r.coll, r.exp, r.chan, 'IN_PROGRESS');
    stats.downsamplesStarted++;
    const key = `${r.coll}/${r.exp}/${r.chan}`;
    const end = setTimeout(() => {
      downsampling.delete(key);
      fields.downsample_status = downsampleBehaviour.outcome ?? 'DOWNSAMPLED';
    }, downsampleBehaviour.durationMs ?? 1000);
    downsampling.set(key, end);
    return { status: 201 };
  }

  function resource(
    r: Exclude<Route, { kind: 'cutout' } | { kind: 'downsample' }>,
    method: string,
    headers: http.IncomingHttpHeaders,
    body: Buffer,
  ) {
    const who = authenticate(headers.authorization);
    const lookup = () => {
      switch (r.kind) {
        case 'collection':
          return model.collection(r.coll).fields;
        case 'coord':
          return model.coord(r.name);
        case 'experiment':
          return model.experiment(r.coll, r.exp).fields;
        case 'channel':
          return model.channel(r.coll, r.exp, r.chan).fields;
      }
    };
    if (method === 'GET') {
      checkRead(who, lookup);
      return json(200, lookup());
    }
    if (method !== 'POST')
      return json(405, { status: 405, code: 0, message: `Method ${method} not allowed` });
    if (!who) throw unauthorized('Authentication credentials were not provided.');
    if (!who.canCreate) throw forbidden();
    if (mediaType(headers['content-type']) !== 'application/json')
      throw bad('Content-Type must be application/json');
    let fields: unknown;
    try {
      fields = JSON.parse(body.toString('utf8'));
    } catch {
      throw bad('Body is not valid JSON');
    }
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
      throw bad('Body must be a JSON object');
    const f = fields as Record<string, unknown>;
    switch (r.kind) {
      case 'collection':
        return json(201, model.createCollection(r.coll, f));
      case 'coord':
        return json(201, model.createCoordFrame(r.name, f));
      case 'experiment':
        return json(201, model.createExperiment(r.coll, r.exp, f));
      case 'channel':
        return json(201, model.createChannel(r.coll, r.exp, r.chan, f));
    }
  }

  async function cutout(
    parts: string[],
    method: string,
    url: URL,
    headers: http.IncomingHttpHeaders,
    body: Buffer,
  ) {
    if (method !== 'GET' && method !== 'POST')
      return json(405, { status: 405, code: 0, message: `Method ${method} not allowed` });
    if (parts.length !== 7 && parts.length !== 8)
      throw bad('Cutout URL must be /cutout/coll/exp/chan/res/x0:x1/y0:y1/z0:z1/[t0:t1/]');
    const [coll, exp, chan, resText, ...ranges] = parts;
    const who = authenticate(headers.authorization);
    const channel = () => model.channel(coll, exp, chan).fields;
    if (method === 'GET') checkRead(who, channel);
    else {
      if (!who) throw unauthorized('Authentication credentials were not provided.');
      channel();
      if (!who.canWrite) throw forbidden();
    }
    if (!/^\d$/.test(resText)) throw bad(`Resolution '${resText}' must be a single digit`);
    const spans = ranges.map((s) => {
      const m = /^(\d+):(\d+)$/.exec(s);
      if (!m) throw bad(`Range '${s}' must be start:stop`);
      return [Number(m[1]), Number(m[2])] as Range;
    });
    const [x, y, z, t] = spans;
    const box = model.box(coll, exp, chan, Number(resText), { x, y, z, t }, method === 'POST');
    const datatype = model.datatype(coll, exp, chan);
    const bytes = boxBytes(box, datatype);
    if (bytes > maxCutoutBytes)
      throw new BossError(
        413,
        2000,
        `Cutout of ${bytes} bytes exceeds the ${maxCutoutBytes}-byte request limit`,
      );

    if (method === 'GET') {
      const mode = url.searchParams.get('access-mode');
      if (mode !== null && !['cache', 'no-cache', 'raw'].includes(mode))
        throw bad(`Bad access-mode '${mode}'`);
      if (!(headers.accept ?? '').toLowerCase().includes('application/blosc'))
        throw bad('Accept must be application/blosc');
      const data = new Uint8Array(bytes);
      model.transfer(coll, exp, chan, box, data, false);
      const frame = await (await codec()).encode(data);
      return { status: 200, headers: { 'content-type': 'application/blosc' }, body: frame };
    }
    if (mediaType(headers['content-type']) !== 'application/blosc')
      throw bad('Content-Type must be application/blosc');
    const frameBody = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    const { nbytes } = bloscHeader(frameBody);
    if (nbytes !== bytes) {
      const voxels = bytes / BYTES[datatype];
      const other = Object.entries(MODEL_BYTES).find(
        ([name, b]) => name !== datatype && voxels * b === nbytes,
      );
      if (other)
        throw new BossError(
          400,
          2001,
          `Datatype does not match channel: got ${other[0]}, expected ${datatype}`,
        );
      throw new BossError(
        400,
        2002,
        `Data of ${nbytes} bytes does not match the URL (${bytes} bytes of ${datatype})`,
      );
    }
    let data: Uint8Array;
    try {
      // c-blosc reads any frame; the native LZ4 reader does it without holding up the event loop
      // (the wasm reader made the emulator the bottleneck of a write benchmark).
      data = decodeBloscNative(frameBody) ?? (await (await codec()).decode(frameBody));
    } catch {
      throw bad('Could not decompress the blosc body');
    }
    if (data.byteLength !== nbytes) throw bad('Could not decompress the blosc body');
    model.transfer(coll, exp, chan, box, data, true, true);
    setDownsampleStatus(coll, exp, chan, 'NOT_DOWNSAMPLED');
    stats.stored++;
    stats.voxelBytesStored += bytes;
    return { status: 201 };
  }

  async function handle(
    r: Route | undefined,
    method: string,
    url: URL,
    req: http.IncomingMessage,
    body: Buffer,
  ) {
    try {
      if (!r) throw new BossError(404, 4004, `Not found: ${url.pathname}`);
      if (r.kind === 'cutout') return await cutout(r.parts, method, url, req.headers, body);
      if (r.kind === 'downsample') return downsample(r, method, req.headers);
      return resource(r, method, req.headers, body);
    } catch (e) {
      if (e instanceof BossError) return errorReply(e);
      throw e;
    }
  }

  function send(res: http.ServerResponse, entry: RequestLogEntry, reply: Reply) {
    entry.status = reply.status;
    const body = reply.body ?? '';
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  function inject(req: http.IncomingMessage, res: http.ServerResponse, entry: RequestLogEntry, fault: Fault) {
    const kind = faultLabel(fault);
    stats.faultsInjected++;
    stats.faultsByKind[kind] = (stats.faultsByKind[kind] ?? 0) + 1;
    entry.fault = kind;
    if (fault.kind === 'drop') {
      entry.status = 'dropped';
      req.socket.destroy();
      return;
    }
    send(res, entry, faultReply(fault, injector.config.retryAfter ?? 1, stats.faultsInjected));
  }

  /** Reads the body; undefined when it exceeds maxBodyBytes (nginx answers 413 before the app sees it). */
  async function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
    if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBodyBytes) return undefined;
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const method = req.method ?? 'GET';
    const entry: RequestLogEntry = {
      method,
      url: req.url ?? '/',
      headers: { ...req.headers },
      time: Date.now(),
    };
    requests.push(entry);
    stats.requests++;
    if (options.redirectTo) {
      await readBody(req);
      const location = new URL(req.url ?? '/', options.redirectTo).href;
      send(res, entry, { status: 301, headers: { location, 'content-type': 'text/html' }, body: '' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://boss.invalid');
    const r = route(url.pathname);
    const kind: RequestKind =
      r?.kind === 'cutout' ? (method === 'POST' ? 'cutout-post' : 'cutout-get') : r ? 'resource' : 'other';
    if (kind === 'cutout-post') stats.posts++;
    else if (kind === 'cutout-get') stats.gets++;
    else if (kind === 'resource') stats.resourceRequests++;

    const body = await readBody(req);
    if (!body) {
      const title = '413 Request Entity Too Large';
      const html = `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
      send(res, entry, {
        status: 413,
        headers: { 'content-type': 'text/html', connection: 'close' },
        body: html,
      });
      return;
    }
    stats.bytesReceived += body.length;

    const quota = injector.config.quotaAfterWrites;
    if (kind === 'cutout-post' && quota !== undefined && stats.stored >= quota) {
      stats.faultsInjected++;
      stats.faultsByKind.quota = (stats.faultsByKind.quota ?? 0) + 1;
      entry.fault = 'quota';
      send(res, entry, quotaReply());
      return;
    }
    let fault: Fault | undefined;
    if (injector.applies(kind)) {
      const delay = injector.config.delayMs ?? 0;
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      fault = injector.decide();
    }
    if (fault && !injector.config.storeBeforeFault) return inject(req, res, entry, fault);
    const reply = await handle(r, method, url, req, body);
    if (fault) return inject(req, res, entry, fault);
    send(res, entry, reply);
  }

  const server = http.createServer((req, res) => {
    serve(req, res).catch((e: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`emulator error: ${e instanceof Error ? e.message : String(e)}`);
    });
  });
  server.requestTimeout = 600_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const end of downsampling.values()) clearTimeout(end);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    get faults() {
      return injector.config;
    },
    set faults(config: FaultConfig) {
      injector.config = config;
    },
    get downsample() {
      return downsampleBehaviour;
    },
    set downsample(behaviour: DownsampleBehaviour) {
      downsampleBehaviour = behaviour;
    },
    stats,
    requests,
    resetStats: () => void Object.assign(stats, freshStats()),
    createCollection: (name, fields = {}) => model.createCollection(name, fields),
    createCoordFrame: (name, fields) => model.createCoordFrame(name, fields),
    createExperiment: (coll, name, fields) => model.createExperiment(coll, name, fields),
    createChannel: (coll, exp, name, fields) => model.createChannel(coll, exp, name, fields),
    readCutout(coll, exp, chan, res, x, y, z, t) {
      const box = model.box(coll, exp, chan, res, { x, y, z, t });
      const datatype = model.datatype(coll, exp, chan);
      const data = new Uint8Array(boxBytes(box, datatype));
      model.transfer(coll, exp, chan, box, data, false);
      return typed(data, datatype);
    },
    writeCutout(coll, exp, chan, res, x, y, z, data, t) {
      const box = model.box(coll, exp, chan, res, { x, y, z, t });
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      if (bytes.byteLength !== boxBytes(box, model.datatype(coll, exp, chan)))
        throw new Error('writeCutout: data does not match the box and channel datatype');
      model.transfer(coll, exp, chan, box, bytes, true);
    },
  };
}
