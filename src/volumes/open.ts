/**
 * A volumetric job's source, opened from its `client.chunk_processor` (the original's class
 * names and params). Unknown params are refused by name: the original passed CloudVolume's
 * straight to its constructor, where a typo became a TypeError.
 */
import type { JobConfig } from '../config/types.js';
import { sourceToken } from '../boss/token.js';
import { resolvePluginName } from '../plugins/names.js';
import { PluginParamError, stringParam, type PluginParams } from '../plugins/types.js';
import { openBossVolume, sourceBoss } from './boss.js';
import { openPrecomputed } from './precomputed/index.js';
import type { Volume } from './volume.js';
import { openZarr } from './zarr.js';

const WHERE = 'client.chunk_processor';

function allowOnly(params: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) {
      throw new PluginParamError(
        `${WHERE}.params.${key}`,
        `is not a param of this chunk processor (${allowed.join(', ')} are)`,
      );
    }
  }
}

function optionalInteger(params: Record<string, unknown>, key: string): number | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || (v as number) < 0) {
    throw new PluginParamError(`${WHERE}.params.${key}`, `must be an integer >= 0, not ${JSON.stringify(v)}`);
  }
  return v as number;
}

function optionalBoolean(params: Record<string, unknown>, key: string): boolean | undefined {
  const v = params[key];
  if (v !== undefined && typeof v !== 'boolean') {
    throw new PluginParamError(`${WHERE}.params.${key}`, `must be true or false, not ${JSON.stringify(v)}`);
  }
  return v;
}

export async function openJobVolume(config: JobConfig): Promise<Volume> {
  const plugin = config.client.chunk_processor;
  if (!plugin) throw new PluginParamError(WHERE, 'is required for volumetric jobs');
  const params = { ...(plugin.params ?? {}) };
  delete params.ingest_job;
  const named = params as PluginParams;
  const name = resolvePluginName(plugin.class);
  switch (name?.kind === 'chunk' ? name.module : undefined) {
    case 'zarr': {
      allowOnly(params, ['cloud_path', 'volume_name', 'scale']);
      const volumeName =
        params.volume_name === undefined ? undefined : stringParam(named, 'volume_name', WHERE);
      return openZarr({
        location: stringParam(named, 'cloud_path', WHERE),
        name: volumeName,
        scale: optionalInteger(params, 'scale'),
      });
    }
    case 'cloudvolume':
      // parallel, progress and cache only tune CloudVolume's own reading: accepted, not needed.
      allowOnly(params, ['cloudpath', 'mip', 'fill_missing', 'parallel', 'progress', 'cache']);
      return openPrecomputed({
        location: stringParam(named, 'cloudpath', WHERE),
        mip: optionalInteger(params, 'mip'),
        fillMissing: optionalBoolean(params, 'fill_missing'),
      });
    case 'intern': {
      allowOnly(params, ['uri', 'host', 'protocol']);
      return openBossVolume({
        uri: stringParam(named, 'uri', WHERE),
        ...sourceBoss(named, WHERE),
        token: sourceToken(),
      });
    }
    default:
      throw new PluginParamError(`${WHERE}.class`, `unknown chunk processor ${JSON.stringify(plugin.class)}`);
  }
}
