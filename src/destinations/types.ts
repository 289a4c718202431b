/**
 * What a destination is: a module that turns a job's config into a serialisable spec (it crosses
 * Temporal and the chunk threads), and stores chunks given that spec. The registry (registry.ts)
 * finds the module by backend name.
 */
import type { Datatype, JobConfig } from '../config/types.js';
import type { ChunkBox, ChunkShape, Extent } from '../extent/grid.js';
import type { TileDatatype } from '../tiles/tile.js';
import type { HeldPart } from '../pyramid/staging.js';

/** What every spec holds. Plain data only: it is copied into workflow history and thread messages. */
export interface DestinationSpecBase {
  name: string;
  datatype: Datatype;
  chunk: ChunkShape;
}

/** What the job knows when it resolves its destination. */
export interface DestinationFacts {
  extent: Extent;
  /** Decided by `resolveDatatype` for a destination that takes the config's (else the first tile's). */
  datatype?: Datatype;
  /** The first tile's datatype, when it could be read. */
  sourceDatatype?: TileDatatype;
  /** A Boss token handed in by the CLI (`validate`); workers read theirs from their environment. */
  token?: string;
  /** The job only reads the destination (verify): nothing may be written, not even a probe. */
  readOnly?: boolean;
}

export interface Resolved<S> {
  spec: S;
  /** What was checked on the way (a Boss's preflight), for progress and `validate`. */
  checks: string[];
}

/**
 * What a destination did with a chunk: `skipped` when it chose not to store it (all zeros);
 * `part` when it wrote the chunk's part of the pyramid level above into that chunk's held samples
 * (see PartStage.hold): what the part was computed from.
 */
export type WriteOutcome = { written: true; part?: HeldPart } | { skipped: true };

/** The part every destination has, whatever decides its datatype. */
export interface DestinationCommon<S extends DestinationSpecBase> {
  /** One line for progress and logs. */
  describe(spec: S): string;
  /**
   * Opens or creates what the job writes into, once per job, before any chunk; returns the spec
   * the job's chunks are written with (what the opening found, e.g. where a pyramid's parts go).
   */
  prepare(spec: S, extent: Extent): Promise<S>;
  /**
   * Stores the box of one chunk, given the whole chunk's (z, y, x) samples in the spec's datatype.
   * The box may cover the chunk in part: what the destination holds outside it stays, also when
   * other jobs write the same chunk at the same time.
   */
  write(spec: S, box: ChunkBox, samples: Uint8Array): Promise<WriteOutcome>;
  /**
   * The box of one chunk as stored, in a whole chunk's (z, y, x) samples (what lies outside the
   * box is unspecified), or undefined when the chunk was never stored (it reads as zeros). Verify's read.
   */
  read(spec: S, box: ChunkBox): Promise<Uint8Array | undefined>;
  /**
   * Optional: what `read` gives, in memory the thread lends (a file read into a buffer it takes
   * again), handed back by `release()` once nothing reads the samples any more.
   */
  readLent?(spec: S, box: ChunkBox): Promise<LentSamples | undefined>;
  /** Throws, naming what is missing, when there is nothing the spec can read (verify, before any chunk). */
  checkReadable(spec: S): Promise<void>;
}

/** A stored chunk's samples in lent memory (see Destination.readLent). */
export interface LentSamples {
  samples: Uint8Array;
  release(): void;
}

/**
 * A destination module. `datatypeFrom` says where the job's datatype comes from: `config` (the
 * backend's `datatype`, else the first tile's, decided before `resolve`), or `destination` (it
 * has its own, a Boss channel's, which the source's must fit).
 */
export type Destination<S extends DestinationSpecBase> = DestinationCommon<S> &
  (
    | {
        readonly datatypeFrom: 'config';
        resolve(config: JobConfig, facts: DestinationFacts & { datatype: Datatype }): Promise<Resolved<S>>;
      }
    | {
        readonly datatypeFrom: 'destination';
        resolve(config: JobConfig, facts: DestinationFacts): Promise<Resolved<S>>;
      }
  );
