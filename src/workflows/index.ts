export { cancelSignal, ingestJob, progressQuery, type JobCarry } from './ingest-job.js';
