// Unit tests of users' own source plugins (src/plugins/custom.ts, src/config/load.ts): loading a
// `MODULE#Export` class, and reporting its failures like our own sources, naming the plugin.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfigFile } from '../src/config/load.js';
import type { JobConfig } from '../src/config/types.js';
import { validateConfig } from '../src/config/validate.js';
import { createSource } from '../src/plugins/index.js';
import { PluginParamError } from '../src/plugins/types.js';
import { TileError } from '../src/tiles/tile.js';

/** A module of test plugins; each misbehaves in the way its name says. */
const PLUGINS = `
export class Paths {
  setup(params) { this.root = params.root; }
  process(x, y, z, t) { return \`\${this.root}/\${z}_\${t}.bin\`; }
}
export class Tiles {
  setup(params) { this.job = params.ingest_job; this.mode = params.mode; }
  async process(file, x, y, z, t) {
    if (this.mode === 'throws' && z === 1) throw new TypeError('cannot read properties of undefined');
    if (this.mode === 'eio') throw Object.assign(new Error('i/o error'), { code: 'EIO' });
    if (this.mode === 'tile-error') throw Object.assign(new Error('x'), { name: 'TileError', file: '/their/file', reason: 'is theirs' });
    if (this.mode === 'short') return { width: 4, height: 4, datatype: 'uint8', data: new Uint8Array(15) };
    if (this.mode === 'wrong-array') return { width: 4, height: 4, datatype: 'uint16', data: new Uint8Array(16) };
    if (this.mode === 'nothing') return undefined;
    if (this.mode === 'placed') return { width: 4, height: 4, datatype: 'uint8', data: new Uint8Array(16), placed: true };
    const data = new Uint16Array(16).map((_, i) => i + 100 * z + 1000 * t);
    return { width: 4, height: 4, datatype: 'uint16', data };
  }
}
export class BadPaths {
  setup() {}
  process(x, y, z) { if (z === 2) throw new Error('no slice 2'); return z === 1 ? 42 : '/ok'; }
}
export class SetupFails { setup(params) { throw new Error('params.root is missing'); } process() { return ''; } }
export class SetupParamError {
  setup() { throw Object.assign(new Error('r'), { name: 'PluginParamError', path: 'client.path_processor.params.root', rule: 'is required' }); }
  process() { return ''; }
}
export class NoProcess { setup() {} }
export const NotAClass = 42;
`;

describe('custom source plugins (MODULE#Export)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'boss-ingest-custom-'));
  const module = path.join(root, 'plugins.mjs');
  fs.writeFileSync(module, PLUGINS);
  fs.writeFileSync(path.join(root, 'broken.mjs'), 'export class A { process( }');
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  function config(pathClass: string, tileClass: string, tileParams: Record<string, unknown> = {}): JobConfig {
    return validateConfig({
      schema: { name: 'boss-v0.1-schema', validator: 'BossValidatorV01' },
      client: {
        backend: { name: 'boss', class: 'BossBackend', host: 'h', protocol: 'https' },
        path_processor: { class: pathClass, params: { root: '/data' } },
        tile_processor: { class: tileClass, params: tileParams },
      },
      database: { collection: 'c', experiment: 'e', channel: 'ch' },
      ingest_job: {
        resolution: 0,
        extent: { x: [0, 4], y: [0, 4], z: [0, 3], t: [0, 2] },
        tile_size: { x: 4, y: 4, z: 1, t: 1 },
      },
    });
  }

  const own = (name: string) => `${module}#${name}`;

  it('loads the classes from an absolute path or a file: URL, sets them up with their params and reads tiles', async () => {
    for (const mod of [module, pathToFileURL(module).href]) {
      const source = await createSource(config(`${mod}#Paths`, `${mod}#Tiles`));
      const file = source.path.process(0, 0, 2, 1);
      assert.equal(file, '/data/2_1.bin');
      const tile = await source.tile.process(file, 0, 0, 2, 1);
      assert.deepEqual(Array.from(tile.data.subarray(0, 3), Number), [1200, 1201, 1202]);
    }
  });

  describe('a module or class that cannot be used fails the job, naming the plugin', () => {
    const cases: [string, string, RegExp][] = [
      [
        path.join(root, 'nope.mjs#Paths'),
        'client.path_processor.class',
        /cannot load module .*nope\.mjs: Cannot find module/,
      ],
      [
        path.join(root, 'broken.mjs#A'),
        'client.path_processor.class',
        /cannot load module .*broken\.mjs: .*Unexpected token/,
      ],
      [
        own('Missing'),
        'client.path_processor.class',
        /has no exported class Missing \(it exports .*Paths.*Tiles/,
      ],
      [own('NotAClass'), 'client.path_processor.class', /has no exported class NotAClass/],
      [
        own('NoProcess'),
        'client.path_processor.class',
        /NoProcess from .*plugins\.mjs has no process\(x, y, z, t\) method/,
      ],
      [
        own('SetupFails'),
        'client.path_processor.params',
        /plugins\.mjs#SetupFails setup failed: Error: params\.root is missing/,
      ],
      [own('SetupParamError'), 'client.path_processor.params.root', /is required/],
      [
        'no-such-package-boss-ingest#Paths',
        'client.path_processor.class',
        /cannot load module no-such-package-boss-ingest/,
      ],
    ];
    for (const [cls, where, pattern] of cases) {
      it(`${path.basename(cls)} -> ${where}`, async () => {
        await assert.rejects(createSource(config(cls, own('Tiles'))), (err: unknown) => {
          assert.ok(err instanceof PluginParamError, String(err));
          assert.equal(err.path, where);
          assert.match(err.rule, pattern);
          return true;
        });
      });
    }
  });

  describe("a plugin's failure while reading a tile is a TileError naming the plugin and the file", () => {
    it('an exception in the tile processor', async () => {
      const source = await createSource(config(own('Paths'), own('Tiles'), { mode: 'throws' }));
      await assert.rejects(source.tile.process('/data/1_0.bin', 0, 0, 1, 0), (err: unknown) => {
        assert.ok(err instanceof TileError, String(err));
        assert.equal(err.file, '/data/1_0.bin');
        assert.equal(err.reason, `${own('Tiles')} failed: TypeError: cannot read properties of undefined`);
        return true;
      });
    });

    it('an exception or a non-path from the path processor', async () => {
      const source = await createSource(config(own('BadPaths'), own('Tiles')));
      assert.equal(source.path.process(0, 0, 0, 0), '/ok');
      assert.throws(
        () => source.path.process(0, 0, 2, 0),
        (err: unknown) =>
          err instanceof TileError &&
          err.file === 'tile (x 0, y 0, z 2, t 0)' &&
          err.reason === `${own('BadPaths')} failed: Error: no slice 2`,
      );
      assert.throws(
        () => source.path.process(0, 0, 1, 0),
        (err: unknown) => err instanceof TileError && /returned 42, not a file path/.test(err.reason),
      );
    });

    for (const [mode, pattern] of [
      ['short', /returned 15 samples for a 4x4 tile/],
      ['wrong-array', /returned datatype "uint16" with data Uint8Array/],
      ['nothing', /returned undefined, not a Tile/],
      // Only boss-ingest's own decoders place a tile's samples in a chunk: a plugin's would be lost.
      ['placed', /returned a tile with `placed` set/],
    ] as const) {
      it(`a tile that is not a Tile (${mode})`, async () => {
        const source = await createSource(config(own('Paths'), own('Tiles'), { mode }));
        await assert.rejects(source.tile.process('/f', 0, 0, 0, 0), (err: unknown) => {
          assert.ok(err instanceof TileError);
          assert.equal(err.file, '/f');
          assert.match(err.reason, pattern);
          return true;
        });
      });
    }

    it("the plugin's own TileError keeps its file and reason; a transient I/O error stays retryable", async () => {
      const theirs = await createSource(config(own('Paths'), own('Tiles'), { mode: 'tile-error' }));
      await assert.rejects(
        theirs.tile.process('/f', 0, 0, 0, 0),
        (err: unknown) =>
          err instanceof TileError && err.file === '/their/file' && err.reason === 'is theirs',
      );
      const eio = await createSource(config(own('Paths'), own('Tiles'), { mode: 'eio' }));
      await assert.rejects(
        eio.tile.process('/f', 0, 0, 0, 0),
        (err: unknown) => (err as { code?: string }).code === 'EIO',
      );
    });
  });

  describe('loadConfigFile', () => {
    it('makes module paths relative to the config file absolute, and leaves packages and absolute paths', async () => {
      const sub = path.join(root, 'configs');
      fs.mkdirSync(sub, { recursive: true });
      const raw = JSON.parse(JSON.stringify(config('./layout.mjs#Paths', '../lib/tiles.mjs#Tiles')));
      const file = path.join(sub, 'job.json');
      fs.writeFileSync(file, JSON.stringify(raw));
      const loaded = await loadConfigFile(file);
      assert.equal(loaded.client.path_processor.class, `${path.join(sub, 'layout.mjs')}#Paths`);
      assert.equal(loaded.client.tile_processor!.class, `${path.join(root, 'lib', 'tiles.mjs')}#Tiles`);

      raw.client.path_processor.class = 'my-layouts#Paths';
      raw.client.tile_processor.class = `${module}#Tiles`;
      fs.writeFileSync(file, JSON.stringify(raw));
      const kept = await loadConfigFile(file);
      assert.equal(kept.client.path_processor.class, 'my-layouts#Paths');
      assert.equal(kept.client.tile_processor!.class, `${module}#Tiles`);
    });
  });
});
