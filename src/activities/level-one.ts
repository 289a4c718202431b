/**
 * The level-1 chunks an ingest batch builds itself (see levelOneWithin): each once every chunk
 * under it that the batch writes is written, on the pyramid's threads, while the batch's other
 * rows go on. Their samples are held in memory the threads share, which the rows write their
 * parts straight into (PartStage.hold), never staging them as files: the build then joins
 * nothing. A chunk's samples are taken when the first row under it starts and given back once it
 * is built, so a batch holds those of a couple of rows at a time. Best effort: a chunk not built
 * here is built by its level's batch.
 */
import { log } from '@temporalio/activity';
import { chunkBytes } from '../chunks/row-memory.js';
import { SpareBuffers } from '../chunks/spare.js';
import { boxOfChunk, chunkBox, chunkCoord, chunkIndex, coversChunk, type Grid } from '../extent/grid.js';
import type { JobSpec, LevelRange } from '../job/types.js';
import { coordAbove, inputsOf, levelGrid, levelOneWithin, type PyramidJob } from '../pyramid/job.js';
import { halvesZ } from '../pyramid/levels.js';
import type { PyramidChunkOutcome } from '../pyramid/chunk-task.js';
import { pyramidPool } from '../pyramid/pool.js';
import type { HeldChunk, HeldPart } from '../pyramid/staging.js';

interface Pending {
  index: number;
  /** The chunk is built once chunks [first, need) of the ingest's grid are written. */
  need: number;
  /** Its samples, once a row under it has started. */
  samples?: Uint8Array;
  parts: HeldPart[];
}

/**
 * Samples of chunks built, taken again as they are by the next chunk of the size inside the
 * level's extent, so a worker neither allocates (and faults in) 4 MiB per chunk nor collects it.
 * What they still hold does not show there: a build writes every voxel of such a chunk (from the
 * parts, parts computed again, or zeros for a chunk under it never written; see
 * computePyramidChunk). A chunk at the extent's edge takes zeros, which its voxels outside the
 * extent must be when it is first stored.
 */
const spare = new SpareBuffers(32 * 2 ** 20, (bytes) => new Uint8Array(new SharedArrayBuffer(bytes)));

export class LevelOneBuilds {
  /** By index in level 1's grid. */
  private readonly pending = new Map<number, Pending>();
  /** Ready, waiting for a thread: at most one build a thread runs, so a cancel stops the rest. */
  private readonly ready: Pending[] = [];
  private running = 0;
  /** Chunks built, as (level, index). */
  private readonly done: [number, number][] = [];
  private idle: (() => void) | undefined;
  private readonly halveZ: boolean;

  /**
   * `hold`: whether the rows write the parts into held samples. A z-slab's task writes a whole
   * section's chunks before it returns any, so a slab's parts are staged.
   */
  constructor(
    private readonly job: PyramidJob,
    private readonly grid: Grid,
    first: number,
    end: number,
    private readonly hold: boolean,
    private readonly signal: AbortSignal,
  ) {
    this.halveZ = halvesZ(job.multiscale.downsample);
    // Without a staging folder (odd chunk sizes) a chunk built here cannot be marked, and its
    // level's batch would build it again.
    if (!job.staging) return;
    for (const index of levelOneWithin(job, grid, first, end)) {
      const coord = chunkBox(levelGrid(job, 1), index).coord;
      let need = first;
      for (const input of inputsOf(job, 1, coord)) {
        const at = input && chunkIndex(grid, input);
        if (at !== undefined) need = Math.max(need, at + 1);
      }
      this.pending.set(index, { index, need, parts: [] });
    }
  }

  /** The job chunks [first, end) (a row) are written with: their parts go into the held samples of the chunks above. */
  rowJob(job: JobSpec, first: number, end: number): JobSpec {
    const d = job.destination;
    if (!this.hold || this.pending.size === 0 || d.name !== 'zarr' || !d.staging) return job;
    const hold: HeldChunk[] = [];
    const level1 = levelGrid(this.job, 1);
    for (let i = first; i < end; i++) {
      const coord = coordAbove(chunkCoord(this.grid, i), this.halveZ);
      const p = this.pending.get(chunkIndex(level1, coord) ?? -1);
      if (!p || hold.some((h) => h.samples === p.samples)) continue;
      const { chunk, datatype } = this.job.volume;
      const inside = coversChunk(boxOfChunk({ extent: this.job.extents[1]!, chunk }, coord), chunk);
      p.samples ??= spare.take(chunkBytes(chunk, datatype), !inside);
      hold.push({ coord, samples: p.samples });
    }
    return hold.length > 0 ? { ...job, destination: { ...d, staging: { ...d.staging, hold } } } : job;
  }

  /** A row's held parts, for their chunks above. */
  add(parts: readonly HeldPart[] = []): void {
    for (const part of parts) {
      const index = chunkIndex(levelGrid(this.job, 1), coordAbove(part.coord, this.halveZ));
      if (index !== undefined) this.pending.get(index)?.parts.push(part);
    }
  }

  /** Chunks [first, done) are written: builds the chunks that need no more. */
  written(done: number): void {
    for (const [index, p] of this.pending)
      if (p.need <= done) {
        this.pending.delete(index);
        this.ready.push(p);
      }
    this.next();
  }

  /** Builds what is left (its rows done, some may have failed) unless cancelled, and waits for every build. */
  async finish(): Promise<void> {
    this.written(Number.POSITIVE_INFINITY);
    if (this.running > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }

  /** The chunks built, as runs of each level's grid. */
  built(): LevelRange[] {
    const ranges: LevelRange[] = [];
    const sorted = [...this.done].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [level, index] of sorted) {
      const last = ranges[ranges.length - 1];
      if (last && last.level === level && last.end === index) last.end++;
      else if (!last || last.level !== level || last.end < index)
        ranges.push({ level, first: index, end: index + 1 });
    }
    return ranges;
  }

  private next(): void {
    while (this.running < pyramidPool().maxThreads && this.ready.length > 0 && !this.signal.aborted) {
      const p = this.ready.shift()!;
      this.running++;
      void this.build(p).finally(() => {
        this.running--;
        this.next();
        if (this.running === 0) this.idle?.();
      });
    }
  }

  private async build(p: Pending): Promise<void> {
    const held = p.samples && { samples: p.samples, parts: p.parts };
    const task = { job: this.job, level: 1, index: p.index, early: true, ...(held ? { held } : {}) };
    let outcome: PyramidChunkOutcome;
    try {
      outcome = await pyramidPool().run(task);
    } catch (err) {
      // The thread itself failed (it is replaced): the same as a chunk that could not be built.
      outcome = { error: { kind: 'retry', message: (err as Error).message ?? String(err) } };
    }
    if (held && 'ok' in outcome) spare.give(held.samples);
    if ('ok' in outcome) this.done.push(...(outcome.built ?? []));
    else
      log.warn('level-1 chunk not built early; its level builds it', {
        chunk: p.index,
        reason: outcome.error.message,
      });
  }
}
