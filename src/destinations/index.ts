/** Where a job's chunks go: the destination interface, its registry, and what they share. */
export * from './registry.js';
export type { Destination, DestinationFacts, Resolved, WriteOutcome } from './types.js';
export { VolumeError } from './zarr.js';
