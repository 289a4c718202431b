import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { customPluginParts, isCustomPluginClass, isRelativeModule } from '../plugins/names.js';
import type { Datatype, JobConfig, PluginConfig, ZarrBackendConfig } from './types.js';
import { ConfigError, validateConfig } from './validate.js';

/** Reads and validates a config file; errors name the file and each JSON path at fault. */
export async function loadConfigFile(file: string): Promise<JobConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', rule: `cannot read the file: ${(err as Error).message}` }], file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([{ path: '', rule: `not valid JSON: ${(err as Error).message}` }], file);
  }
  return withAbsolutePluginModules(validateConfig(raw, file), path.dirname(path.resolve(file)));
}

/**
 * Custom plugin modules written relative to the config file (`./my-layout.mjs#MyPathProcessor`)
 * made absolute, because workers load them from wherever they run. Packages and absolute paths
 * are left as they are.
 */
export function withAbsolutePluginModules(config: JobConfig, dir: string): JobConfig {
  const absolute = (plugin: PluginConfig | undefined): PluginConfig | undefined => {
    if (!plugin || !isCustomPluginClass(plugin.class)) return plugin;
    const { module, exportName } = customPluginParts(plugin.class);
    if (!isRelativeModule(module)) return plugin;
    return { ...plugin, class: `${path.resolve(dir, module)}#${exportName}` };
  };
  const client = { ...config.client, path_processor: absolute(config.client.path_processor)! };
  for (const key of ['tile_processor', 'chunk_processor'] as const) {
    if (config.client[key]) client[key] = absolute(config.client[key]);
  }
  return { ...config, client };
}

/** `--output PATH`: replaces the configured destination by a local OME-Zarr volume, keeping a zarr backend's options. */
export function withZarrOutput(config: JobConfig, output: string, datatype?: Datatype): JobConfig {
  const previous = config.client.backend;
  const backend: ZarrBackendConfig = {
    ...(previous.name === 'zarr' ? previous : {}),
    name: 'zarr',
    path: path.resolve(output),
  };
  if (datatype) backend.datatype = datatype;
  return { ...config, client: { ...config.client, backend } };
}

/** `--multiscale`: a pyramid with the config's settings, the defaults for those it leaves out. */
export function withMultiscale(config: JobConfig): JobConfig {
  const backend = config.client.backend;
  if (backend.name !== 'zarr')
    throw new ConfigError([
      {
        path: 'client.backend.name',
        rule: `--multiscale needs a zarr destination (or --output), not ${backend.name}`,
      },
    ]);
  return {
    ...config,
    client: { ...config.client, backend: { ...backend, multiscale: backend.multiscale ?? {} } },
  };
}
