/**
 * Every destination, by backend name, and the only place that picks a module by a spec's name.
 * A new destination is one module implementing `Destination` (types.ts) and one line here.
 * Modules load on first use, so a job never loads the code of a backend it does not write to.
 */
import type { BackendConfig, Datatype, JobConfig } from '../config/types.js';
import type { ChunkBox, Extent } from '../extent/grid.js';
import { TileError, type TileDatatype } from '../tiles/tile.js';
import { storedDatatype } from '../volumes/volume.js';
import type {
  Destination,
  DestinationFacts,
  DestinationSpecBase,
  LentSamples,
  Resolved,
  WriteOutcome,
} from './types.js';
import { VolumeError } from './zarr.js';

const DESTINATIONS = {
  zarr: () => import('./zarr.js').then((m) => m.zarrDestination),
  boss: () => import('./boss.js').then((m) => m.bossDestination),
  discard: () => import('./discard.js').then((m) => m.discardDestination),
};

type Name = keyof typeof DESTINATIONS;
type SpecOf<N extends Name> = Parameters<Awaited<ReturnType<(typeof DESTINATIONS)[N]>>['describe']>[0];

/** Where a job's chunks go: serialisable, resolved once per job from `client.backend`. */
export type DestinationSpec = { [N in Name]: SpecOf<N> }[Name];

function destinationOf(name: BackendConfig['name']): Promise<Destination<DestinationSpecBase>> {
  // Indexed by every backend name the config allows, so a backend without a module does not compile.
  const load: (() => Promise<unknown>) | undefined = DESTINATIONS[name];
  if (!load)
    throw new VolumeError(
      `client.backend.name ${JSON.stringify(name)} is not one of ${Object.keys(DESTINATIONS).join(', ')}`,
    );
  return load() as Promise<Destination<DestinationSpecBase>>;
}

/** The datatype the config sets, if any (else it comes from the source or the destination). */
export function configuredDatatype(config: JobConfig): Datatype | undefined {
  const backend = config.client.backend;
  return 'datatype' in backend ? backend.datatype : undefined;
}

/** What the job knows of its datatype before its destination is resolved. */
export type DatatypeFacts = Pick<DestinationFacts, 'datatype' | 'sourceDatatype'>;

/**
 * Decides the job's datatype, once: the config's, else the first tile's; a destination with a
 * datatype of its own (a Boss channel) decides in `resolve`, given the first tile's to check.
 * `firstTile` is read only when needed.
 */
export async function resolveDatatype(
  config: JobConfig,
  firstTile: () => Promise<TileDatatype | TileError>,
): Promise<DatatypeFacts> {
  const destination = await destinationOf(config.client.backend.name);
  const configured = configuredDatatype(config);
  if (configured && destination.datatypeFrom === 'config') return { datatype: configured };
  const first = await firstTile();
  if (destination.datatypeFrom === 'destination')
    return first instanceof TileError ? {} : { sourceDatatype: first };
  if (first instanceof TileError)
    throw new VolumeError(
      `cannot tell the datatype from the first tile: ${first.message}; set client.backend.datatype (or --datatype)`,
    );
  return { datatype: storedDatatype(first), sourceDatatype: first };
}

/** The job's destination, checked (a Boss's preflight) but not yet prepared. */
export async function resolveDestination(
  config: JobConfig,
  facts: DestinationFacts,
): Promise<Resolved<DestinationSpec>> {
  const destination = await destinationOf(config.client.backend.name);
  if (destination.datatypeFrom === 'destination')
    return destination.resolve(config, facts) as Promise<Resolved<DestinationSpec>>;
  const datatype = facts.datatype;
  if (!datatype)
    throw new VolumeError('cannot tell the datatype: set client.backend.datatype (or --datatype)');
  return destination.resolve(config, { ...facts, datatype }) as Promise<Resolved<DestinationSpec>>;
}

export async function describeDestination(spec: DestinationSpec): Promise<string> {
  return (await destinationOf(spec.name)).describe(spec);
}

export async function prepareDestination(spec: DestinationSpec, extent: Extent): Promise<DestinationSpec> {
  // The destination of a spec's name prepares specs of its own kind, and returns one.
  return (await destinationOf(spec.name)).prepare(spec, extent) as Promise<DestinationSpec>;
}

/** Throws when the destination holds nothing the spec can read back (verify). */
export async function checkReadable(spec: DestinationSpec): Promise<void> {
  await (await destinationOf(spec.name)).checkReadable(spec);
}

/** A destination bound to its spec: what a chunk thread writes through. */
export interface OpenDestination {
  spec: DestinationSpec;
  write(box: ChunkBox, samples: Uint8Array): Promise<WriteOutcome>;
  read(box: ChunkBox): Promise<Uint8Array | undefined>;
  /** As read, in lent memory where the destination can (see Destination.readLent). */
  readLent(box: ChunkBox): Promise<LentSamples | undefined>;
}

/**
 * The destination of the spec, bound to it. Not cached by spec: a row's spec may carry the
 * pyramid samples its parts go into (PartStage.hold), which a key made of the spec would copy.
 */
export async function openDestination(spec: DestinationSpec): Promise<OpenDestination> {
  const d = await destinationOf(spec.name);
  return {
    spec,
    write: (box, samples) => d.write(spec, box, samples),
    read: (box) => d.read(spec, box),
    readLent: async (box) => {
      if (d.readLent) return d.readLent(spec, box);
      const samples = await d.read(spec, box);
      return samples && { samples, release: () => undefined };
    },
  };
}
