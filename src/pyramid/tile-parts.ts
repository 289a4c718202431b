/**
 * Level-1 parts computed tile by tile while a row is assembled, each tile's 2x2 means taken right
 * after its voxels land in the chunk, while they are still in the core's cache. Taken from the
 * whole chunk after it is written (see staging.ts's stagePart), the same means read 4 MiB back
 * from memory: 1.1 ms a chunk in a job against 0.3 ms on its own, and the decoding beside it
 * slowed too. Only where the result is the whole-chunk kernel's exactly: uint8 means in x and y
 * (anisotropic), into a held level-1 chunk whose every block lies inside level 0's extent, from a
 * whole chunk whose tiles all lie on even voxels. Any chunk not covered so takes the usual path.
 */
import type { DestinationSpec } from '../destinations/registry.js';
import { boxSize, intersect, type Box } from '../extent/box.js';
import {
  chunkBox,
  coversChunk,
  sameCoord,
  wholeChunk,
  type ChunkBox,
  type ChunkCoord,
  type ChunkShape,
  type Extent,
  type Grid,
} from '../extent/grid.js';
import { coordAbove } from './job.js';
import { halvesZ } from './levels.js';
import { nativeMean } from './mean-kernel.js';
import type { HeldChunk } from './staging.js';

interface ChunkParts {
  /** The level-0 chunk. */
  coord: ChunkCoord;
  held: HeldChunk;
  /** Voxels whose means are in the held chunk; the part is done when they are the whole chunk. */
  voxels: number;
  /** A tile off the even grid: the part is left to the whole-chunk path. */
  spoilt: boolean;
}

export class TileParts {
  private readonly chunks = new Map<number, ChunkParts>();

  private constructor(
    private readonly spec: Extract<DestinationSpec, { name: 'zarr' }>,
    private readonly shape: ChunkShape,
  ) {}

  /** For chunks [first, end) of `grid` (a row), or undefined when none of them can have its part computed by tiles. */
  static of(spec: DestinationSpec, grid: Grid, first: number, end: number): TileParts | undefined {
    if (spec.name !== 'zarr' || !nativeMean || spec.datatype !== 'uint8') return undefined;
    const { staging, multiscale, chunk } = spec;
    if (!staging?.hold?.length || multiscale?.method !== 'mean' || halvesZ(multiscale.downsample))
      return undefined;
    if (chunk.x % 2 !== 0 || chunk.y % 2 !== 0) return undefined;
    const parts = new TileParts(spec, chunk);
    for (let index = first; index < end; index++) {
      const box = chunkBox(grid, index);
      const above = coordAbove(box.coord, false);
      const held = staging.hold.find((h) => sameCoord(h.coord, above));
      if (!held || !coversChunk(box, chunk) || !blocksInside(above, chunk, staging.extent)) continue;
      parts.chunks.set(index, { coord: box.coord, held, voxels: 0, spoilt: false });
    }
    return parts.chunks.size > 0 ? parts : undefined;
  }

  /** The voxels `cell` of chunk `c` are in its samples: their means go into the held chunk above. */
  tile(c: { index: number; box: ChunkBox; samples: Uint8Array }, cell: Box): void {
    const p = this.chunks.get(c.index);
    if (!p || p.spoilt) return;
    const shared = intersect(cell, c.box);
    if (!shared) return;
    const { x: X, y: Y } = this.shape;
    const origin = wholeChunk(this.shape, c.box.coord);
    const [x, y, z] = [shared.x[0] - origin.x[0], shared.y[0] - origin.y[0], shared.z[0] - origin.z[0]];
    const size = boxSize(shared);
    if (x % 2 !== 0 || y % 2 !== 0 || size.x % 2 !== 0 || size.y % 2 !== 0) {
      p.spoilt = true;
      return;
    }
    // Where the chunk's quarter lies in the chunk above, and this tile's means in that quarter.
    const at = (c.box.coord.y % 2) * (Y / 2) + y / 2;
    const dst = z * X * Y + at * X + (c.box.coord.x % 2) * (X / 2) + x / 2;
    const src = c.samples.subarray((z * Y + y) * X + x);
    nativeMean!.mean(src, X * Y, X, Y, 1, p.held.samples, dst, X, X * Y, size.x / 2, size.y / 2, size.z);
    p.voxels += size.x * size.y * size.z;
  }

  /**
   * The spec to write the row with: each held chunk lists the chunks whose parts are already in
   * its samples (HeldChunk.ready), so their writes do not compute them again. `failed`: chunks
   * that will not be written.
   */
  writeSpec(failed: ReadonlyMap<number, unknown>): DestinationSpec {
    const whole = this.shape.x * this.shape.y * this.shape.z;
    const ready = new Map<HeldChunk, ChunkCoord[]>();
    for (const [index, p] of this.chunks)
      if (!p.spoilt && p.voxels === whole && !failed.has(index))
        ready.set(p.held, [...(ready.get(p.held) ?? []), p.coord]);
    if (ready.size === 0) return this.spec;
    const hold = this.spec.staging!.hold!.map((h) => (ready.has(h) ? { ...h, ready: ready.get(h)! } : h));
    return { ...this.spec, staging: { ...this.spec.staging!, hold } };
  }
}

/** Whether every 2x2 block of level-1 chunk `above` lies inside level 0's extent (x and y halved, z not). */
function blocksInside(
  above: { x: number; y: number; z: number },
  chunk: ChunkShape,
  extent: Extent,
): boolean {
  const inside = (start: number, size: number, range: readonly [number, number]) =>
    start >= range[0] && start + size <= range[1];
  return (
    inside(2 * above.x * chunk.x, 2 * chunk.x, extent.x) &&
    inside(2 * above.y * chunk.y, 2 * chunk.y, extent.y) &&
    inside(above.z * chunk.z, chunk.z, extent.z)
  );
}
