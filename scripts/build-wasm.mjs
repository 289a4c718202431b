// Compiles the WebAssembly text kernels (src/**/*.wat) into dist beside the compiled modules
// that load them: `npm run build` runs it after tsc, so no binary is kept in the repository.
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const wabt = await wabtInit();
for (const entry of readdirSync(path.join(root, 'src'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.wat')) continue;
  const source = path.join(entry.parentPath, entry.name);
  const module = wabt.parseWat(source, readFileSync(source, 'utf8'), { simd: true });
  module.validate();
  const target = path.join(root, 'dist', path.relative(root, source)).replace(/\.wat$/, '.wasm');
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, module.toBinary({}).buffer);
  module.destroy();
}
