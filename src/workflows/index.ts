export { cancelSignal, ingestJob, progressQuery, type IngestJobInput, type JobCarry } from './ingest-job.js';
export { verifyJob } from './verify-job.js';
export { pyramidJob, type PyramidJobInput } from './pyramid-job.js';
