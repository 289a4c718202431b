/** The activities a boss-ingest worker serves. */
export { ingestBatch } from './ingest-batch.js';
export { prepareJob } from './prepare-job.js';
