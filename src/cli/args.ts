/** The original client's command line, mapped onto ours. */

const SUBCOMMANDS = ['run', 'start', 'worker', 'status', 'cancel', 'validate', 'help'];

/** Maps the original client's spellings onto the subcommands. */
export function normaliseArgs(args: string[]): string[] {
  const out = args.map((a) => (a === '--processes_nb' ? '--processes' : a));
  if (out.length === 0 || SUBCOMMANDS.includes(out[0]!)) return out;
  if (out.includes('-c') || out.includes('--cancel'))
    return ['cancel', ...out.filter((a) => a !== '-c' && a !== '--cancel')];
  if (
    out.every((a) => a.startsWith('-')) &&
    (out.includes('--help') || out.includes('-h') || out.includes('-V') || out.includes('--version'))
  )
    return out;
  return ['run', ...out];
}
