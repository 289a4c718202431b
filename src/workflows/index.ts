export { cancelSignal, ingestJob, progressQuery, type IngestJobInput, type JobCarry } from './ingest-job.js';
export { pyramidJob, type PyramidJobInput } from './pyramid-job.js';
