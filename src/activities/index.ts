/** The activities a boss-ingest worker serves. */
export { bossDownsample } from './boss-downsample.js';
export { ingestBatch } from './ingest-batch.js';
export { prepareJob } from './prepare-job.js';
export { verifyBatch } from './verify-batch.js';
export {
  pyramidBatch,
  pyramidCheckPlan,
  pyramidFinish,
  pyramidOpen,
  pyramidPlan,
  pyramidVolume,
} from './pyramid-batch.js';
