import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Datatype, JobConfig, ZarrBackendConfig } from './types.js';
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
  return validateConfig(raw, file);
}

/** `--output PATH`: replaces the configured destination by a local OME-Zarr volume. */
export function withZarrOutput(config: JobConfig, output: string, datatype?: Datatype): JobConfig {
  const previous = config.client.backend;
  const backend: ZarrBackendConfig = { name: 'zarr', path: path.resolve(output) };
  const keep = previous.name === 'zarr' ? previous : undefined;
  if (datatype ?? keep?.datatype) backend.datatype = datatype ?? keep?.datatype;
  if (keep?.compressor) backend.compressor = keep.compressor;
  if (keep?.chunk_size) backend.chunk_size = keep.chunk_size;
  return { ...config, client: { ...config.client, backend } };
}
