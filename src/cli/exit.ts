/** Exit codes of every command. */
export const EXIT = {
  completed: 0,
  /** Completed with errors, or failed. */
  errors: 1,
  /** Bad config or arguments. */
  usage: 2,
  cancelled: 3,
  interrupted: 130,
} as const;

export { UsageError } from '../errors.js';
