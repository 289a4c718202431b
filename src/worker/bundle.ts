/**
 * Bundles the workflow code once at build time (`npm run build`), so worker processes start in
 * a fraction of a second instead of each running webpack.
 */
import { readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.js', import.meta.url));
export const WORKFLOW_BUNDLE_PATH = fileURLToPath(new URL('../../workflow-bundle.js', import.meta.url));

/** Folders of the compiled modules the workflow code imports (it may import only pure modules). */
const WORKFLOW_SOURCES = ['workflows', 'job', 'config', 'extent', 'plugins'].map((dir) =>
  fileURLToPath(new URL(`../${dir}`, import.meta.url)),
);
/** Single modules outside those folders that the workflow code imports. */
const WORKFLOW_FILES = ['errors.js'].map((file) => fileURLToPath(new URL(`../${file}`, import.meta.url)));

/**
 * The prebuilt bundle when it is newer than every compiled module it holds, so a bare `tsc`
 * build never runs stale workflow code; otherwise undefined (the worker bundles at start).
 */
export function freshWorkflowBundle(): string | undefined {
  let bundled: number;
  try {
    bundled = statSync(WORKFLOW_BUNDLE_PATH).mtimeMs;
  } catch {
    return undefined;
  }
  if (WORKFLOW_FILES.some((file) => statSync(file).mtimeMs > bundled)) return undefined;
  for (const dir of WORKFLOW_SOURCES) {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (
        entry.isFile() &&
        entry.name.endsWith('.js') &&
        statSync(path.join(entry.parentPath, entry.name)).mtimeMs > bundled
      )
        return undefined;
    }
  }
  return WORKFLOW_BUNDLE_PATH;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: undefined });
  await writeFile(WORKFLOW_BUNDLE_PATH, code);
}
