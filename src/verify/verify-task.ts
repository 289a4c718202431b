/** Entry point of a chunk thread for verify: one row compared, its outcome as data (see row-task.ts). */
import { rowOutcome, type RowOutcome, type RowTask } from '../chunks/row-task.js';
import { verifyRow } from './row.js';

export default function runVerifyTask(task: RowTask): Promise<RowOutcome> {
  return rowOutcome(() => verifyRow(task.job, task.first, task.end));
}
