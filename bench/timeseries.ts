/**
 * The time-series bench: a calcium-imaging series (512 x 512, 4 z slices, one uint16 multipage
 * TIFF per slice) ingested into a local OME-Zarr volume by one warm worker process, server up.
 * Reports MiB/s and the worker's peak resident memory, which must not grow with the number of
 * pages, beside the tifffile + zarr-python script (bench/peers/tifffile_zarr.py) on the same files.
 * `node dist/bench/timeseries.js` runs it at 100 and at 1,000 pages.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobConfig } from '../src/config/types.js';
import { validateConfig } from '../src/config/validate.js';
import { writeMultipageTiff } from '../test/fixtures/tiff.js';
import { tifffilePeer } from './python-peer.js';
import { readLimit, seriesLayout } from './read-limit.js';
import { settle } from './settle.js';
import { CACHE } from './stack.js';
import { median, MiB, startBenchServer, startWorker, timeJob, type BenchServer } from './workers.js';

const SIZE = 512;
const SLICES = 4;

/**
 * Page t of slice z: blobs that move with time over a gradient, with shot noise, like a
 * fluorescence series; compresses and decodes like real data, unlike flat or random pages.
 */
function page(z: number, t: number): Uint16Array {
  const out = new Uint16Array(SIZE * SIZE);
  let seed = (z * 73856093) ^ (t * 19349663);
  for (let y = 0; y < SIZE; y++) {
    const wave = Math.cos(y / 29 - t / 50 + z);
    for (let x = 0; x < SIZE; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const blob = Math.sin(x / 37 + t / 40) * wave;
      out[y * SIZE + x] = 2000 + 1500 * blob * blob + ((x + y) << 2) + ((seed >>> 20) & 255);
    }
  }
  return out;
}

/** The series' files, generated unless a complete one is in the cache. */
function ensureSeries(pages: number): string[] {
  const root = path.join(CACHE, 'bench', `timeseries-u16-${SIZE}x${SIZE}x${SLICES}-${pages}`);
  const files = Array.from({ length: SLICES }, (_, z) => path.join(root, `slice${z}.tif`));
  const marker = path.join(root, 'complete.json');
  if (existsSync(marker)) return files;
  console.log(`generating ${SLICES} multipage TIFFs of ${pages} ${SIZE}x${SIZE} uint16 pages in ${root} ...`);
  mkdirSync(root, { recursive: true });
  files.forEach((file, z) =>
    writeMultipageTiff(file, { width: SIZE, height: SIZE, bits: 16, pages }, (t) => page(z, t)),
  );
  writeFileSync(marker, JSON.stringify({ pages }));
  return files;
}

function seriesConfig(files: string[], pages: number, out: string): JobConfig {
  return validateConfig({
    schema: { name: 'boss-v0.1-schema', validator: 'BossValidatorV01' },
    client: {
      backend: { name: 'zarr', path: out },
      path_processor: {
        class: 'ingest.plugins.multipage_tiff.SingleTimeTiffPathProcessor',
        params: Object.fromEntries(files.map((f, z) => [`z_${z}`, f])),
      },
      tile_processor: {
        class: 'ingest.plugins.multipage_tiff.SingleTimeTiffTileProcessor',
        params: { datatype: 'uint16', filetype: 'tif' },
      },
    },
    database: { collection: 'bench', experiment: 'bench', channel: 'timeseries' },
    ingest_job: {
      resolution: 0,
      extent: { x: [0, SIZE], y: [0, SIZE], z: [0, SLICES], t: [0, pages] },
      tile_size: { x: SIZE, y: SIZE, z: 1, t: 1 },
    },
  });
}

/**
 * The series of `pages` time points (1,000 unless told) ingested by one worker process
 * (`boss-ingest worker -p 1`, chunk threads included), warm as in the stacks' figures: one job
 * unmeasured first, then `reps` jobs interleaved with `reps` runs of the tifffile script and of
 * the limit (read-limit.ts: the pages read and compressed on all cores, nothing else); best and
 * median of each. The worker's peak resident memory is over all its jobs.
 */
export async function benchTimeSeries(
  server: BenchServer,
  pages = 1000,
  reps = 3,
): Promise<TimeSeriesFigure> {
  const files = ensureSeries(pages);
  const bytes = pages * SLICES * SIZE * SIZE * 2;
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-ts-out-'));
  const worker = await startWorker(server);
  const layout = await seriesLayout(files, pages);
  const seconds = { ingest: [] as number[], peer: [] as number[], limit: [] as number[] };
  try {
    for (let rep = -1; rep < reps; rep++) {
      const volume = path.join(out, `series-${rep + 1}.ome.zarr`);
      settle(bytes);
      const { seconds: s, result } = await timeJob(
        server,
        seriesConfig(files, pages, volume),
        `bench-ts-${pages}-${Date.now()}`,
      );
      rmSync(volume, { recursive: true, force: true });
      if (result.state !== 'completed') throw new Error(`the time-series job ended ${result.state}`);
      if (rep < 0) continue; // the warm-up
      seconds.ingest.push(s);
      settle(bytes);
      seconds.peer.push((await tifffilePeer(files, pages)).seconds);
      settle(bytes);
      const limit = await readLimit(layout, os.availableParallelism());
      if (limit.bytes !== bytes) throw new Error(`the read limit read ${limit.bytes} bytes of ${bytes}`);
      seconds.limit.push(limit.seconds);
    }
    const rate = (s: number) => bytes / MiB / s;
    return {
      mibPerSec: rate(Math.min(...seconds.ingest)),
      medianMibPerSec: rate(median(seconds.ingest)),
      peerMibPerSec: rate(Math.min(...seconds.peer)),
      peerMedianMibPerSec: rate(median(seconds.peer)),
      limitMibPerSec: rate(Math.min(...seconds.limit)),
      limitMedianMibPerSec: rate(median(seconds.limit)),
      peakRssMiB: worker.peakRssMiB(),
      pages,
    };
  } finally {
    await worker.stop();
    rmSync(out, { recursive: true, force: true });
  }
}

export interface TimeSeriesFigure {
  /** Best of the warm jobs, and their median; the script's likewise. */
  mibPerSec: number;
  medianMibPerSec: number;
  peerMibPerSec: number;
  peerMedianMibPerSec: number;
  /** The pages read and compressed on all cores, nothing else (read-limit.ts). */
  limitMibPerSec: number;
  limitMedianMibPerSec: number;
  peakRssMiB: number;
  pages: number;
}

async function main(): Promise<void> {
  const server = await startBenchServer();
  try {
    console.log(
      `boss-ingest time-series bench: ${os.availableParallelism()} cores, node ${process.version}, ` +
        `${SIZE}x${SIZE} uint16, ${SLICES} z slices, one multipage TIFF per slice, OME-Zarr defaults`,
    );
    for (const pages of [100, 1000]) {
      const r = await benchTimeSeries(server, pages);
      console.log(
        `${String(r.pages).padStart(5)} pages: ${r.mibPerSec.toFixed(1)} MiB/s, median ${r.medianMibPerSec.toFixed(1)} (tifffile + zarr-python ${r.peerMibPerSec.toFixed(1)}, median ${r.peerMedianMibPerSec.toFixed(1)}; the read limit ${r.limitMibPerSec.toFixed(1)}, median ${r.limitMedianMibPerSec.toFixed(1)}), worker peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
      );
    }
  } finally {
    await server.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
  process.exit(0);
}
