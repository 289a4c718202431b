/**
 * CATMAID tiles over HTTP (the original's CatmainURLTileProcessor, misspelling included) end to
 * end through the CLI: a stack served by a plain HTTP server lands voxel for voxel; a missing tile
 * fails its chunks naming the URL, or reads as zeros with fill_missing.
 */
import { strict as assert } from 'node:assert';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stackConfig, stackSpec, tileFile, voxel, writeStack } from './fixtures/stack.js';
import {
  assertVolume,
  cli,
  readWithZarrPython,
  startTestServer,
  tempDir,
  type TestServer,
} from './harness/env.js';
import { serveDirectory, type StaticServer } from './harness/sources.js';

describe('CATMAID tiles over HTTP', function () {
  this.timeout(240_000);
  let server: TestServer;
  let http: StaticServer;
  let dir: string;
  const spec = () =>
    stackSpec(path.join(dir, 'stack'), 'catmaid5', [700, 600, 5], 8, { tile: { x: 256, y: 256 } });

  before(async () => {
    server = await startTestServer();
    dir = tempDir('catmaid-url');
    await writeStack(spec());
    rmSync(tileFile(spec(), 2, 1, 3));
    // catmaid5 files are {root}/{r}/{z}/{y}/{x}.png: served from {root}/0/, they are {url}{z}/{y}/{x}.png.
    http = await serveDirectory(path.join(dir, 'stack', '0'));
  });
  after(async () => {
    await http?.close();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(name: string, params: object): string {
    const c = stackConfig(spec()) as { client: Record<string, unknown> };
    c.client.path_processor = { class: 'ingestclient.plugins.catmaid.CatmaidURLPathProcessor', params: {} };
    c.client.tile_processor = {
      class: 'ingestclient.plugins.catmaid.CatmainURLTileProcessor',
      params: {
        url: `${http.url}/`,
        filetype: 'png',
        x_offset: 0,
        y_offset: 0,
        z_offset: 0,
        x_tile: 256,
        y_tile: 256,
        ...params,
      },
    };
    const file = path.join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(c));
    return file;
  }

  const extent = {
    x: [0, 700] as [number, number],
    y: [0, 600] as [number, number],
    z: [0, 5] as [number, number],
  };
  const missing = (x: number, y: number, z: number) => z === 3 && x >= 512 && y >= 256 && y < 512;

  it('a missing tile fails its chunks naming the URL; every other chunk lands', async () => {
    const out = path.join(dir, 'strict.ome.zarr');
    const res = await cli(
      ['run', config('strict', {}), '--output', out, '-f', '--address', server.address],
      server.home,
    );
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.ok(
      (res.stdout + res.stderr).includes(`${http.url}/3/1/2.png: is missing (HTTP 404)`),
      res.stdout + res.stderr,
    );
    // The chunk holding the missing tile (x 512.., y 0..512, z 0..16) was not written: skip it.
    const inFailedChunk = (x: number, y: number) => x >= 512 && y < 512;
    assertVolume(
      await readWithZarrPython(out),
      extent,
      (x, y, z) => voxel(spec(), x, y, z),
      (x, y) => inFailedChunk(x, y),
    );
  });

  it('fill_missing reads the missing tile as zeros and the rest voxel for voxel', async () => {
    const out = path.join(dir, 'filled.ome.zarr');
    const res = await cli(
      ['run', config('filled', { fill_missing: true }), '--output', out, '-f', '--address', server.address],
      server.home,
    );
    assert.equal(res.code, 0, `${res.stdout}\n${res.stderr}`);
    assertVolume(await readWithZarrPython(out), extent, (x, y, z) =>
      missing(x, y, z) ? 0 : voxel(spec(), x, y, z),
    );
  });
});
