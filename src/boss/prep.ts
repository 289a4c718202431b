/**
 * `boss-ingest prep RESOURCES.json`: creates the collection, coordinate frame, experiment and
 * channel a job writes to, in that order, reusing whatever exists (like the original's helper).
 * A uint64 channel is created as `annotation`: the Boss's store drops rewrites of uint64 `image`
 * channels.
 */
import { readFile } from 'node:fs/promises';
import { BossApi, BossError, resourcePaths } from './api.js';
import { requireToken } from './token.js';

export interface ResourcesFile {
  host: string;
  protocol?: 'http' | 'https';
  collection: { name: string; description?: string; public?: boolean };
  coord_frame: {
    name: string;
    description?: string;
    x_start?: number;
    x_stop: number;
    y_start?: number;
    y_stop: number;
    z_start?: number;
    z_stop: number;
    x_voxel_size?: number;
    y_voxel_size?: number;
    z_voxel_size?: number;
    voxel_unit?: string;
  };
  experiment: {
    name: string;
    description?: string;
    num_hierarchy_levels?: number;
    hierarchy_method?: string;
    num_time_samples?: number;
    time_step?: number;
    time_step_unit?: string;
    public?: boolean;
  };
  channel: {
    name: string;
    description?: string;
    type?: string;
    datatype: string;
    base_resolution?: number;
    default_time_sample?: number;
    public?: boolean;
  };
}

export interface PrepStep {
  resource: string;
  action: 'created' | 'exists';
}

export async function loadResources(file: string): Promise<ResourcesFile> {
  const raw = JSON.parse(await readFile(file, 'utf8')) as ResourcesFile;
  for (const key of ['host', 'collection', 'coord_frame', 'experiment', 'channel'] as const) {
    if (!raw[key]) throw new Error(`${file}: "${key}" is required`);
  }
  for (const key of ['collection', 'coord_frame', 'experiment', 'channel'] as const) {
    if (typeof raw[key].name !== 'string') throw new Error(`${file}: ${key}.name is required`);
  }
  if (raw.channel.datatype === 'uint64' && raw.channel.type === 'image')
    throw new Error(
      `${file}: channel.type image cannot hold uint64 data (the Boss drops rewrites of uint64 image channels); use annotation`,
    );
  return raw;
}

async function ensure(
  api: BossApi,
  path: string,
  label: string,
  fields: object,
  steps: PrepStep[],
): Promise<void> {
  try {
    await api.getResource(path);
    steps.push({ resource: label, action: 'exists' });
    return;
  } catch (err) {
    if (!(err instanceof BossError) || err.status !== 404) throw err;
  }
  await api.createResource(path, fields);
  steps.push({ resource: label, action: 'created' });
}

/** `token`: the CLI's `-a`; without it, found the usual way (INTERN_TOKEN, intern.cfg, token.json). */
export async function prepResources(
  r: ResourcesFile,
  token: string | undefined,
  onStep?: (step: PrepStep) => void,
): Promise<PrepStep[]> {
  const baseUrl = `${r.protocol ?? 'https'}://${r.host}`;
  const api = new BossApi(baseUrl, token || requireToken(baseUrl, 'project'));
  const paths = resourcePaths(r.collection.name, r.experiment.name, r.channel.name);
  const steps: PrepStep[] = [];
  const record = (fn: () => Promise<void>) => fn().then(() => onStep?.(steps[steps.length - 1]!));
  const f = r.coord_frame;
  await record(() =>
    ensure(
      api,
      paths.collection,
      `collection ${r.collection.name}`,
      { description: '', public: false, ...r.collection },
      steps,
    ),
  );
  await record(() =>
    ensure(
      api,
      paths.coord(f.name),
      `coordinate frame ${f.name}`,
      {
        description: '',
        x_start: 0,
        y_start: 0,
        z_start: 0,
        x_voxel_size: 1,
        y_voxel_size: 1,
        z_voxel_size: 1,
        voxel_unit: 'nanometers',
        ...f,
      },
      steps,
    ),
  );
  await record(() =>
    ensure(
      api,
      paths.experiment,
      `experiment ${r.collection.name}/${r.experiment.name}`,
      {
        description: '',
        coord_frame: f.name,
        num_hierarchy_levels: 1,
        hierarchy_method: 'anisotropic',
        num_time_samples: 1,
        public: false,
        ...r.experiment,
      },
      steps,
    ),
  );
  await record(() =>
    ensure(
      api,
      paths.channel,
      `channel ${r.collection.name}/${r.experiment.name}/${r.channel.name}`,
      {
        description: '',
        type: r.channel.datatype === 'uint64' ? 'annotation' : 'image',
        base_resolution: 0,
        default_time_sample: 0,
        sources: [],
        related: [],
        public: false,
        ...r.channel,
      },
      steps,
    ),
  );
  return steps;
}
