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

/** A mistake in the command line or the config: exit 2, before any job starts. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
