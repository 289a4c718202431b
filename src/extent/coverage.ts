/**
 * Does the source cover the job's extent? Checked before any chunk starts, by reading a few
 * tiles: the corners of the extent and a sample in between. When a corner has no data, a binary
 * search along each axis finds where the data ends, so the message can say which part of the
 * extent is empty ("tiles exist up to x 2048, the extent reaches x 1000000000").
 */

/** Tile indices (x, y: tile columns and rows; z, t: slices and time points), half-open. */
export interface TileSpan {
  x: [number, number];
  y: [number, number];
  z: [number, number];
  t: [number, number];
}

export interface TileIndex {
  x: number;
  y: number;
  z: number;
  t: number;
}

/** Reads one tile: undefined when it is there and usable, else what is wrong (naming the file). */
export type TileProbe = (at: TileIndex) => Promise<string | undefined>;

type Axis = keyof TileIndex;
const AXES: Axis[] = ['x', 'y', 'z', 't'];

/** Per axis: voxels per tile index (scale), or the extent's stop in voxels (stops), for messages. */
export type AxisScale = Record<Axis, number>;

const SAMPLES = 6;

/** How a hole inside an extent whose edges read is reported: the extent itself may be right. */
export const INSIDE = 'part of the extent has no data: ';

function corners(span: TileSpan): TileIndex[] {
  let points: TileIndex[] = [{ x: span.x[0], y: span.y[0], z: span.z[0], t: span.t[0] }];
  for (const axis of AXES) {
    const last = span[axis][1] - 1;
    if (last === span[axis][0]) continue;
    points = points.flatMap((p) => [p, { ...p, [axis]: last }]);
  }
  return points;
}

/** Evenly spread interior points: a bad tile in the middle of a stack shows up early too. */
function samples(span: TileSpan): TileIndex[] {
  const at = (axis: Axis, k: number) => {
    const [a, b] = span[axis];
    return a + Math.floor(((b - a) * k) / (SAMPLES + 1));
  };
  return Array.from({ length: SAMPLES }, (_, i) => ({
    x: at('x', i + 1),
    y: at('y', i + 1),
    z: at('z', i + 1),
    t: at('t', i + 1),
  }));
}

const key = (p: TileIndex) => `${p.x},${p.y},${p.z},${p.t}`;

/** The last index along `axis`, from `origin`, at which the probe finds a tile (origin has one). */
async function lastWithData(origin: TileIndex, axis: Axis, end: number, probe: TileProbe): Promise<number> {
  let good = origin[axis];
  let bad = end;
  while (bad - good > 1) {
    const mid = good + Math.floor((bad - good) / 2);
    if ((await probe({ ...origin, [axis]: mid })) === undefined) good = mid;
    else bad = mid;
  }
  return good;
}

/**
 * What is wrong with the extent, as messages naming the part without data; empty when the
 * corners and samples all read. `scale` turns tile indices into voxel coordinates.
 */
export async function coverageProblems(
  span: TileSpan,
  scale: AxisScale,
  stops: AxisScale,
  probe: TileProbe,
): Promise<string[]> {
  const seen = new Set<string>();
  const points = [...corners(span), ...samples(span)].filter((p) => !seen.has(key(p)) && seen.add(key(p)));
  const results = await Promise.all(points.map(async (p) => ({ p, problem: await probe(p) })));
  const failed = results.filter((r) => r.problem !== undefined);
  if (failed.length === 0) return [];

  const start = results[0]!;
  if (start.problem !== undefined) {
    return [`the extent's first tile has no data: ${start.problem}`];
  }
  const problems: string[] = [];
  for (const axis of AXES) {
    const [a, b] = span[axis];
    const endPoint = { ...start.p, [axis]: b - 1 };
    if (b - 1 === a || results.find((r) => key(r.p) === key(endPoint))?.problem === undefined) continue;
    const last = await lastWithData(start.p, axis, b, probe);
    const dataEnd = (last + 1) * scale[axis];
    problems.push(
      `extent.${axis}: the source has data up to ${axis} ${dataEnd} but the extent reaches ${axis} ${stops[axis]}` +
        ` (${axis} ${dataEnd}-${stops[axis]} has no data, e.g. ${(await probe({ ...start.p, [axis]: last + 1 }))!})`,
    );
  }
  if (problems.length === 0) {
    // The edges read, but a corner or a sample inside does not: name the first one.
    problems.push(`${INSIDE}${failed[0]!.problem!}`);
  }
  return problems;
}
