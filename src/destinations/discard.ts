/** Accepts every chunk and keeps none: measures the engine without storage. */
import { BOSS_CUBOID, formatChunkShape } from '../extent/grid.js';
import { VolumeError } from '../errors.js';
import type { Destination, DestinationSpecBase } from './types.js';

export interface Discard extends DestinationSpecBase {
  name: 'discard';
}

export const discardDestination: Destination<Discard> = {
  datatypeFrom: 'config', // the config's datatype, else the first tile's
  async resolve(config, facts) {
    const backend = config.client.backend;
    const chunk = backend.name === 'discard' ? backend.chunk_size : undefined;
    return { spec: { name: 'discard', datatype: facts.datatype, chunk: chunk ?? BOSS_CUBOID }, checks: [] };
  },
  describe: (spec) => `discard (${spec.datatype}, ${formatChunkShape(spec.chunk)})`,
  prepare: async (spec) => spec, // nothing to create
  read: async () => undefined, // nothing stored
  write: async () => ({ written: true }),
  checkReadable: async () => {
    throw new VolumeError('the discard destination keeps no chunks: there is nothing to verify');
  },
};
