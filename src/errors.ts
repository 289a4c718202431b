/**
 * Every error of boss-ingest, and the one rule that decides what a failure does:
 * - `job`: retrying cannot help (bad config, params, destination, token): the job ends;
 * - `chunk`: bad input for some chunks (a missing or unusable tile): they fail, the job goes on;
 * - `transient`: may pass on a retry (I/O hiccups, a Boss 5xx, and anything unexpected, which
 *   Temporal retries before failing the batch's chunks).
 * Pure: the workflow imports the failure types from here.
 */

export type ErrorKind = 'job' | 'chunk' | 'transient';

/** `ApplicationFailure.type`s that the activities and the workflow exchange. */
export const FAILURE = {
  /** An activity met a `job` error: not retried, the job fails with its message. */
  jobError: 'JobError',
  /** The workflow's own failure when the job cannot go on. */
  jobFailed: 'JobFailed',
  /** A batch attempt failed for a reason a retry may cure. */
  chunkWrite: 'ChunkWriteError',
  /** A batch was stopped by a worker shutdown or timeout; a retry resumes from its checkpoint. */
  batchInterrupted: 'BatchInterrupted',
} as const;

/**
 * Identity by a registered symbol rather than by class: a custom plugin may import its own copy of
 * boss-ingest, and its TileError must still be ours (as the Temporal SDK's SymbolBasedInstanceOfError).
 */
const TAGS = Symbol.for('boss-ingest.error-tags');

type Tagged = { [TAGS]?: readonly string[] };

export abstract class IngestError extends Error {
  /** Names the class across copies of the package; subclasses set it. */
  static readonly tag: string = 'IngestError';
  abstract readonly kind: ErrorKind;

  constructor(message: string) {
    super(message);
    const tags: string[] = [];
    for (let c = new.target as { tag?: string } | null; c && c !== IngestError; c = Object.getPrototypeOf(c))
      if (c.tag) tags.push(c.tag);
    Object.defineProperty(this, TAGS, { value: tags, enumerable: false });
    this.name = tags[0] ?? 'IngestError';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const tags = (value as Tagged | null)?.[TAGS];
    if (!Array.isArray(tags)) return false;
    return this === IngestError || tags.includes(this.tag);
  }
}

/**
 * Bad input: a tile that is missing, undecodable, the wrong size or the wrong kind of image.
 * Retrying cannot help, so it fails the chunks it belongs to and the job goes on.
 */
export class TileError extends IngestError {
  static override readonly tag = 'TileError';
  readonly kind = 'chunk';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** A path processor was asked for a tile its extent does not hold: those chunks fail. */
export class TileOutsideExtentError extends IngestError {
  static override readonly tag = 'TileOutsideExtentError';
  readonly kind = 'chunk';
}

/** A plugin's params are wrong: the job cannot run, whatever is retried. */
export class PluginParamError extends IngestError {
  static override readonly tag = 'PluginParamError';
  readonly kind = 'job';
  constructor(
    readonly path: string,
    readonly rule: string,
  ) {
    super(`${path}: ${rule}`);
  }
}

export interface ConfigProblem {
  /** JSON path of the offending value, e.g. `ingest_job.extent.x`. */
  path: string;
  rule: string;
}

export class ConfigError extends IngestError {
  static override readonly tag = 'ConfigError';
  readonly kind = 'job';
  constructor(
    readonly problems: ConfigProblem[],
    readonly file?: string,
  ) {
    super(
      `${file ? `${file}: ` : ''}invalid job config:\n` +
        problems.map((p) => `  ${p.path || '(top level)'}: ${p.rule}`).join('\n'),
    );
  }
}

/** The volume exists but cannot take this job's data. Retrying will not help. */
export class VolumeError extends IngestError {
  static override readonly tag = 'VolumeError';
  readonly kind = 'job';
}

/** The source has no data in part of the job's extent: found before any chunk is written. */
export class ExtentError extends IngestError {
  static override readonly tag = 'ExtentError';
  readonly kind = 'job';
}

/**
 * A stored shard is damaged (its index's checksum, an offset past its data): the chunks in it
 * fail, as a bad tile's do; retrying reads the same bytes.
 */
export class ShardError extends IngestError {
  static override readonly tag = 'ShardError';
  readonly kind = 'chunk';
}

/** The Boss cannot take this job as configured: the job fails with this message. */
export class PreflightError extends IngestError {
  static override readonly tag = 'PreflightError';
  readonly kind = 'job';
}

export class MissingTokenError extends IngestError {
  static override readonly tag = 'MissingTokenError';
  readonly kind = 'job';
  constructor(host?: string) {
    super(
      'no Boss API token: pass -a/--api-token, set INTERN_TOKEN, put `token = ...` (and `host = ...`) ' +
        'under [Volume Service], [Project Service] or [Default] in ~/.intern/intern.cfg, ' +
        `or write {"token": "..."} to token.json in the working directory${host ? ` (looked for one for ${host})` : ''}`,
    );
  }
}

/** The Boss's error code for any failure of its storage layer, answered with status 400. */
export const BOSS_STORAGE_FAILURE = 9001;

export class BossError extends IngestError {
  static override readonly tag = 'BossError';
  constructor(
    message: string,
    /** HTTP status, or 0 when no answer came. */
    readonly status: number,
    readonly code?: number,
    /** From a Retry-After header: the server said when to come back. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /**
   * May pass: no answer, 5xx, the storage layer failing (400 code 9001: "Resource Locked", cache
   * trouble) and a 429 that says when to come back. Any other answer will be the same next time.
   */
  get transient(): boolean {
    return (
      this.status === 0 ||
      this.status >= 500 ||
      (this.status === 400 && this.code === BOSS_STORAGE_FAILURE) ||
      (this.status === 429 && this.retryAfterMs !== undefined)
    );
  }

  /** The Boss's monthly quota (429 without Retry-After): nothing helps before it resets. */
  get quota(): boolean {
    return this.status === 429 && this.retryAfterMs === undefined;
  }

  /**
   * Transient errors are retried; any other answer ends the job (quota, token, permission,
   * redirect, a missing resource), except a refused chunk, which the row catches first.
   */
  get kind(): ErrorKind {
    return this.transient ? 'transient' : 'job';
  }

  /** The server refused one chunk's data (a 400 other than 9001, 413): that chunk fails, the job goes on. */
  get refusedChunk(): boolean {
    return (this.status === 400 && this.code !== BOSS_STORAGE_FAILURE) || this.status === 413;
  }
}

/** A mistake in the command line or the config: exit 2, before any job starts. */
export class UsageError extends IngestError {
  static override readonly tag = 'UsageError';
  readonly kind = 'job';
}

export class NoServerError extends IngestError {
  static override readonly tag = 'NoServerError';
  readonly kind = 'job';
  constructor(address: string, cause: string) {
    super(
      `no Temporal server answers at ${address}, and no embedded one could be started (${cause}).\n` +
        'Install the Temporal CLI and put it on the PATH (or point TEMPORAL_CLI_PATH at it):\n' +
        '  macOS: brew install temporal\n' +
        '  Linux/Windows: https://docs.temporal.io/cli#install, or with Go:\n' +
        '    go install github.com/temporalio/cli/cmd/temporal@v1.5.1\n' +
        `or start a server yourself (temporal server start-dev) and pass --address.`,
    );
  }
}

/** Error codes of I/O failures that a retry may cure (network filesystems, descriptor exhaustion). */
const TRANSIENT_CODES = new Set([
  'EIO',
  'EAGAIN',
  'EBUSY',
  'ETIMEDOUT',
  'ESTALE',
  'EMFILE',
  'ENFILE',
  'ECONNRESET',
  'EINTR',
]);

/** An I/O error with a code that a retry may cure. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

/**
 * What a failure does. Anything we do not know (a bug in our code, a RangeError from a typed
 * array) is `transient`: Temporal retries it, and if it persists its chunks fail with its message,
 * never as a bad tile.
 */
export function classify(err: unknown): ErrorKind {
  if (err instanceof IngestError) return err.kind;
  return 'transient';
}

/** The reason to list for a failed chunk: a TileError's reason without its file. */
export function chunkReason(err: unknown): string {
  if (err instanceof TileError) return err.reason;
  return err instanceof Error ? err.message : String(err);
}
