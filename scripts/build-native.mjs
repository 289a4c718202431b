// Compiles the native decoders and kernels (src/**/*.c, Node-API addons) into dist beside the
// compiled modules that load them: `npm run build` runs it after tsc. They link the system's
// libraries (LIBRARIES below) with the C compiler `CC` (default cc) and Node's own headers.
// Without them the build goes on and the modules fall back to a slower path, saying so here;
// BOSS_INGEST_REQUIRE_NATIVE=1 (set by .ci/run) makes that an error instead.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The libraries each addon links, and where a user gets their headers. */
const LIBRARIES = {
  'jpeg-grey.c': { link: ['-ljpeg'], from: 'libjpeg-turbo (Debian: libjpeg62-turbo-dev)' },
  'png-grey.c': { link: ['-ldeflate'], from: 'libdeflate (Debian: libdeflate-dev)' },
  'png-stream.c': {
    link: ['-ldeflate', '-lisal'],
    from: 'libdeflate and ISA-L (Debian: libdeflate-dev, libisal-dev)',
  },
  'lz4-blocks.c': { link: ['-llz4'], from: 'liblz4 (Debian: liblz4-dev)' },
};
const headers = path.join(path.dirname(process.execPath), '..', 'include', 'node');
const required = process.env.BOSS_INGEST_REQUIRE_NATIVE === '1';
let failed = false;
for (const entry of readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.c')) continue;
  const source = path.join(entry.parentPath, entry.name);
  const target = path.join(root, 'dist', path.relative(root, source)).replace(/\.c$/, '.node');
  mkdirSync(path.dirname(target), { recursive: true });
  try {
    if (!existsSync(path.join(headers, 'node_api.h'))) throw new Error(`no Node-API headers in ${headers}`);
    execFileSync(
      process.env.CC ?? 'cc',
      [
        '-O2',
        '-shared',
        '-fPIC',
        '-I',
        headers,
        source,
        ...(LIBRARIES[entry.name]?.link ?? []),
        '-o',
        target,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    failed = true;
    rmSync(target, { force: true }); // not a stale one from an earlier build
    const why = (err.stderr?.toString() || err.message).trim().split('\n').slice(0, 3).join('\n  ');
    console.error(
      `build-native: ${path.relative(root, source)} not built, its module falls back to a slower path ` +
        `(it needs a C compiler, Debian: gcc, and ${LIBRARIES[entry.name]?.from ?? 'nothing else'}):\n  ${why}`,
    );
  }
}
if (failed && required) process.exit(1);
