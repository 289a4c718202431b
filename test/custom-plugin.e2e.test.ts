/**
 * Users' own source plugins end to end on a real Temporal dev server, through the CLI: the shipped
 * example as its README section runs it, a module path relative to a config file elsewhere, an
 * installed package, and failures reported naming the plugin.
 */
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  assertVolume,
  cliEnv,
  jobIdOf,
  readWithZarrPython,
  REPO,
  type CliResult,
  type TestServer,
  useDevServer,
} from './harness/env.js';

const MAIN = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
const EXAMPLE = path.join(REPO, 'examples', 'custom-source');

/** `boss-ingest ARGS` run from the directory `cwd`. */
function cliIn(cwd: string, args: string[], home: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd, env: cliEnv(home), timeout: 110_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** The example's data, read directly: slice z is 600 x 200 little-endian uint16 samples. */
function exampleVoxel(): (x: number, y: number, z: number) => number {
  const slices = [0, 1, 2].map((z) => readFileSync(path.join(EXAMPLE, 'data', `slice_${z}.raw`)));
  return (x, y, z) => slices[z]!.readUInt16LE(2 * (y * 600 + x));
}

describe('custom source plugins on a real Temporal dev server', function () {
  this.timeout(120_000);
  let server: TestServer;
  let dir: string;

  useDevServer('custom', (s, d) => {
    server = s;
    dir = d;
  });

  const conn = () => ['--address', server.address];

  /** The example config, with its classes and data referenced from `where`. */
  function exampleConfig(pathClass: string, tileClass: string): Record<string, unknown> {
    const config = JSON.parse(readFileSync(path.join(EXAMPLE, 'config.json'), 'utf8'));
    config.client.path_processor.class = pathClass;
    config.client.path_processor.params.root_dir = path.join(EXAMPLE, 'data');
    config.client.tile_processor.class = tileClass;
    return config;
  }

  it('the example, as documented: `boss-ingest run examples/custom-source/config.json --output PATH` from the repository', async () => {
    const out = path.join(dir, 'example.ome.zarr');
    const res = await cliIn(
      REPO,
      ['run', 'examples/custom-source/config.json', '--output', out, '-f', ...conn()],
      server.home,
    );
    assert.equal(res.code, 0, `exit code ${res.code}\n${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /completed: 2\/2 chunks/);
    const read = await readWithZarrPython(out);
    assert.deepEqual(read.shape, [3, 200, 600]);
    assert.equal(read.dtype, 'uint16');
    assertVolume(read, { x: [0, 600], y: [0, 200], z: [0, 3] }, exampleVoxel());
  });

  it('a module path relative to a config file elsewhere, with the worker and the job started from other directories', async () => {
    const configDir = path.join(dir, 'project', 'configs');
    mkdirSync(path.join(dir, 'project', 'plugins'), { recursive: true });
    mkdirSync(configDir, { recursive: true });
    writeFileSync(
      path.join(dir, 'project', 'plugins', 'layout.mjs'),
      `export * from ${JSON.stringify(path.join(EXAMPLE, 'raw-slices.mjs'))};\n`,
    );
    const out = path.join(dir, 'relative.ome.zarr');
    const config = exampleConfig(
      '../plugins/layout.mjs#RawSlicePathProcessor',
      '../plugins/layout.mjs#RawSliceTileProcessor',
    );
    config.client = { ...(config.client as object), backend: { name: 'zarr', path: out } };
    writeFileSync(path.join(configDir, 'job.json'), JSON.stringify(config));

    const workerDir = path.join(dir, 'worker-cwd');
    const startDir = path.join(dir, 'start-cwd');
    mkdirSync(workerDir);
    mkdirSync(startDir);
    const worker = spawn(process.execPath, [MAIN, 'worker', ...conn()], {
      cwd: workerDir,
      env: { ...process.env, BOSS_INGEST_HOME: workerDir },
      stdio: 'ignore',
    });
    try {
      const res = await cliIn(
        startDir,
        ['start', path.join(configDir, 'job.json'), '--wait', '-f', ...conn()],
        server.home,
      );
      assert.equal(res.code, 0, `exit code ${res.code}\n${res.stdout}\n${res.stderr}`);
      jobIdOf(res.stdout);
      const read = await readWithZarrPython(out);
      assertVolume(read, { x: [0, 600], y: [0, 200], z: [0, 3] }, exampleVoxel());
    } finally {
      const exited = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGTERM');
      await exited;
    }
  });

  it('an installed package: `my-raw-layout#RawSlicePathProcessor`, found from the working directory', async () => {
    const project = path.join(dir, 'pkg-project');
    const pkg = path.join(project, 'node_modules', 'my-raw-layout');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      path.join(pkg, 'package.json'),
      JSON.stringify({ name: 'my-raw-layout', version: '1.0.0', type: 'module', exports: './index.mjs' }),
    );
    writeFileSync(
      path.join(pkg, 'index.mjs'),
      `export * from ${JSON.stringify(path.join(EXAMPLE, 'raw-slices.mjs'))};\n`,
    );
    const config = exampleConfig(
      'my-raw-layout#RawSlicePathProcessor',
      'my-raw-layout#RawSliceTileProcessor',
    );
    writeFileSync(path.join(project, 'job.json'), JSON.stringify(config));
    const out = path.join(dir, 'pkg.ome.zarr');
    const res = await cliIn(project, ['run', 'job.json', '--output', out, '-f', ...conn()], server.home);
    assert.equal(res.code, 0, `exit code ${res.code}\n${res.stdout}\n${res.stderr}`);
    const read = await readWithZarrPython(out);
    assertVolume(read, { x: [0, 600], y: [0, 200], z: [0, 3] }, exampleVoxel());
  });

  it("a plugin's exception fails only its tile's chunks, and the report names the plugin and the file", async () => {
    const plugin = path.join(dir, 'failing.mjs');
    writeFileSync(
      plugin,
      `import { RawSliceTileProcessor } from ${JSON.stringify(path.join(EXAMPLE, 'raw-slices.mjs'))};\n` +
        'export class Failing extends RawSliceTileProcessor {\n' +
        '  async process(file, x, y, z, t) {\n' +
        "    if (x === 1 && z === 2) throw new RangeError('offset is out of bounds');\n" +
        '    return super.process(file, x, y, z, t);\n' +
        '  }\n' +
        '}\n',
    );
    const config = exampleConfig(
      `${path.join(EXAMPLE, 'raw-slices.mjs')}#RawSlicePathProcessor`,
      './failing.mjs#Failing',
    );
    const file = path.join(dir, 'failing.json');
    writeFileSync(file, JSON.stringify(config));
    const out = path.join(dir, 'failing.ome.zarr');
    const res = await cliIn(REPO, ['run', file, '--output', out, '-f', ...conn()], server.home);
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    assert.match(res.stdout, /completed_with_errors: 2\/2 chunks .* 1 failed/);
    assert.ok(
      res.stdout.includes(
        `${path.join(EXAMPLE, 'data', 'slice_2.raw')}: ${plugin}#Failing failed: RangeError: offset is out of bounds`,
      ),
      res.stdout,
    );
    const read = await readWithZarrPython(out);
    const voxel = exampleVoxel();
    // Chunk x 1 (x 512-599) holds the failing tile and is not written; chunk x 0 is exact.
    assertVolume(read, { x: [0, 600], y: [0, 200], z: [0, 3] }, voxel, (x) => x >= 512);
  });

  it('a module that cannot be loaded fails the job at once, naming the config path and the module', async () => {
    const config = exampleConfig(
      './missing-layout.mjs#RawSlicePathProcessor',
      './missing-layout.mjs#RawSliceTileProcessor',
    );
    const file = path.join(dir, 'missing.json');
    writeFileSync(file, JSON.stringify(config));
    const res = await cliIn(
      REPO,
      ['run', file, '--output', path.join(dir, 'missing.ome.zarr'), '-f', ...conn()],
      server.home,
    );
    assert.equal(res.code, 1, `${res.stdout}\n${res.stderr}`);
    const output = res.stdout + res.stderr;
    assert.match(output, /client\.path_processor\.class: cannot load module .*missing-layout\.mjs/, output);
  });
});
