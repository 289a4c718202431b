export { cancelSignal, ingestJob, progressQuery, type IngestJobInput, type JobCarry } from './ingest-job.js';
