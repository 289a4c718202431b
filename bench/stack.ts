/**
 * The benchmark stacks: CATMAID type-1 PNG or JPEG tiles of textured grey images, or z-index
 * stacks of the same images as one PNG per slice, generated once with sharp into the cache and reused.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

export interface BenchStack {
  root: string;
  width: number;
  height: number;
  depth: number;
  tile: number;
  bits: 8 | 16;
  /** png by default; jpg tiles are 8-bit, quality 90. */
  format?: 'png' | 'jpg';
  /** catmaid (type 1) by default; zindex: one image per slice, ROOT/sliceZZZZ.png. */
  layout?: 'catmaid' | 'zindex';
}

export const CACHE = process.env.BOSS_INGEST_CACHE ?? path.join(os.homedir(), '.cache', 'boss-ingest');

/**
 * Blobs over a gentle gradient with noise: compresses and decodes like real EM/LM data, unlike flat
 * or random images. The gradient spans 64 grey levels across the image whatever its size (for the
 * 2048x2048 stacks exactly what it always was): it grew with the image before, so three quarters
 * of a 16384x16384 section were flat white, which PNG squeezed 7:1 where these tiles take 1.2:1,
 * and decoding it measured next to nothing.
 */
function tileSamples(s: BenchStack, xi: number, yi: number, z: number): Uint8Array | Uint16Array {
  const n = s.tile * s.tile;
  const out = s.bits === 16 ? new Uint16Array(n) : new Uint8Array(n);
  const scale = s.bits === 16 ? 257 : 1;
  let seed = (xi * 73856093) ^ (yi * 19349663) ^ (z * 83492791);
  for (let y = 0; y < s.tile; y++) {
    const ay = yi * s.tile + y;
    for (let x = 0; x < s.tile; x++) {
      const ax = xi * s.tile + x;
      seed = (seed * 1103515245 + 12345) >>> 0;
      const blob = Math.sin(ax / 37 + z / 11) * Math.cos(ay / 29 - z / 13);
      const v = 110 + 70 * blob + Math.floor(((ax + ay) * 64) / (s.width + s.height)) + ((seed >>> 24) & 15);
      out[y * s.tile + x] =
        Math.max(0, Math.min(255, Math.round(v))) * scale + (s.bits === 16 ? (seed >>> 16) & 255 : 0);
    }
  }
  return out;
}

export function slicePath(s: BenchStack, z: number): string {
  return path.join(s.root, `slice${String(z).padStart(4, '0')}.png`);
}

/** A z-index slice: the tiles of the CATMAID stack of the same shape, side by side. */
async function writeSlice(s: BenchStack, z: number): Promise<void> {
  const slice = s.bits === 16 ? new Uint16Array(s.width * s.height) : new Uint8Array(s.width * s.height);
  for (let yi = 0; yi * s.tile < s.height; yi++) {
    for (let xi = 0; xi * s.tile < s.width; xi++) {
      const tile = tileSamples(s, xi, yi, z);
      for (let y = 0; y < s.tile; y++)
        slice.set(tile.subarray(y * s.tile, (y + 1) * s.tile), (yi * s.tile + y) * s.width + xi * s.tile);
    }
  }
  const raw = {
    width: s.width,
    height: s.height,
    channels: 1 as const,
    ...(s.bits === 16 ? { depth: 'ushort' as const } : {}),
  };
  await sharp(slice, { raw, limitInputPixels: false })
    .toColourspace(s.bits === 16 ? 'grey16' : 'b-w')
    .png({ compressionLevel: 6 })
    .toFile(slicePath(s, z));
}

export function tilePath(s: BenchStack, xi: number, yi: number, z: number): string {
  return path.join(s.root, `${z}`, `${yi}_${xi}_0.${s.format ?? 'png'}`);
}

/** The samples' version: a stack cached by an older one is generated again. */
const TEXTURE = 2;

/** Generates the stack unless a complete one with the same shape is in the cache. */
export async function ensureStack(name: string, shape: Omit<BenchStack, 'root'>): Promise<BenchStack> {
  const stack: BenchStack = { root: path.join(CACHE, 'bench', name), ...shape };
  const marker = path.join(stack.root, 'complete.json');
  const made = JSON.stringify({ ...shape, texture: TEXTURE });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === made) return stack;
  console.log(
    `generating ${name} (${shape.width}x${shape.height}x${shape.depth} ${shape.bits}-bit) in ${stack.root} ...`,
  );
  const colourspace = shape.bits === 16 ? 'grey16' : 'b-w';
  if (shape.layout === 'zindex') {
    mkdirSync(stack.root, { recursive: true });
    for (let z = 0; z < shape.depth; z++) await writeSlice(stack, z);
  }
  for (let z = 0; z < shape.depth && shape.layout !== 'zindex'; z++) {
    mkdirSync(path.join(stack.root, `${z}`), { recursive: true });
    const writes: Promise<unknown>[] = [];
    for (let yi = 0; yi * shape.tile < shape.height; yi++) {
      for (let xi = 0; xi * shape.tile < shape.width; xi++) {
        const samples = tileSamples(stack, xi, yi, z);
        const raw = {
          width: shape.tile,
          height: shape.tile,
          channels: 1 as const,
          ...(shape.bits === 16 ? { depth: 'ushort' as const } : {}),
        };
        writes.push(
          // A Uint16Array tells sharp the samples are 16-bit; a Buffer of the same bytes would be read as 8-bit.
          (shape.format === 'jpg'
            ? sharp(samples, { raw }).toColourspace(colourspace).jpeg({ quality: 90 })
            : sharp(samples, { raw }).toColourspace(colourspace).png({ compressionLevel: 6 })
          ).toFile(tilePath(stack, xi, yi, z)),
        );
      }
    }
    await Promise.all(writes);
  }
  writeFileSync(marker, made);
  return stack;
}

export function stackConfig(stack: BenchStack, backend: Record<string, unknown>): Record<string, unknown> {
  const zindex = {
    path_processor: {
      class: 'ingestclient.plugins.stack.ZindexStackPathProcessor',
      params: { root_dir: stack.root, extension: 'png', base_filename: 'slice<p:4>' },
    },
    tile_processor: {
      class: 'ingestclient.plugins.stack.ZindexStackTileProcessor',
      params: { filesystem: 'local', extension: 'png' },
    },
  };
  const catmaid = {
    path_processor: {
      class: 'ingest.plugins.catmaid.CatmaidFileImageStackPathProcessor',
      params: { root_dir: stack.root, filetype: stack.format ?? 'png' },
    },
    tile_processor: {
      class: 'ingest.plugins.catmaid.CatmaidFileImageStackTileProcessor',
      params: { filetype: stack.format ?? 'png' },
    },
  };
  return {
    schema: { name: 'boss-v0.1-schema', validator: 'BossValidatorV01' },
    client: {
      backend,
      ...(stack.layout === 'zindex' ? zindex : catmaid),
    },
    database: { collection: 'bench', experiment: 'bench', channel: 'bench' },
    ingest_job: {
      resolution: 0,
      extent: { x: [0, stack.width], y: [0, stack.height], z: [0, stack.depth], t: [0, 1] },
      tile_size: { x: stack.tile, y: stack.tile, z: 1, t: 1 },
    },
  };
}
