import type { BatchInput, BatchResult } from '../job/types.js';
import { chunkBatch } from './ingest-batch.js';

const VERIFY_TASK = new URL('../verify/verify-task.js', import.meta.url).href;

/**
 * Compares chunks [first, end) of a job with the destination, on the chunk threads, with the
 * ingest's heartbeats and checkpoints: `written` counts the chunks found equal, `failures` lists
 * the ones that differ (with their first differing voxel) or could not be read.
 */
export function verifyBatch(input: BatchInput): Promise<BatchResult> {
  return chunkBatch(input, VERIFY_TASK);
}
