// Unit tests of the source plugins (src/plugins/), tile decoding and checks (src/tiles/), on generated
// stacks whose voxels are known (test/fixtures/stack.ts `voxel()` is the oracle).
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IngestJobSection, JobConfig } from '../src/config/types.js';
import { validateConfig } from '../src/config/validate.js';
import { indices, tileRange } from '../src/extent/tiles.js';
import {
  CatmaidDirectoryImageStackPathProcessor,
  CatmaidFileImageStackPathProcessor,
  CatmaidFileImageStackZoomLevelPathProcessor,
  CatmaidTileProcessor,
} from '../src/plugins/catmaid.js';
import { extentGaps } from '../src/plugins/coverage.js';
import { createSource } from '../src/plugins/index.js';
import { PluginParamError, type PathProcessor, type Source } from '../src/plugins/types.js';
import { expandBaseFilename } from '../src/plugins/base-filename.js';
import { ZindexStackPathProcessor, ZindexStackTileProcessor } from '../src/plugins/zindex.js';
import { checkTile } from '../src/tiles/check.js';
import { decodeGreyImage } from '../src/tiles/decode.js';
import { TileError, type Tile, type TileDatatype } from '../src/tiles/tile.js';
import { validateTiles } from '../src/validate/tiles.js';
import { encodePng } from './fixtures/png.js';
import {
  stackConfig,
  tileFile,
  voxel,
  writeStack,
  type Filetype,
  type Layout,
  type StackSpec,
} from './fixtures/stack.js';

/** 50 x 30 voxels in 20 x 16 tiles: 3 x 2 tiles, the right and bottom ones smaller. */
const WIDTH = 50;
const HEIGHT = 30;
const TILE = { x: 20, y: 16 };

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'boss-ingest-sources-'));
}

function jobOf(spec: StackSpec): IngestJobSection {
  return (stackConfig(spec) as unknown as JobConfig).ingest_job;
}

function configOf(spec: StackSpec): JobConfig {
  return validateConfig(stackConfig(spec));
}

/** Tile indices covering the stack. */
function tileIndices(spec: StackSpec): [number, number][] {
  const tiles = tileRange({ x: [0, spec.width], y: [0, spec.height], z: [0, 1] }, spec.tile);
  return indices(tiles.y).flatMap((yi) => indices(tiles.x).map((xi): [number, number] => [xi, yi]));
}

/**
 * Asserts that a tile holds the stack's voxels for tile (xi, yi) of slice z, within `tolerance`
 * (JPEG is lossy). The tile must cover at least the part of the tile inside the stack.
 */
function assertTileVoxels(
  spec: StackSpec,
  tile: Tile,
  xi: number,
  yi: number,
  z: number,
  tolerance = 0,
): void {
  const x0 = xi * spec.tile.x;
  const y0 = yi * spec.tile.y;
  const w = Math.min(spec.tile.x, spec.width - x0);
  const h = Math.min(spec.tile.y, spec.height - y0);
  assert.ok(tile.width >= w && tile.height >= h, `tile (${xi}, ${yi}) is ${tile.width}x${tile.height}`);
  assert.equal(tile.data.length, tile.width * tile.height);
  let worst = 0;
  let where = '';
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const expected = voxel(spec, x0 + x, y0 + y, z);
      const diff = Math.abs(Number(tile.data[y * tile.width + x]) - expected);
      if (diff > worst) {
        worst = diff;
        where = `(${x0 + x}, ${y0 + y}, ${z}): got ${tile.data[y * tile.width + x]}, expected ${expected}`;
      }
    }
  }
  assert.ok(worst <= tolerance, `tile (${xi}, ${yi}, z ${z}) differs at ${where}`);
}

/** The documented file names (sources.md), expanded by `documented`. */
const CATMAID: { layout: Layout; type: number; Processor: new () => PathProcessor; template: string }[] = [
  {
    layout: 'catmaid1',
    type: 1,
    Processor: CatmaidFileImageStackPathProcessor,
    template: '{root}/{z}/{y}_{x}_{r}.{ext}',
  },
  {
    layout: 'catmaid4',
    type: 4,
    Processor: CatmaidFileImageStackZoomLevelPathProcessor,
    template: '{root}/{r}/{z}/{y}_{x}.{ext}',
  },
  {
    layout: 'catmaid5',
    type: 5,
    Processor: CatmaidDirectoryImageStackPathProcessor,
    template: '{root}/{r}/{z}/{y}/{x}.{ext}',
  },
];

function documented(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key]));
}

describe('CATMAID sources', () => {
  let root: string;

  before(() => {
    root = tempRoot();
  });

  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  for (const { layout, type, template } of CATMAID) {
    for (const filetype of ['png', 'tif', 'jpg'] as Filetype[]) {
      it(`type ${type}: tile files are ${template} and decode to the stack's voxels (${filetype})`, async () => {
        const spec: StackSpec = {
          root: path.join(root, `${layout}-${filetype}`),
          layout,
          width: WIDTH,
          height: HEIGHT,
          depth: 2,
          z0: 3,
          tile: TILE,
          bits: 8,
          filetype,
          resolution: 2,
        };
        await writeStack(spec);
        const source = await createSource(configOf(spec));
        for (let z = 3; z < 5; z++) {
          for (const [xi, yi] of tileIndices(spec)) {
            const file = source.path.process(xi, yi, z, 0);
            assert.equal(
              file,
              documented(template, { root: spec.root, x: xi, y: yi, z, r: 2, ext: filetype }),
            );
            assert.ok(fs.existsSync(file), `${file} does not exist`);
            const tile = await source.tile.process(file, xi, yi, z, 0);
            assert.equal(tile.datatype, 'uint8');
            assert.equal(tile.width, Math.min(TILE.x, WIDTH - xi * TILE.x));
            assert.equal(tile.height, Math.min(TILE.y, HEIGHT - yi * TILE.y));
            assertTileVoxels(spec, tile, xi, yi, z, filetype === 'jpg' ? 3 : 0);
          }
        }
      });
    }
  }

  for (const filetype of ['png', 'tif'] as Filetype[]) {
    it(`reads 16-bit ${filetype} tiles exactly, as uint16`, async () => {
      const spec: StackSpec = {
        root: path.join(root, `bits16-${filetype}`),
        layout: 'catmaid4',
        width: WIDTH,
        height: HEIGHT,
        depth: 1,
        tile: TILE,
        bits: 16,
        filetype,
      };
      await writeStack(spec);
      const source = await createSource(configOf(spec));
      for (const [xi, yi] of tileIndices(spec)) {
        const file = source.path.process(xi, yi, 0, 0);
        const tile = await source.tile.process(file, xi, yi, 0, 0);
        assert.equal(tile.datatype, 'uint16');
        assert.ok(tile.data instanceof Uint16Array);
        assertTileVoxels(spec, tile, xi, yi, 0);
      }
    });
  }

  it('reads full-size padded edge tiles, with the padding beyond the stack', async () => {
    const spec: StackSpec = {
      root: path.join(root, 'padded'),
      layout: 'catmaid1',
      width: WIDTH,
      height: HEIGHT,
      depth: 1,
      tile: TILE,
      bits: 8,
      padEdges: true,
    };
    await writeStack(spec);
    const source = await createSource(configOf(spec));
    const file = source.path.process(2, 1, 0, 0);
    const tile = await source.tile.process(file, 2, 1, 0, 0);
    assert.equal(tile.width, TILE.x);
    assert.equal(tile.height, TILE.y);
    assertTileVoxels(spec, tile, 2, 1, 0);
  });

  describe('path processors', () => {
    const job: IngestJobSection = {
      resolution: 0,
      extent: { x: [0, WIDTH], y: [0, HEIGHT], z: [3, 5], t: [0, 1] },
      tile_size: { x: TILE.x, y: TILE.y, z: 1, t: 1 },
    };

    for (const { type, Processor } of CATMAID) {
      it(`type ${type} is written at the job's one time point, any k of extent.t = [k, k+1]`, () => {
        const p = new Processor();
        p.setup({ root_dir: '/data', filetype: 'png', ingest_job: job });
        assert.throws(
          () => p.process(0, 0, 3, 1),
          (err: unknown) => err instanceof PluginParamError && /t=1/.test(err.rule),
        );
        assert.doesNotThrow(() => p.process(0, 0, 3, 0));
        const later = new Processor();
        later.setup({
          root_dir: '/data',
          filetype: 'png',
          ingest_job: { ...job, extent: { ...job.extent, t: [2, 3] } },
        });
        assert.equal(later.process(0, 0, 3, 2), p.process(0, 0, 3, 0));
        assert.throws(
          () =>
            new Processor().setup({
              root_dir: '/data',
              filetype: 'png',
              ingest_job: { ...job, extent: { ...job.extent, t: [0, 2] } },
            }),
          (err: unknown) => err instanceof PluginParamError && err.path === 'ingest_job.extent.t',
        );
      });

      it(`type ${type} refuses tile indices outside the extent`, () => {
        const p = new Processor();
        p.setup({ root_dir: '/data', filetype: 'png', ingest_job: job });
        // Tiles 0..2 in x, 0..1 in y, slices 3..4.
        assert.doesNotThrow(() => p.process(2, 1, 4, 0));
        for (const [x, y, z] of [
          [3, 0, 3],
          [0, 2, 3],
          [0, 0, 2],
          [0, 0, 5],
          [-1, 0, 3],
        ] as const) {
          assert.throws(() => p.process(x, y, z, 0), /outside the extent/, `tile (${x}, ${y}, ${z})`);
        }
      });

      it(`type ${type} accepts filetypes png, tif, tiff, jpg and jpeg and refuses others`, () => {
        for (const filetype of ['png', 'tif', 'tiff', 'jpg', 'jpeg']) {
          const p = new Processor();
          p.setup({ root_dir: '/data', filetype, ingest_job: job });
          assert.ok(p.process(0, 0, 3, 0).endsWith(`.${filetype}`));
        }
        assert.throws(
          () => new Processor().setup({ root_dir: '/data', filetype: 'bmp', ingest_job: job }),
          (err: unknown) =>
            err instanceof PluginParamError &&
            err.path === 'client.path_processor.params.filetype' &&
            /"bmp"/.test(err.rule),
        );
        assert.throws(
          () => new Processor().setup({ filetype: 'png', ingest_job: job }),
          (err: unknown) =>
            err instanceof PluginParamError && err.path === 'client.path_processor.params.root_dir',
        );
      });

      it(`type ${type} keeps the filetype's spelling in the file name (the original used it verbatim)`, () => {
        const p = new Processor();
        p.setup({ root_dir: '/data', filetype: 'PNG', ingest_job: job });
        assert.ok(p.process(0, 0, 3, 0).endsWith('.PNG'), p.process(0, 0, 3, 0));
      });
    }
  });

  it('the CATMAID tile processor refuses an unknown filetype', () => {
    const job = jobOf({ root: '/x', layout: 'catmaid1', width: 1, height: 1, depth: 1, tile: TILE, bits: 8 });
    assert.throws(
      () => new CatmaidTileProcessor().setup({ filetype: 'gif', ingest_job: job }),
      (err: unknown) =>
        err instanceof PluginParamError && err.path === 'client.tile_processor.params.filetype',
    );
  });
});

describe('z-index stacks', () => {
  describe('expandBaseFilename', () => {
    it('expands the documented example <o:3253>_my_stack_section<p:3>', () => {
      assert.equal(expandBaseFilename('<o:3253>_my_stack_section<p:3>', 0, 0, 0), '3253_my_stack_section000');
      assert.equal(expandBaseFilename('<o:3253>_my_stack_section<p:3>', 0, 0, 1), '3254_my_stack_section001');
    });

    it('expands <o:N p:M> written together (<o:200p:4>)', () => {
      assert.equal(expandBaseFilename('my_base_<o:200p:4>', 0, 0, 0), 'my_base_0200');
      assert.equal(expandBaseFilename('my_base_<o:200p:4>', 0, 0, 7), 'my_base_0207');
      assert.equal(expandBaseFilename('my_base_<o:200p:4>', 0, 0, 12345), 'my_base_12545');
    });

    it('expands <> (no offset, no padding) to z, as the original documented (my_base_<> -> my_base_0, ...)', () => {
      assert.equal(expandBaseFilename('my_base_<>', 0, 0, 0), 'my_base_0');
      assert.equal(expandBaseFilename('my_base_<>', 0, 0, 2), 'my_base_2');
    });

    it('replaces the literals <x>, <y>, <z> by the raw indices', () => {
      assert.equal(expandBaseFilename('s<z>/r<y>_c<x>', 4, 9, 17), 's17/r9_c4');
      assert.equal(expandBaseFilename('<z>_<o:10p:3>_<x><y>', 1, 2, 3), '3_013_12');
    });

    it('leaves a name without placeholders alone', () => {
      assert.equal(expandBaseFilename('section', 1, 2, 3), 'section');
    });
  });

  describe('ZindexStackPathProcessor', () => {
    const job: IngestJobSection = {
      resolution: 0,
      extent: { x: [0, 100], y: [0, 100], z: [0, 10], t: [0, 1] },
      tile_size: { x: 50, y: 50, z: 1, t: 1 },
    };

    it('gives {root_dir}/{base}.{extension}', () => {
      const p: PathProcessor = new ZindexStackPathProcessor();
      p.setup({
        root_dir: '/data/sections',
        extension: 'png',
        base_filename: '<o:3253>_my_stack_section<p:3>',
        ingest_job: job,
      });
      assert.equal(p.process(1, 1, 0, 0), '/data/sections/3253_my_stack_section000.png');
      assert.equal(p.process(0, 0, 1, 0), '/data/sections/3254_my_stack_section001.png');
    });

    it("has a single time point: the job's own [k, k+1], never a wider extent.t", () => {
      const p: PathProcessor = new ZindexStackPathProcessor();
      p.setup({ root_dir: '/data', extension: 'png', base_filename: '<p:4>', ingest_job: job });
      assert.throws(() => p.process(0, 0, 0, 1));
      const later: PathProcessor = new ZindexStackPathProcessor();
      const at3 = { ...job, extent: { ...job.extent, t: [3, 4] as [number, number] } };
      later.setup({ root_dir: '/data', extension: 'png', base_filename: '<p:4>', ingest_job: at3 });
      assert.equal(later.process(0, 0, 0, 3), p.process(0, 0, 0, 0));
      const wide = { ...job, extent: { ...job.extent, t: [0, 2] as [number, number] } };
      assert.throws(
        () =>
          new ZindexStackPathProcessor().setup({
            root_dir: '/d',
            extension: 'png',
            base_filename: '<>',
            ingest_job: wide,
          }),
        (err: unknown) => err instanceof PluginParamError && err.path === 'ingest_job.extent.t',
      );
    });

    it('requires root_dir, extension and base_filename', () => {
      for (const missing of ['root_dir', 'extension', 'base_filename']) {
        const params: Record<string, unknown> = { root_dir: '/d', extension: 'png', base_filename: '<>' };
        delete params[missing];
        assert.throws(
          () => new ZindexStackPathProcessor().setup({ ...params, ingest_job: job }),
          (err: unknown) =>
            err instanceof PluginParamError && err.path === `client.path_processor.params.${missing}`,
        );
      }
    });
  });

  describe('ZindexStackTileProcessor', () => {
    let root: string;

    beforeEach(() => {
      root = tempRoot();
    });

    afterEach(() => {
      fs.rmSync(root, { recursive: true, force: true });
    });

    function zindexSpec(bits: 8 | 16, filetype: Filetype = 'png'): StackSpec {
      return { root, layout: 'zindex', width: WIDTH, height: HEIGHT, depth: 2, tile: TILE, bits, filetype };
    }

    for (const [bits, filetype] of [
      [8, 'png'],
      [16, 'png'],
      [16, 'tif'],
    ] as const) {
      it(`crops each tile from the slice, including the right and bottom edge tiles (${bits}-bit ${filetype})`, async () => {
        const spec = zindexSpec(bits, filetype);
        await writeStack(spec);
        const source = await createSource(configOf(spec));
        for (let z = 0; z < 2; z++) {
          for (const [xi, yi] of tileIndices(spec)) {
            const file = source.path.process(xi, yi, z, 0);
            assert.equal(file, tileFile(spec, xi, yi, z));
            const tile = await source.tile.process(file, xi, yi, z, 0);
            assert.equal(tile.datatype, bits === 16 ? 'uint16' : 'uint8');
            assert.equal(tile.width, Math.min(TILE.x, WIDTH - xi * TILE.x), `width of tile (${xi}, ${yi})`);
            assert.equal(
              tile.height,
              Math.min(TILE.y, HEIGHT - yi * TILE.y),
              `height of tile (${xi}, ${yi})`,
            );
            assertTileVoxels(spec, tile, xi, yi, z);
          }
        }
      });
    }

    it('the coverage check asks a slice only whether it is there: a missing slice is named, none is decoded', async () => {
      const spec = zindexSpec(8);
      await writeStack(spec);
      const config = configOf(spec);
      const deeper = {
        ...config,
        ingest_job: { ...config.ingest_job, extent: { ...config.ingest_job.extent, z: [0, 4] } },
      };
      const tiles = deeper.client.tile_processor!;
      for (const graceful of [false, true]) {
        const job = validateConfig({
          ...deeper,
          client: {
            ...deeper.client,
            tile_processor: { ...tiles, params: { ...tiles.params, fail_gracefully: graceful } },
          },
        });
        const source = await createSource(job);
        // Decoding a 16k slice takes a second on the main thread: the check must not.
        source.tile.process = () => Promise.reject(new Error('a slice was decoded'));
        const gaps = await extentGaps(source, job);
        if (graceful) assert.deepEqual(gaps, [], 'with fail_gracefully an absent slice reads as zeros');
        else {
          assert.equal(gaps.length, 1);
          assert.match(
            gaps[0]!,
            /^extent\.z: the source has data up to z 2 but the extent reaches z 4 .*file not found/,
          );
        }
      }
    });

    it('crops the same tiles whatever order they are asked for in, across slices', async () => {
      const spec = zindexSpec(8);
      await writeStack(spec);
      const source = await createSource(configOf(spec));
      const order: [number, number, number][] = [
        [2, 1, 1],
        [0, 0, 0],
        [1, 1, 1],
        [2, 0, 0],
        [0, 1, 1],
      ];
      for (const [xi, yi, z] of order) {
        const tile = await source.tile.process(source.path.process(xi, yi, z, 0), xi, yi, z, 0);
        assertTileVoxels(spec, tile, xi, yi, z);
      }
    });

    async function zindexSource(spec: StackSpec, failGracefully?: boolean): Promise<Source> {
      const raw = stackConfig(spec) as unknown as JobConfig;
      if (failGracefully !== undefined) raw.client.tile_processor!.params!.fail_gracefully = failGracefully;
      return createSource(validateConfig(raw));
    }

    it('with fail_gracefully, a missing slice gives zero tiles of the right size', async () => {
      const spec = zindexSpec(8);
      await writeStack(spec);
      fs.rmSync(tileFile(spec, 0, 0, 1));
      const source = await zindexSource(spec, true);
      for (const [xi, yi] of tileIndices(spec)) {
        const tile = await source.tile.process(source.path.process(xi, yi, 1, 0), xi, yi, 1, 0);
        assert.equal(tile.width, Math.min(TILE.x, WIDTH - xi * TILE.x));
        assert.equal(tile.height, Math.min(TILE.y, HEIGHT - yi * TILE.y));
        assert.equal(tile.data.length, tile.width * tile.height);
        assert.ok(
          tile.data.every((v) => v === 0),
          `tile (${xi}, ${yi}) is not all zeros`,
        );
      }
      // The slice that is there is still read.
      const tile = await source.tile.process(source.path.process(1, 1, 0, 0), 1, 1, 0, 0);
      assertTileVoxels(spec, tile, 1, 1, 0);
    });

    it('with fail_gracefully, an unreadable slice gives zeros', async () => {
      const spec = zindexSpec(8);
      await writeStack(spec);
      const file = tileFile(spec, 0, 0, 0);
      fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 50));
      const source = await zindexSource(spec, true);
      const tile = await source.tile.process(file, 1, 0, 0, 0);
      assert.equal(tile.width, TILE.x);
      assert.equal(tile.height, TILE.y);
      assert.ok(tile.data.every((v) => v === 0));
    });

    it('without fail_gracefully, a missing slice is a TileError naming the file', async () => {
      for (const failGracefully of [undefined, false]) {
        const spec = zindexSpec(8);
        await writeStack(spec);
        const file = tileFile(spec, 0, 0, 1);
        fs.rmSync(file);
        const source = await zindexSource(spec, failGracefully);
        await assert.rejects(
          source.tile.process(file, 0, 0, 1, 0),
          (err: unknown) => err instanceof TileError && err.file === file && err.reason === 'file not found',
        );
      }
    });

    it('refuses a slice smaller than the extent needs, naming the file', async () => {
      const spec = zindexSpec(8);
      await writeStack(spec);
      const raw = stackConfig(spec, { x: [0, WIDTH + 5], y: [0, HEIGHT], z: [0, 2] });
      const source = await createSource(validateConfig(raw));
      const file = tileFile(spec, 0, 0, 0);
      await assert.rejects(
        source.tile.process(file, 2, 0, 0, 0),
        (err: unknown) => err instanceof TileError && err.file === file && /50x30/.test(err.reason),
      );
    });

    it('refuses a non-boolean fail_gracefully and a filesystem other than local', () => {
      const job = jobOf(zindexSpec(8));
      assert.throws(
        () =>
          new ZindexStackTileProcessor().setup({
            filesystem: 'local',
            fail_gracefully: 'yes',
            ingest_job: job,
          }),
        (err: unknown) =>
          err instanceof PluginParamError && err.path === 'client.tile_processor.params.fail_gracefully',
      );
      assert.throws(
        () => new ZindexStackTileProcessor().setup({ filesystem: 's3', ingest_job: job }),
        (err: unknown) =>
          err instanceof PluginParamError && err.path === 'client.tile_processor.params.filesystem',
      );
    });
  });
});

describe('decodeGreyImage', () => {
  let root: string;

  beforeEach(() => {
    root = tempRoot();
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** One 37 x 23 image, written as a CATMAID type-1 tile. */
  async function writeImage(bits: 8 | 16, filetype: Filetype): Promise<{ spec: StackSpec; file: string }> {
    const spec: StackSpec = {
      root,
      layout: 'catmaid1',
      width: 37,
      height: 23,
      depth: 1,
      tile: { x: 37, y: 23 },
      bits,
      filetype,
      seed: 3,
    };
    await writeStack(spec);
    return { spec, file: tileFile(spec, 0, 0, 0) };
  }

  for (const filetype of ['png', 'tif'] as Filetype[]) {
    it(`decodes an 8-bit grey ${filetype} exactly`, async () => {
      const { spec, file } = await writeImage(8, filetype);
      const tile = await decodeGreyImage(file);
      assert.equal(tile.datatype, 'uint8');
      assert.ok(tile.data instanceof Uint8Array);
      assert.equal(tile.width, 37);
      assert.equal(tile.height, 23);
      assertTileVoxels(spec, tile, 0, 0, 0);
    });

    it(`decodes a 16-bit grey ${filetype} exactly, not reduced to 8 bits`, async () => {
      const { spec, file } = await writeImage(16, filetype);
      let above255 = 0;
      for (let y = 0; y < 23; y++) for (let x = 0; x < 37; x++) if (voxel(spec, x, y, 0) > 255) above255++;
      assert.ok(above255 > 100, 'test setup: the image should use the high byte');
      const tile = await decodeGreyImage(file);
      assert.equal(tile.datatype, 'uint16');
      assert.ok(tile.data instanceof Uint16Array);
      assert.equal(tile.width, 37);
      assert.equal(tile.height, 23);
      assertTileVoxels(spec, tile, 0, 0, 0);
    });
  }

  it('decodes a grey JPEG (lossy, within 3 grey levels)', async () => {
    const { spec, file } = await writeImage(8, 'jpg');
    const tile = await decodeGreyImage(file);
    assert.equal(tile.datatype, 'uint8');
    assert.equal(tile.width, 37);
    assertTileVoxels(spec, tile, 0, 0, 0, 3);
  });

  it('refuses a colour PNG, naming the file', async () => {
    const file = path.join(root, 'colour.png');
    fs.writeFileSync(file, encodePng(8, 8, new Uint8Array(64).fill(100), { colour: true }));
    await assert.rejects(decodeGreyImage(file), (err: unknown) => {
      assert.ok(err instanceof TileError);
      assert.equal(err.file, file);
      assert.ok(err.message.includes(file));
      assert.match(err.reason, /colour/);
      return true;
    });
  });

  it('refuses a truncated PNG, naming the file', async () => {
    const samples = new Uint8Array(64 * 64).map((_, i) => (i * 7) % 256);
    const png = encodePng(64, 64, samples);
    for (const keep of [png.length - 40, 30]) {
      const file = path.join(root, `truncated-${keep}.png`);
      fs.writeFileSync(file, png.subarray(0, keep));
      await assert.rejects(decodeGreyImage(file), (err: unknown) => {
        assert.ok(err instanceof TileError, String(err));
        assert.equal(err.file, file);
        assert.ok(err.message.includes(file));
        assert.match(err.reason, /cannot be decoded/);
        return true;
      });
    }
  });

  it('reports a missing file as TileError "file not found"', async () => {
    const file = path.join(root, 'nope.png');
    await assert.rejects(
      decodeGreyImage(file),
      (err: unknown) => err instanceof TileError && err.file === file && err.reason === 'file not found',
    );
  });
});

describe('checkTile', () => {
  const job: IngestJobSection = {
    resolution: 0,
    extent: { x: [0, WIDTH], y: [0, HEIGHT], z: [0, 1], t: [0, 1] },
    tile_size: { x: TILE.x, y: TILE.y, z: 1, t: 1 },
  };

  function tile(width: number, height: number, datatype: TileDatatype = 'uint8'): Tile {
    const data = datatype === 'uint8' ? new Uint8Array(width * height) : new Uint16Array(width * height);
    return { width, height, datatype, data };
  }

  it('accepts interior tiles of tile_size', () => {
    assert.doesNotThrow(() => checkTile(tile(20, 16), 'a.png', job, 'uint8', 0, 0));
    assert.doesNotThrow(() => checkTile(tile(20, 16), 'a.png', job, 'uint8', 1, 0));
  });

  it('refuses an interior tile of the wrong size, naming the file', () => {
    for (const [w, h] of [
      [19, 16],
      [20, 15],
      [21, 16],
      [20, 17],
      [10, 14],
    ]) {
      assert.throws(
        () => checkTile(tile(w!, h!), '/s/0/0_1_0.png', job, 'uint8', 1, 0),
        (err: unknown) =>
          err instanceof TileError &&
          err.file === '/s/0/0_1_0.png' &&
          err.reason.includes(`${w}x${h}`) &&
          err.reason.includes('20x16'),
        `${w}x${h}`,
      );
    }
  });

  it('accepts right and bottom edge tiles smaller than tile_size (exactly what the extent needs)', () => {
    assert.doesNotThrow(() => checkTile(tile(10, 16), 'e.png', job, 'uint8', 2, 0));
    assert.doesNotThrow(() => checkTile(tile(20, 14), 'e.png', job, 'uint8', 0, 1));
    assert.doesNotThrow(() => checkTile(tile(10, 14), 'e.png', job, 'uint8', 2, 1));
    assert.doesNotThrow(() => checkTile(tile(15, 15), 'e.png', job, 'uint8', 2, 1));
  });

  it('accepts full-size padded edge tiles', () => {
    assert.doesNotThrow(() => checkTile(tile(20, 16), 'e.png', job, 'uint8', 2, 1));
  });

  it('refuses edge tiles smaller than the extent needs or larger than tile_size', () => {
    for (const [w, h] of [
      [9, 14],
      [10, 13],
      [21, 16],
      [20, 17],
    ]) {
      assert.throws(
        () => checkTile(tile(w!, h!), 'e.png', job, 'uint8', 2, 1),
        (err: unknown) => err instanceof TileError && /between 10x14 and 20x16/.test(err.reason),
        `${w}x${h}`,
      );
    }
  });

  it('refuses a uint16 tile for a uint8 destination, naming the file', () => {
    assert.throws(
      () => checkTile(tile(20, 16, 'uint16'), '/data/0/0_0_0.png', job, 'uint8', 0, 0),
      (err: unknown) => {
        assert.ok(err instanceof TileError);
        assert.equal(err.file, '/data/0/0_0_0.png');
        assert.ok(err.message.includes('/data/0/0_0_0.png'));
        assert.match(err.reason, /uint16.*uint8/);
        return true;
      },
    );
  });

  it('accepts uint8 tiles for uint16 and uint64 destinations, and uint16 for uint64', () => {
    assert.doesNotThrow(() => checkTile(tile(20, 16, 'uint8'), 'a.png', job, 'uint16', 0, 0));
    assert.doesNotThrow(() => checkTile(tile(20, 16, 'uint8'), 'a.png', job, 'uint64', 0, 0));
    assert.doesNotThrow(() => checkTile(tile(20, 16, 'uint16'), 'a.png', job, 'uint64', 0, 0));
    assert.doesNotThrow(() => checkTile(tile(20, 16, 'uint16'), 'a.png', job, undefined, 0, 0));
  });
});

describe('validateTiles', () => {
  let root: string;

  beforeEach(() => {
    root = tempRoot();
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('reports every problem of a stack (a missing tile and a corrupt tile), not just the first', async () => {
    const spec: StackSpec = {
      root,
      layout: 'catmaid1',
      width: WIDTH,
      height: HEIGHT,
      depth: 2,
      tile: TILE,
      bits: 8,
    };
    await writeStack(spec);
    const missing = tileFile(spec, 1, 0, 0);
    const corrupt = tileFile(spec, 2, 1, 1);
    fs.rmSync(missing);
    fs.writeFileSync(corrupt, fs.readFileSync(corrupt).subarray(0, 60));
    const progress: number[] = [];
    const report = await validateTiles(configOf(spec), { onProgress: (checked) => progress.push(checked) });
    assert.equal(report.tiles, 3 * 2 * 2);
    assert.equal(report.datatype, 'uint8');
    const problems = [...report.problems].sort((a, b) => a.file.localeCompare(b.file));
    assert.equal(problems.length, 2, JSON.stringify(report.problems));
    const byFile = new Map(problems.map((p) => [p.file, p.reason]));
    assert.match(byFile.get(missing) ?? '(none)', /file not found/);
    assert.match(byFile.get(corrupt) ?? '(none)', /cannot be decoded/);
    assert.equal(progress[progress.length - 1], report.tiles);
  });

  it('reports a tile of the wrong size and a tile of the wrong datatype', async () => {
    const spec: StackSpec = {
      root,
      layout: 'catmaid5',
      width: WIDTH,
      height: HEIGHT,
      depth: 1,
      tile: TILE,
      bits: 8,
    };
    await writeStack(spec);
    const small = tileFile(spec, 0, 0, 0);
    fs.writeFileSync(small, encodePng(19, 16, new Uint8Array(19 * 16)));
    const deep = tileFile(spec, 1, 1, 0);
    fs.writeFileSync(deep, encodePng(20, 14, new Uint16Array(20 * 14).fill(1000)));
    const raw = stackConfig(spec) as unknown as JobConfig;
    raw.client.backend = { name: 'zarr', path: path.join(root, 'out.ome.zarr'), datatype: 'uint8' };
    const report = await validateTiles(validateConfig(raw));
    const byFile = new Map(report.problems.map((p) => [p.file, p.reason]));
    assert.equal(report.problems.length, 2, JSON.stringify(report.problems));
    assert.match(byFile.get(small) ?? '(none)', /19x16/);
    assert.match(byFile.get(deep) ?? '(none)', /uint16/);
  });

  it('reports nothing for a good stack', async () => {
    const spec: StackSpec = {
      root,
      layout: 'zindex',
      width: WIDTH,
      height: HEIGHT,
      depth: 2,
      tile: TILE,
      bits: 16,
    };
    await writeStack(spec);
    const report = await validateTiles(configOf(spec));
    assert.deepEqual(report, {
      tiles: 12,
      checked: 12,
      datatype: 'uint16',
      problems: [],
      problemCount: 0,
      gaps: [],
    });
  });
});
